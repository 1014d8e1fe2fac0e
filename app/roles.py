"""设置 → 角色权限 as services: roles of two kinds (客户管理角色 / 呼叫中心角色) and what each may do.

A role's matrix has four parts, always written together in one transaction:
- 模块功能: FAB permission-view rows (`can_<action>` on the module key), so FAB's own checks decide
  every request; the module's menu entry follows its view right;
- 数据分析: the data-center statistics (RoleProfile.analysis);
- 数据权限: the data scope (RoleProfile.data_scope), applied by app/scopes.py;
- field permissions: RoleFieldPermission rows (no row = editable), applied by app/fieldperms.py.
The administrator role (管理员) has everything: it is not renamed, deleted or narrowed.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from flask import current_app
from flask_appbuilder.security.sqla.models import assoc_permissionview_role, assoc_user_role
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app import fieldperms
from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.organisation import check_name
from app.permissions import ACTIONS, ADMIN_ROLE, ANALYSIS, EVERYONE, MODULES, ROLE_KINDS
from models.org import AccountState, Employee
from models.roles import DATA_SCOPES, FIELD_ACCESS, RoleFieldPermission, RoleProfile

MATRIX_KEYS = ("modules", "analysis", "data_scope", "fields")


def _sm():
    return current_app.appbuilder.sm


def _role_model():
    return _sm().role_model


# ---------------------------------------------------------------- reading

def is_admin_role(role) -> bool:
    return role.name == ADMIN_ROLE


def get_role(role_id):
    try:
        role = db.session.get(_role_model(), int(role_id))
    except (TypeError, ValueError):
        role = None
    if role is None:
        raise NotFound(_l("This role does not exist."))
    return role


def profile_of(role, create: bool = False) -> RoleProfile:
    """The role's profile; a role made outside these services is a customer role seeing its own records
    (`create` adds that default to the session, for a change)."""
    found = db.session.get(RoleProfile, role.id)
    if found is None:
        found = RoleProfile(role_id=role.id, kind="customer", data_scope="self", analysis="")
        if create:
            db.session.add(found)
    return found


def kinds_of(role_ids: Iterable[int]) -> dict[int, str]:
    ids = list(role_ids)
    found = dict(db.session.execute(select(RoleProfile.role_id, RoleProfile.kind)
                                    .where(RoleProfile.role_id.in_(ids))).all()) if ids else {}
    return {role_id: found.get(role_id, "customer") for role_id in ids}


def list_roles(kind: Optional[str] = None) -> list:
    """Roles of one kind (or all), the administrator first, then in creation order."""
    role = _role_model()
    query = select(role).outerjoin(RoleProfile, RoleProfile.role_id == role.id)
    if kind is not None:
        _check_kind(kind)
        query = query.where(func.coalesce(RoleProfile.kind, "customer") == kind)
    return sorted(db.session.scalars(query.order_by(role.id)), key=lambda r: not is_admin_role(r))


def holder_counts(role_ids: Iterable[int]) -> dict[int, int]:
    """How many employees (resigned ones aside) hold each role."""
    ids = list(role_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(assoc_user_role.c.role_id, func.count()).join(Employee, Employee.id == assoc_user_role.c.user_id)
        .where(assoc_user_role.c.role_id.in_(ids), Employee.state != AccountState.RESIGNED.value)
        .group_by(assoc_user_role.c.role_id)).all()
    return {role_id: 0 for role_id in ids} | dict(rows)


def _analysis_keys(text: Optional[str]) -> list[str]:
    return [key for key in (text or "").split(",") if key in ANALYSIS]


def read_matrix(role_id) -> dict[str, Any]:
    """{"modules": {module: [action, ...]}, "analysis": [...], "data_scope": ...,
    "fields": {module: {field: access}}}"""
    role = get_role(role_id)
    if is_admin_role(role):
        return {"modules": {m: list(actions) for m, (_label, actions) in MODULES.items()},
                "analysis": list(ANALYSIS), "data_scope": "all", "fields": {}}
    held = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
    modules = {m: [a for a in actions if (f"can_{a}", m) in held] for m, (_label, actions) in MODULES.items()}
    profile = profile_of(role)
    fields: dict[str, dict[str, str]] = {}
    for row in db.session.scalars(select(RoleFieldPermission).where(RoleFieldPermission.role_id == role.id)
                                  .order_by(RoleFieldPermission.module, RoleFieldPermission.id)):
        fields.setdefault(row.module, {})[row.field] = row.access
    return {"modules": {m: actions for m, actions in modules.items() if actions},
            "analysis": _analysis_keys(profile.analysis), "data_scope": profile.data_scope, "fields": fields}


def user_analysis(user) -> set[str]:
    """The statistics an employee may see in the data center: the union of their roles'."""
    if user is None or getattr(user, "is_anonymous", False) or not getattr(user, "id", None):
        return set()
    if any(is_admin_role(role) for role in user.roles):
        return set(ANALYSIS)
    ids = [role.id for role in user.roles]
    texts = db.session.scalars(select(RoleProfile.analysis).where(RoleProfile.role_id.in_(ids))) if ids else []
    return {key for text in texts for key in _analysis_keys(text)}


# ---------------------------------------------------------------- validation

def _check_kind(kind) -> str:
    if kind not in ROLE_KINDS:
        raise CrmError(_l("Unknown role kind: choose customer or call_center."), field="kind")
    return kind


def _check_name_free(name: str, exclude_id: Optional[int] = None) -> None:
    role = _role_model()
    query = select(role.id).where(role.name == name)
    if exclude_id is not None:
        query = query.where(role.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise CrmError(_l("A role with this name already exists."), field="name")


def _refuse_admin(role, message) -> None:
    if is_admin_role(role):
        raise CrmError(message)


def validate_matrix(matrix: Any) -> dict[str, Any]:
    """Check every part of a (partial) matrix; return it normalised. Nothing is written here."""
    if not isinstance(matrix, dict):
        raise CrmError(_l("The permissions must be a JSON object."))
    unknown = set(matrix) - set(MATRIX_KEYS)
    if unknown:
        raise CrmError(_l("Unknown part of the permissions: %(keys)s", keys=", ".join(sorted(unknown))))
    clean: dict[str, Any] = {}
    if "modules" in matrix:
        modules = matrix["modules"]
        if not isinstance(modules, dict):
            raise CrmError(_l("\"modules\" must map module keys to lists of actions."), field="modules")
        clean["modules"] = {}
        for module, actions in modules.items():
            if module not in MODULES:
                raise CrmError(_l("Unknown module: %(module)s", module=module), field="modules")
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                raise CrmError(_l("\"modules\" must map module keys to lists of actions."), field="modules")
            for action in actions:
                if action not in MODULES[module][1]:
                    raise CrmError(_l("%(module)s has no action %(action)s.", module=MODULES[module][0],
                                      action=ACTIONS.get(action, action)), field="modules")
            clean["modules"][module] = list(dict.fromkeys(actions))
    if "analysis" in matrix:
        analysis = matrix["analysis"]
        if not isinstance(analysis, list) or not all(isinstance(k, str) for k in analysis):
            raise CrmError(_l("\"analysis\" must be a list of statistic keys."), field="analysis")
        for key in analysis:
            if key not in ANALYSIS:
                raise CrmError(_l("Unknown statistic: %(key)s", key=key), field="analysis")
        clean["analysis"] = list(dict.fromkeys(analysis))
    if "data_scope" in matrix:
        if matrix["data_scope"] not in DATA_SCOPES:
            raise CrmError(_l("Unknown data scope: choose one of %(scopes)s.", scopes=", ".join(DATA_SCOPES)),
                           field="data_scope")
        clean["data_scope"] = matrix["data_scope"]
    if "fields" in matrix:
        clean["fields"] = _validate_fields(matrix["fields"])
    return clean


def _validate_fields(fields: Any) -> dict[str, dict[str, str]]:
    if not isinstance(fields, dict) or not all(isinstance(v, dict) for v in fields.values()):
        raise CrmError(_l("\"fields\" must map module keys to {field: access}."), field="fields")
    clean: dict[str, dict[str, str]] = {}
    for module, accesses in fields.items():
        if module not in MODULES:
            raise CrmError(_l("Unknown module: %(module)s", module=module), field="fields")
        known, maskable = set(fieldperms.module_fields(module)), fieldperms.maskable_fields(module)
        for field, access in accesses.items():
            if field not in known:
                raise CrmError(_l("%(module)s has no field %(field)s.", module=MODULES[module][0], field=field),
                               field="fields")
            if access not in FIELD_ACCESS:
                raise CrmError(_l("Unknown field access %(access)s: choose editable, read_only, hidden or masked.",
                                  access=access), field="fields")
            if access == fieldperms.MASKED and field not in maskable:
                raise CrmError(_l("Only a mobile number can be masked (%(field)s is not one).", field=field),
                               field="fields")
        # editable is the default: no row
        clean[module] = {f: a for f, a in accesses.items() if a != fieldperms.EDITABLE}
    return clean


# ---------------------------------------------------------------- writing

def _permission_views(view_names: Iterable[str]) -> dict[tuple[str, str], Any]:
    """(permission, view menu) -> FAB permission-view row, for the given view menus, in one query."""
    sm = _sm()
    pv, perm, view = sm.permissionview_model, sm.permission_model, sm.viewmenu_model
    rows = db.session.execute(select(pv, perm.name, view.name).join(perm, pv.permission_id == perm.id)
                              .join(view, pv.view_menu_id == view.id).where(view.name.in_(list(view_names))))
    return {(permission, view_name): row for row, permission, view_name in rows}


def _set_module_rights(role, modules: dict[str, list[str]]) -> None:
    # menus need no rows of their own: app.security shows an entry when its screen may be opened
    matrix = {(f"can_{a}", m) for m, (_label, actions) in MODULES.items() for a in actions}
    wanted = {(f"can_{a}", m) for m, actions in modules.items() for a in actions}
    rows = _permission_views({view for _perm, view in matrix})
    if any(pair not in rows for pair in wanted):
        raise CrmError(_l("The permissions are not set up yet: run `flask crm init`."))
    keep = [pv for pv in role.permissions if (pv.permission.name, pv.view_menu.name) not in matrix]
    role.permissions = keep + [rows[pair] for pair in sorted(wanted) if pair in rows]


def _set_fields(role, fields: dict[str, dict[str, str]]) -> None:
    db.session.execute(delete(RoleFieldPermission).where(RoleFieldPermission.role_id == role.id))
    db.session.add_all(RoleFieldPermission(role_id=role.id, module=module, field=field, access=access)
                       for module, accesses in fields.items() for field, access in accesses.items())


def _apply_matrix(role, clean: dict[str, Any]) -> None:
    profile = profile_of(role, create=True)
    if "modules" in clean:
        _set_module_rights(role, clean["modules"])
    if "analysis" in clean:
        profile.analysis = ",".join(clean["analysis"])
    if "data_scope" in clean:
        profile.data_scope = clean["data_scope"]
    if "fields" in clean:
        _set_fields(role, clean["fields"])


def write_matrix(role_id, matrix: Any) -> dict[str, Any]:
    """Replace the parts of the role's matrix that `matrix` names (a module it leaves out loses every
    right; a field it leaves out is editable); the parts it does not name stay. All or nothing."""
    clean = validate_matrix(matrix)
    with unit_of_work():
        role = get_role(role_id)
        _refuse_admin(role, _l("The administrator role always has every permission; it cannot be changed."))
        before = read_matrix(role.id)
        _apply_matrix(role, clean)
        db.session.flush()
        after = read_matrix(role.id)
        from app import audit

        changed = audit.diff(before, after)
        fields = {"fields": changed.pop("fields")} if "fields" in changed else None
        if changed:  # rights, statistics, data scope
            audit.record("role_change", module="role", record_ids=[role.id], changes=changed,
                         detail={"role": role.name})
        if fields:
            audit.record("field_permission_change", module="role", record_ids=[role.id], changes=fields,
                         detail={"role": role.name})
    return read_matrix(role.id)


def _audit_role(action: str, role, changes: dict, **detail) -> None:
    from app import audit

    audit.record(action, module="role", record_ids=[role.id], changes=changes or None,
                 detail={"role": role.name, **detail})


def create_role(name: str, kind: str = "customer") -> Any:
    """新建角色: a role of `kind` that may only see its own profile until its matrix is set."""
    name = check_name(name)
    _check_kind(kind)
    with unit_of_work():
        _check_name_free(name)
        role = _role_model()(name=name)
        db.session.add(role)
        db.session.flush()
        db.session.add(RoleProfile(role_id=role.id, kind=kind, data_scope="self", analysis=""))
        rows = _permission_views({view for _perm, view in EVERYONE})
        role.permissions = [rows[pair] for pair in EVERYONE if pair in rows]
        _audit_role("role_create", role, {"name": (None, name), "kind": (None, kind)})
    return role


def _check_holders_for_kind(role, kind: str) -> None:
    """Changing a role's kind must not give one of its holders two roles of the same kind."""
    holders = select(assoc_user_role.c.user_id).where(assoc_user_role.c.role_id == role.id)
    clash = db.session.scalar(
        select(Employee.first_name).join(assoc_user_role, assoc_user_role.c.user_id == Employee.id)
        .outerjoin(RoleProfile, RoleProfile.role_id == assoc_user_role.c.role_id)
        .where(Employee.id.in_(holders), assoc_user_role.c.role_id != role.id,
               func.coalesce(RoleProfile.kind, "customer") == kind).limit(1))
    if clash is not None:
        raise CrmError(_l("%(name)s would hold two roles of the same kind.", name=clash), field="kind")


def update_role(role_id, name: Optional[str] = None, kind: Optional[str] = None) -> Any:
    """Rename and/or change the kind; the administrator role keeps its name."""
    with unit_of_work():
        role = get_role(role_id)
        profile = profile_of(role, create=True)
        before: dict[str, Any] = {}
        if name is not None:
            name = check_name(name)
            if name != role.name:
                _refuse_admin(role, _l("The administrator role cannot be renamed."))
                _check_name_free(name, exclude_id=role.id)
                before["name"] = role.name
                role.name = name
        if kind is not None and kind != profile.kind:
            _check_kind(kind)
            _refuse_admin(role, _l("The administrator role cannot be changed."))
            _check_holders_for_kind(role, kind)
            before["kind"] = profile.kind
            profile.kind = kind
        changes = {k: (v, role.name if k == "name" else profile.kind) for k, v in before.items()}
        if changes:
            _audit_role("role_change", role, changes)
    return role


def delete_role(role_id) -> None:
    """Refused while employees (other than resigned ones) hold it; resigned holders simply lose it."""
    with unit_of_work():
        role = get_role(role_id)
        _refuse_admin(role, _l("The administrator role cannot be deleted."))
        held = holder_counts([role.id])[role.id]
        if held:
            raise CrmError(_l("%(n)d employee(s) still hold this role; give them another role first.", n=held))
        _audit_role("role_delete", role, {"name": (role.name, None)}, matrix=read_matrix(role.id))
        # in SQL, so the ORM does not load the holders (FAB's User, not our Employee) to unlink them
        role_table = _role_model().__table__
        for table, column in ((assoc_user_role, assoc_user_role.c.role_id),
                              (assoc_permissionview_role, assoc_permissionview_role.c.role_id),
                              (RoleFieldPermission.__table__, RoleFieldPermission.role_id),
                              (RoleProfile.__table__, RoleProfile.role_id), (role_table, role_table.c.id)):
            db.session.execute(delete(table).where(column == role.id))
        db.session.expunge(role)


def copy_role(role_id, name: str) -> Any:
    """复制: a new role with the same kind, rights, statistics, data scope and field permissions."""
    name = check_name(name)
    with unit_of_work():
        source = get_role(role_id)
        _check_name_free(name)
        source_profile = profile_of(source)
        role = _role_model()(name=name)
        db.session.add(role)
        db.session.flush()
        db.session.add(RoleProfile(role_id=role.id, kind=source_profile.kind, analysis=source_profile.analysis,
                                   data_scope="all" if is_admin_role(source) else source_profile.data_scope))
        role.permissions = list(source.permissions)
        db.session.add_all(RoleFieldPermission(role_id=role.id, module=row.module, field=row.field, access=row.access)
                           for row in db.session.scalars(select(RoleFieldPermission)
                                                         .where(RoleFieldPermission.role_id == source.id)))
        db.session.flush()
        _audit_role("role_create", role, {"name": (None, name), "kind": (None, source_profile.kind)},
                    copied_from=source.name)
    return role


def copy_name(role) -> str:
    """A free name for a copy: "销售 副本", "销售 副本2", ..."""
    base = str(_l("%(name)s copy", name=role.name))
    name, n = base, 1
    while db.session.scalar(select(_role_model().id).where(_role_model().name == name)) is not None:
        n += 1
        name = f"{base}{n}"
    return name


# ---------------------------------------------------------------- employees

def check_one_role_per_kind(roles: list) -> None:
    """An employee holds at most one customer-management role and one call-center role."""
    kinds = kinds_of(role.id for role in roles)
    seen: dict[str, Any] = {}
    for role in roles:
        kind = kinds[role.id]
        if kind in seen:
            raise CrmError(_l("An employee holds at most one %(kind)s: %(a)s and %(b)s are both one.",
                              kind=ROLE_KINDS[kind], a=seen[kind].name, b=role.name), field="roles")
        seen[kind] = role
