"""Organisation services: the department tree, employees and their account states.

Screens and the REST API both call these functions, so the rules live in one place.
Each public function is one transaction: it commits all of its change or none of it.
"""
from __future__ import annotations

import uuid
from typing import Iterable, Optional, Sequence

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import sessions
from app.errors import CrmError, NotFound, unit_of_work
from app.inputs import check_attr, parse_id
from app.phone import normalise_mobile  # noqa: F401  (re-exported for older imports)
from app.extensions import db
from models.org import AccountState, Department, Employee

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128  # a hash is made of it on every login: a megabyte 'password' is an attack

signals = Namespace()
# sent inside the resign transaction: receivers move the employee's records (customers, ...)
# to `handover_to` (an Employee) or, when it is None, to the public pool
employee_resigned = signals.signal("employee-resigned")
# sent inside the transaction that disables an employee (their seat is freed, see app/seats.py)
employee_disabled = signals.signal("employee-disabled")


# ---------------------------------------------------------------- validation helpers

def check_password(password: Optional[str], *, login: Optional[str] = None, mobile: Optional[str] = None) -> str:
    """The password rule of every path that sets one (add employee, 重置密码, 重置登录账号, 修改密码, the
    `crm` commands, the first administrator): 8 to 128 characters, not one character repeated, and not the
    employee's login or mobile number (however it is written: '138 0013 8000' is 13800138000)."""
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise CrmError(
            _l("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH), field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise CrmError(_l("The password can be at most %(n)d characters long.", n=MAX_PASSWORD_LENGTH),
                       field="password")
    if len(set(password)) == 1:
        raise CrmError(_l("The password cannot be one character repeated."), field="password")
    own = {str(value).strip().lower() for value in (login, mobile) if value}
    if own:
        candidates = {password.strip().lower()}
        try:
            candidates.add(normalise_mobile(password))
        except CrmError:
            pass
        if candidates & own:
            raise CrmError(_l("The password cannot be the login or the mobile number."), field="password")
    return password


def check_name(name: Optional[str], field: str = "name", max_length: int = 64) -> str:
    name = (name or "").strip()
    if not name:
        raise CrmError(_l("The name cannot be empty."), field=field)
    if len(name) > max_length:
        raise CrmError(_l("The name is too long (at most %(n)d characters).", n=max_length), field=field)
    return name


def hash_password(password: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(
        password,
        method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


def get_department(department_id) -> Department:
    department = db.session.get(Department, _as_id(department_id))
    if department is None:
        raise NotFound(_l("This department does not exist."), field="department")
    return department


def get_employee(employee_id, field: str = "id") -> Employee:
    employee = db.session.get(Employee, _as_id(employee_id))
    if employee is None:
        raise NotFound(_l("This employee does not exist."), field=field)
    return employee


def _as_id(value) -> int:
    return parse_id(value)  # 'x' or an id past INTEGER: no such record (404), never a database error


# ---------------------------------------------------------------- departments

def department_subtree_ids(department: Department):
    """A select of the ids of `department` and every department below it (one indexed prefix scan)."""
    return select(Department.id).where(Department.path.startswith(department.path, autoescape=True))


def _check_sibling_name(name: str, parent_id: Optional[int], exclude_id: Optional[int] = None) -> None:
    same_parent = Department.parent_id.is_(None) if parent_id is None else Department.parent_id == parent_id
    query = select(Department.id).where(Department.name == name, same_parent)
    if exclude_id is not None:
        query = query.where(Department.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise CrmError(_l("A department with this name already exists at this level."), field="name")


def create_department(name: str, parent_id=None, sort_order: int = 0) -> Department:
    name = check_name(name)
    with unit_of_work():
        parent = get_department(parent_id) if parent_id not in (None, "") else None
        _check_sibling_name(name, parent.id if parent else None)
        department = Department(name=name, parent=parent, path="",
                                sort_order=check_attr(Department, "sort_order", int(sort_order or 0)))
        db.session.add(department)
        db.session.flush()
        department.path = f"{parent.path if parent else '/'}{department.id}/"
    return department


def update_department(department_id, name: Optional[str] = None, parent_id=..., sort_order=None) -> Department:
    """Rename and/or move (with its whole subtree) as one change; `parent_id=None` moves it to the top."""
    with unit_of_work():
        department = get_department(department_id)
        new_name = check_name(name) if name is not None else department.name
        new_parent = department.parent
        if parent_id is not ...:
            new_parent = get_department(parent_id) if parent_id not in (None, "") else None
        _check_sibling_name(new_name, new_parent.id if new_parent else None, exclude_id=department.id)
        department.name = new_name
        if parent_id is not ...:
            _move(department, new_parent)
        if sort_order is not None:
            department.sort_order = check_attr(Department, "sort_order", int(sort_order))
    return db.session.get(Department, department.id)


def rename_department(department_id, name: str) -> Department:
    return update_department(department_id, name=name)


def move_department(department_id, new_parent_id) -> Department:
    return update_department(department_id, parent_id=new_parent_id)


def _move(department: Department, new_parent: Optional[Department]) -> None:
    if new_parent is not None and new_parent.path.startswith(department.path):
        raise CrmError(
            _l("A department cannot be moved under itself or one of its sub-departments."), field="parent"
        )
    old_path = department.path
    new_path = f"{new_parent.path if new_parent else '/'}{department.id}/"
    department.parent = new_parent
    db.session.flush()
    if new_path != old_path:
        # one statement rewrites the path prefix of the whole subtree
        db.session.execute(
            update(Department)
            .where(Department.path.startswith(old_path, autoescape=True))
            .values(path=new_path + func.substr(Department.path, len(old_path) + 1))
            .execution_options(synchronize_session=False)
        )
        db.session.expire_all()


def delete_department(department_id) -> None:
    with unit_of_work():
        department = get_department(department_id)
        if db.session.scalar(select(func.count()).where(Department.parent_id == department.id)):
            raise CrmError(_l("This department still has sub-departments; move or delete them first."))
        if db.session.scalar(select(func.count()).where(Employee.department_id == department.id)):
            raise CrmError(_l("This department still has employees; move them to another department first."))
        db.session.delete(department)


# ---------------------------------------------------------------- employees

def _check_mobile_free(mobile: str, exclude_id: Optional[int] = None) -> None:
    query = select(Employee.id).where((Employee.mobile == mobile) | (Employee.username == mobile))
    if exclude_id is not None:
        query = query.where(Employee.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise CrmError(_l("This mobile number is already used by another employee."), field="mobile")


def _check_manager(employee: Optional[Employee], manager: Optional[Employee]) -> None:
    """Refuse a manager chain that would loop back to the employee."""
    if manager is None or employee is None or employee.id is None:
        return
    seen, node = set(), manager
    while node is not None and node.id not in seen:
        if node.id == employee.id:
            raise CrmError(
                _l("The direct manager cannot be the employee or someone who reports to them."), field="manager"
            )
        seen.add(node.id)
        node = node.manager


def _roles(role_ids: Optional[Iterable]) -> list:
    role_model = current_app.appbuilder.sm.role_model
    ids = [_as_id(r) for r in (role_ids or [])]
    roles = list(db.session.scalars(select(role_model).where(role_model.id.in_(ids)))) if ids else []
    if len(roles) != len(set(ids)):
        raise CrmError(_l("This role does not exist."), field="roles")
    from app.roles import check_one_role_per_kind  # app.roles builds on this module

    check_one_role_per_kind(roles)
    return roles


def _apply_profile(employee: Employee, *, name=..., department_id=..., role_ids=..., manager_id=..., gender=...,
                   seat_id=...):
    if name is not ...:
        employee.first_name = check_name(name)
        employee.last_name = ""
    if department_id is not ...:
        if department_id in (None, ""):
            raise CrmError(_l("Please choose a department."), field="department")
        employee.department = get_department(department_id)
    if role_ids is not ...:
        employee.roles = _roles(role_ids)
    if manager_id is not ...:
        manager = get_employee(manager_id, field="manager") if manager_id not in (None, "") else None
        _check_manager(employee, manager)
        employee.manager = manager
    if gender is not ...:
        if gender not in (None, "", "male", "female"):
            raise CrmError(_l("Unknown gender."), field="gender")
        employee.gender = gender or None
    if seat_id is not ...:
        from app.seats import assign_to_employee  # seats import this module's signals

        db.session.flush()
        assign_to_employee(employee, seat_id)


def create_employee(*, name, mobile, password, department_id, role_ids=(), manager_id=None, gender=None,
                    seat_id=None) -> Employee:
    """A new employee starts 未激活 (not activated) until an administrator activates the account."""
    mobile = normalise_mobile(mobile)
    password = check_password(password, login=mobile, mobile=mobile)
    with unit_of_work():
        _check_mobile_free(mobile)
        employee = Employee(
            username=mobile,
            mobile=mobile,
            email=f"{uuid.uuid4().hex}@employee.invalid",
            password=hash_password(password),
            state=AccountState.INACTIVE.value,
            active=False,
            first_name="",
            last_name="",
        )
        db.session.add(employee)
        with db.session.no_autoflush:
            _apply_profile(employee, name=name, department_id=department_id, role_ids=role_ids, gender=gender)
        db.session.flush()
        _apply_profile(employee, manager_id=manager_id)
        if seat_id not in (None, ""):
            _apply_profile(employee, seat_id=seat_id)
        _audit_account(employee, "create", {"login": (None, _masked(mobile)),
                                            **{k: (None, v) for k, v in _profile_values(employee).items() if v}})
    return employee


def _masked(mobile: Optional[str]) -> Optional[str]:
    from app.fieldperms import mask_mobile

    return mask_mobile(mobile) if mobile and mobile != "admin" else mobile


def _audit_account(employee: Employee, op: str, changes: Optional[dict] = None) -> None:
    """新建员工, 重置密码, 重置登录账号 go into the audit trail (a login mobile masked, never a password)."""
    from app import audit

    audit.record("employee_change", module="employee", record_ids=[employee.id], changes=changes or None,
                 detail={"op": op, "name": employee.first_name})


def update_employee(employee_id, **changes) -> Employee:
    """Change name, department, roles, manager or gender. Login and password have their own actions."""
    allowed = {"name", "department_id", "role_ids", "manager_id", "gender", "seat_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise CrmError(_l("These fields cannot be changed here: %(f)s", f=", ".join(sorted(unknown))))
    with unit_of_work():
        employee = get_employee(employee_id)
        before = _profile_values(employee)
        _apply_profile(employee, **changes)
        after = _profile_values(employee)
        from app import audit

        changed = audit.diff(before, after)
        if changed:
            audit.record("employee_change", module="employee", record_ids=[employee.id], changes=changed)
    return employee


def _profile_values(employee: Employee) -> dict:
    return {"name": employee.first_name, "department_id": employee.department_id,
            "role_ids": sorted(role.id for role in employee.roles), "manager_id": employee.manager_id,
            "gender": getattr(employee, "gender", None), "seat_id": getattr(employee, "seat_id", None)}


def _set_state(employee: Employee, state: AccountState, end_sessions: bool) -> None:
    from app import audit

    if employee.state != state.value:
        audit.record("employee_change", module="employee", record_ids=[employee.id],
                     changes={"state": (employee.state, state.value)})
    employee.state = state.value
    employee.active = state is AccountState.ACTIVE
    if end_sessions:
        sessions.end_all(employee)


def _employees(ids: Sequence) -> list[Employee]:
    if not ids:
        raise CrmError(_l("Please select at least one employee."))
    return [get_employee(i) for i in dict.fromkeys(ids)]


def _protect_self_and_admin(employee: Employee, acting: Optional[Employee]) -> None:
    if acting is not None and employee.id == acting.id:
        raise CrmError(_l("You cannot disable or resign your own account."))
    if employee.username == "admin":
        raise CrmError(_l("The built-in administrator cannot be disabled or resigned."))


def activate_employees(ids: Sequence) -> list[Employee]:
    with unit_of_work():
        employees = _employees(ids)
        for employee in employees:
            _set_state(employee, AccountState.ACTIVE, end_sessions=False)
    return employees


def disable_employees(ids: Sequence, acting: Optional[Employee] = None) -> list[Employee]:
    with unit_of_work():
        employees = _employees(ids)
        for employee in employees:
            _protect_self_and_admin(employee, acting)
            _set_state(employee, AccountState.DISABLED, end_sessions=True)
            employee_disabled.send(employee)
    return employees


def resign_employees(ids: Sequence, handover_to_id=None, acting: Optional[Employee] = None) -> list[Employee]:
    """办理离职: end the accounts, hand their records to another employee (or the public pool when
    `handover_to_id` is None), and let their direct reports report to the leaver's own manager."""
    with unit_of_work():
        employees = _employees(ids)
        leaving = {e.id for e in employees}
        handover_to = None
        if handover_to_id not in (None, ""):
            handover_to = get_employee(handover_to_id, field="handover_to")
            if handover_to.id in leaving:
                raise CrmError(_l("Customers cannot be handed over to an employee who is leaving."), field="handover_to")
            if handover_to.state != AccountState.ACTIVE.value:
                raise CrmError(_l("Customers can only be handed over to an active employee."), field="handover_to")
        for employee in employees:
            _protect_self_and_admin(employee, acting)
            new_manager = employee.manager
            while new_manager is not None and new_manager.id in leaving:
                new_manager = new_manager.manager
            for report in list(employee.subordinates):
                if report.id not in leaving:
                    report.manager = new_manager
            _set_state(employee, AccountState.RESIGNED, end_sessions=True)
            employee_resigned.send(employee, handover_to=handover_to)
    return employees


def reset_password(employee_id, password: str) -> Employee:
    with unit_of_work():
        employee = get_employee(employee_id)
        password = check_password(password, login=employee.username, mobile=employee.mobile)
        employee.password = hash_password(password)
        sessions.end_all(employee)
        _audit_account(employee, "reset_password")
    return employee


def reset_login(employee_id, mobile: str, password: str) -> Employee:
    """重置登录账号: a new login mobile and a new password; old sessions end."""
    mobile = normalise_mobile(mobile)
    password = check_password(password, login=mobile, mobile=mobile)
    with unit_of_work():
        employee = get_employee(employee_id)
        if employee.username == "admin":
            raise CrmError(_l("The built-in administrator keeps the login name admin."))
        _check_mobile_free(mobile, exclude_id=employee.id)
        _audit_account(employee, "reset_login", {"login": (_masked(employee.username), _masked(mobile))})
        employee.username = mobile
        employee.mobile = mobile
        employee.password = hash_password(password)
        sessions.end_all(employee)
    return employee
