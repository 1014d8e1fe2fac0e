"""设置 → 角色权限 as services: an administrator creates, edits, copies and deletes roles."""
import pytest
from sqlalchemy import select

from app import organisation as org
from app import roles as role_service
from app.errors import CrmError
from app.extensions import db
from app.permissions import ADMIN_ROLE
from models.roles import RoleFieldPermission, RoleProfile
from tests import factories as f
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


def _held(role):
    return {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}


def test_a_new_role_may_only_see_its_own_profile_until_its_matrix_is_set(ctx):
    role = role_service.create_role("客服", "call_center")
    assert role_service.read_matrix(role.id) == {"modules": {}, "analysis": [], "data_scope": "self", "fields": {}}
    assert ("can_userinfo", "ProfileView") in _held(role)
    assert [r.name for r in role_service.list_roles("call_center")] == ["坐席", "客服"]
    assert ADMIN_ROLE == role_service.list_roles("customer")[0].name


def test_the_matrix_is_written_as_fab_rows_profile_and_field_rows_together(ctx, app):
    role = role_service.create_role("财务")
    saved = role_service.write_matrix(role.id, {
        "modules": {"contract": ["view", "export"], "invoice": ["view", "add", "edit"]},
        "analysis": ["sales_by_department"], "data_scope": "department_tree",
        "fields": {"customer": {"mobile": "masked", "address": "hidden", "note": "editable"}},
    })
    assert saved == {"modules": {"contract": ["view", "export"], "invoice": ["view", "add", "edit"]},
                     "analysis": ["sales_by_department"], "data_scope": "department_tree",
                     "fields": {"customer": {"mobile": "masked", "address": "hidden"}}}
    held = _held(role)
    assert {("can_view", "contract"), ("can_export", "contract"), ("can_edit", "invoice")} <= held
    # a part left out is kept; a module left out of "modules" loses its rights
    role_service.write_matrix(role.id, {"modules": {"invoice": ["view"]}})
    matrix = role_service.read_matrix(role.id)
    assert matrix["modules"] == {"invoice": ["view"]} and matrix["data_scope"] == "department_tree"
    assert matrix["fields"] == {"customer": {"mobile": "masked", "address": "hidden"}}
    assert ("can_view", "contract") not in _held(role)


@pytest.mark.parametrize("matrix, field", [
    ({"modules": {"warehouse": ["view"]}}, "modules"),
    ({"modules": {"pool": ["add"]}}, "modules"),  # the pool has claim/assign, not add
    ({"modules": {"customer": "view"}}, "modules"),
    ({"analysis": ["salary"]}, "analysis"),
    ({"data_scope": "team"}, "data_scope"),
    ({"fields": {"customer": {"mobile": "secret"}}}, "fields"),
    ({"fields": {"customer": {"company_name": "masked"}}}, "fields"),  # only a mobile number is masked
    ({"fields": {"customer": {"no_such_field": "hidden"}}}, "fields"),
    ({"colour": "red"}, None),
])
def test_a_wrong_matrix_is_refused_and_nothing_is_written(ctx, matrix, field):
    role = role_service.create_role("测试角色")
    role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "data_scope": "department"})
    before = role_service.read_matrix(role.id)
    with pytest.raises(CrmError) as error:
        role_service.write_matrix(role.id, {"data_scope": "all", **matrix})
    assert error.value.field == field
    assert role_service.read_matrix(role.id) == before


def test_the_messages_speak_chinese(ctx):
    role = role_service.create_role("测试角色")
    with pytest.raises(CrmError) as error:
        role_service.write_matrix(role.id, {"modules": {"pool": ["add"]}})
    assert str(error.value) == "公海管理没有“新建”权限项。"


def test_the_administrator_role_cannot_be_narrowed_renamed_or_deleted(ctx, app):
    admin = app.appbuilder.sm.find_role(ADMIN_ROLE)
    with pytest.raises(CrmError):
        role_service.write_matrix(admin.id, {"modules": {}})
    with pytest.raises(CrmError):
        role_service.update_role(admin.id, name="超级管理员")
    with pytest.raises(CrmError):
        role_service.delete_role(admin.id)
    assert role_service.update_role(admin.id, name=ADMIN_ROLE).name == ADMIN_ROLE  # saving unchanged is fine


def test_names_are_unique_and_not_empty(ctx):
    role_service.create_role("客服")
    with pytest.raises(CrmError) as error:
        role_service.create_role("客服")
    assert error.value.field == "name"
    with pytest.raises(CrmError):
        role_service.create_role("   ")
    with pytest.raises(CrmError):
        role_service.create_role("x", kind="finance")


def test_a_role_held_by_employees_is_not_deleted_but_resigned_holders_do_not_count(ctx):
    role = role_service.create_role("临时角色")
    person = f.employee("临时工", role="临时角色")
    with pytest.raises(CrmError) as error:
        role_service.delete_role(role.id)
    assert "1" in str(error.value)
    org.resign_employees([person.id])
    role_service.delete_role(role.id)
    assert role_service._role_model() and db.session.get(RoleProfile, role.id) is None
    assert db.session.get(type(person), person.id).roles == []


def test_copy_takes_kind_rights_statistics_scope_and_field_permissions(ctx):
    source = role_service.create_role("外呼", "call_center")
    role_service.write_matrix(source.id, {"modules": {"customer": ["view", "add"]}, "analysis": ["call_by_employee"],
                                          "data_scope": "department", "fields": {"customer": {"mobile": "masked"}}})
    name = role_service.copy_name(source)
    assert name == "外呼 副本"
    copy = role_service.copy_role(source.id, name)
    assert role_service.read_matrix(copy.id) == role_service.read_matrix(source.id)
    assert role_service.profile_of(copy).kind == "call_center"
    assert role_service.copy_name(source) == "外呼 副本2"
    # the copy is independent of its source
    role_service.write_matrix(copy.id, {"fields": {}})
    assert role_service.read_matrix(source.id)["fields"] == {"customer": {"mobile": "masked"}}


def test_copying_the_administrator_gives_an_ordinary_role_with_everything(ctx, app):
    copy = role_service.copy_role(app.appbuilder.sm.find_role(ADMIN_ROLE).id, "副管理员")
    matrix = role_service.read_matrix(copy.id)
    assert matrix["data_scope"] == "all" and matrix["modules"]["customer"][-1] == "release"
    role_service.write_matrix(copy.id, {"data_scope": "department"})  # unlike 管理员 it can be changed


def test_an_employee_holds_at_most_one_role_of_each_kind(ctx, app):
    sm = app.appbuilder.sm
    dept = f.department()
    seller, manager, agent = sm.find_role("销售"), sm.find_role("销售主管"), sm.find_role("坐席")
    with pytest.raises(CrmError) as error:
        org.create_employee(name="两个角色", mobile="13600000001", password="secret12", department_id=dept.id,
                            role_ids=[seller.id, manager.id])
    assert error.value.field == "roles" and "客户管理角色" in str(error.value)
    person = org.create_employee(name="双角色", mobile="13600000002", password="secret12", department_id=dept.id,
                                 role_ids=[seller.id, agent.id])
    assert {r.name for r in person.roles} == {"销售", "坐席"}
    with pytest.raises(CrmError):
        org.update_employee(person.id, role_ids=[seller.id, agent.id, manager.id])


def test_changing_a_roles_kind_may_not_give_a_holder_two_of_a_kind(ctx, app):
    role = role_service.create_role("质检", "call_center")
    dept = f.department()
    org.create_employee(name="质检员", mobile="13600000003", password="secret12", department_id=dept.id,
                        role_ids=[role.id, app.appbuilder.sm.find_role("销售").id])
    with pytest.raises(CrmError) as error:
        role_service.update_role(role.id, kind="customer")
    assert error.value.field == "kind"
    assert role_service.update_role(role.id, name="质检专员").name == "质检专员"


def test_user_analysis_is_the_union_of_the_roles(ctx, app):
    person = f.employee("统计员", role="坐席")
    assert role_service.user_analysis(person) == {"call_by_employee", "followup_by_employee"}
    org.update_employee(person.id, role_ids=[app.appbuilder.sm.find_role("坐席").id,
                                             app.appbuilder.sm.find_role("销售").id])
    assert "sales_by_employee" in role_service.user_analysis(db.session.get(type(person), person.id))
    assert role_service.user_analysis(f.admin()) == set(role_service.ANALYSIS)


def test_field_rows_go_with_their_role(ctx):
    role = role_service.create_role("临时")
    role_service.write_matrix(role.id, {"fields": {"contact": {"mobile": "hidden"}}})
    role_service.delete_role(role.id)
    assert db.session.scalars(select(RoleFieldPermission).where(RoleFieldPermission.role_id == role.id)).all() == []
