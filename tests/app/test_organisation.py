"""The organisation services, as an administrator uses them: the department tree, employees,
account states, and every refusal leaving the data as it was."""
import pytest
from sqlalchemy import func, select

from app import organisation as org
from app.errors import CrmError
from app.extensions import db
from models.org import AccountState, Department, Employee

pytestmark = pytest.mark.usefixtures("ctx")


def _tree():
    top = org.create_department("总公司")
    sales = org.create_department("销售部", top.id)
    team = org.create_department("销售一组", sales.id)
    service = org.create_department("客服部", top.id)
    return top, sales, team, service


def _employee(name, mobile, department, manager=None):
    return org.create_employee(name=name, mobile=mobile, password="secret12", department_id=department.id,
                               manager_id=manager.id if manager else None)


def test_department_paths_make_the_subtree_one_prefix_query():
    top, sales, team, service = _tree()
    assert team.path == f"/{top.id}/{sales.id}/{team.id}/"
    ids = set(db.session.scalars(org.department_subtree_ids(sales)))
    assert ids == {sales.id, team.id}


def test_moving_a_department_moves_its_subtree():
    top, sales, team, service = _tree()
    org.move_department(sales.id, service.id)
    db.session.expire_all()
    assert db.session.get(Department, team.id).path == f"/{top.id}/{service.id}/{sales.id}/{team.id}/"
    assert set(db.session.scalars(org.department_subtree_ids(db.session.get(Department, service.id)))) == {
        service.id, sales.id, team.id}


def test_moving_a_department_under_its_own_child_is_refused():
    top, sales, team, service = _tree()
    with pytest.raises(CrmError) as refused:
        org.move_department(sales.id, team.id)
    assert "sub-department" in str(refused.value) or "下级" in str(refused.value)
    db.session.expire_all()
    assert db.session.get(Department, sales.id).parent_id == top.id
    assert db.session.get(Department, team.id).path == f"/{top.id}/{sales.id}/{team.id}/"


def test_moving_a_department_to_the_top():
    top, sales, team, service = _tree()
    org.move_department(sales.id, None)
    db.session.expire_all()
    assert db.session.get(Department, team.id).path == f"/{sales.id}/{team.id}/"


def test_sibling_departments_need_different_names():
    top, sales, team, service = _tree()
    with pytest.raises(CrmError):
        org.create_department("销售部", top.id)
    with pytest.raises(CrmError):
        org.rename_department(service.id, "销售部")
    assert org.create_department("销售部", service.id).parent_id == service.id  # another level is fine


def test_department_needs_a_name():
    with pytest.raises(CrmError):
        org.create_department("   ")
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_deleting_a_department_with_children_or_members_is_refused():
    top, sales, team, service = _tree()
    with pytest.raises(CrmError, match="sub-departments|下级"):
        org.delete_department(sales.id)
    _employee("客服小王", "13900000001", service)
    with pytest.raises(CrmError, match="employees|员工"):
        org.delete_department(service.id)
    org.delete_department(team.id)
    assert db.session.get(Department, team.id) is None
    assert db.session.get(Department, service.id) is not None


def test_a_new_employee_logs_in_with_the_mobile_and_starts_not_activated():
    top, *_ = _tree()
    employee = org.create_employee(name="张三", mobile="138 0013 8000", password="secret12", department_id=top.id)
    assert employee.username == employee.mobile == "13800138000"
    assert employee.state == AccountState.INACTIVE.value
    assert not employee.is_active


@pytest.mark.parametrize("mobile", ["", "1380013800", "23800138000", "138001380001", "abcdefghijk", "12800138000"])
def test_malformed_mobile_is_refused(mobile):
    top, *_ = _tree()
    with pytest.raises(CrmError) as refused:
        org.create_employee(name="张三", mobile=mobile, password="secret12", department_id=top.id)
    assert refused.value.field == "mobile"
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 1  # only admin


def test_duplicate_mobile_is_refused():
    top, *_ = _tree()
    _employee("张三", "13800138000", top)
    with pytest.raises(CrmError) as refused:
        _employee("李四", "+86 138-0013-8000", top)
    assert refused.value.field == "mobile"
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 2


def test_empty_name_and_short_password_are_refused():
    top, *_ = _tree()
    with pytest.raises(CrmError) as refused:
        org.create_employee(name=" ", mobile="13800138000", password="secret12", department_id=top.id)
    assert refused.value.field == "name"
    with pytest.raises(CrmError) as refused:
        org.create_employee(name="张三", mobile="13800138000", password="123", department_id=top.id)
    assert refused.value.field == "password"
    with pytest.raises(CrmError) as refused:
        org.create_employee(name="张三", mobile="13800138000", password="secret12", department_id=None)
    assert refused.value.field == "department"
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 1


def test_manager_cycle_is_refused_and_nothing_changes():
    top, *_ = _tree()
    boss = _employee("老板", "13800000001", top)
    middle = _employee("经理", "13800000002", top, boss)
    worker = _employee("员工", "13800000003", top, middle)
    with pytest.raises(CrmError) as refused:
        org.update_employee(boss.id, manager_id=worker.id, name="老板改名")
    assert refused.value.field == "manager"
    db.session.expire_all()
    boss = db.session.get(Employee, boss.id)
    assert boss.manager_id is None and boss.first_name == "老板"
    with pytest.raises(CrmError):
        org.update_employee(boss.id, manager_id=boss.id)


def test_account_states_and_who_can_log_in():
    top, *_ = _tree()
    employee = _employee("张三", "13800138000", top)
    org.activate_employees([employee.id])
    assert employee.is_active
    org.disable_employees([employee.id])
    assert employee.state == AccountState.DISABLED.value and not employee.is_active
    assert employee.auth_epoch is not None
    org.activate_employees([employee.id])
    assert employee.is_active


def test_resign_hands_customers_over_through_the_hook_and_reports_move_up():
    top, *_ = _tree()
    boss = _employee("老板", "13800000001", top)
    leaver = _employee("离职者", "13800000002", top, boss)
    report = _employee("下属", "13800000003", top, leaver)
    heir = _employee("接手人", "13800000004", top, boss)
    org.activate_employees([boss.id, leaver.id, report.id, heir.id])
    received = []

    def receiver(sender, handover_to):
        received.append((sender.id, handover_to.id if handover_to else None))

    org.employee_resigned.connect(receiver)
    try:
        org.resign_employees([leaver.id], heir.id)
        org.resign_employees([report.id], None)
    finally:
        org.employee_resigned.disconnect(receiver)
    assert received == [(leaver.id, heir.id), (report.id, None)]
    db.session.expire_all()
    assert db.session.get(Employee, leaver.id).state == AccountState.RESIGNED.value
    assert db.session.get(Employee, report.id).manager_id == boss.id


def test_resign_refuses_a_handover_to_an_inactive_or_leaving_employee():
    top, *_ = _tree()
    a = _employee("甲", "13800000001", top)
    b = _employee("乙", "13800000002", top)
    org.activate_employees([a.id])
    with pytest.raises(CrmError):
        org.resign_employees([a.id], b.id)  # b was never activated
    with pytest.raises(CrmError):
        org.resign_employees([a.id, b.id], a.id)
    db.session.expire_all()
    assert db.session.get(Employee, a.id).state == AccountState.ACTIVE.value


def test_bulk_action_is_all_or_nothing():
    top, *_ = _tree()
    a = _employee("甲", "13800000001", top)
    org.activate_employees([a.id])
    admin = db.session.scalar(select(Employee).where(Employee.username == "admin"))
    with pytest.raises(CrmError):
        org.disable_employees([a.id, admin.id])
    db.session.expire_all()
    assert db.session.get(Employee, a.id).state == AccountState.ACTIVE.value


def test_reset_login_changes_mobile_and_password():
    top, *_ = _tree()
    a = _employee("甲", "13800000001", top)
    b = _employee("乙", "13800000002", top)
    with pytest.raises(CrmError):
        org.reset_login(a.id, "13800000002", "newpass1")
    org.reset_login(a.id, "13900000009", "newpass1")
    db.session.expire_all()
    a = db.session.get(Employee, a.id)
    assert a.username == a.mobile == "13900000009"
    assert b.mobile == "13800000002"
