"""设置 → 角色权限 in the browser's protocol, and the rule that a change counts from the very next request."""
import re

import pytest

from app import organisation as org
from app import roles as role_service
from app.extensions import db
from app.permissions import ADMIN_ROLE
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


def _role_id(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def test_the_two_tabs_list_the_roles_of_each_kind(client):
    web_login(client)
    page = client.get("/roles/list/").get_data(as_text=True)
    for text in ("角色权限", "客户管理角色", "呼叫中心角色", "新建角色", "销售主管", "本人及下属"):
        assert text in page, text
    assert "坐席" not in re.sub(r"<ul class=\"nav.*?</ul>", "", page, flags=re.S).split("role-table")[1]
    assert "坐席" in client.get("/roles/list/?kind=call_center").get_data(as_text=True)


def test_new_role_then_its_permissions_page(client, app):
    web_login(client)
    response = client.post("/roles/new/", data={"name": "客服", "kind": "call_center"})
    assert response.status_code == 302 and "/permissions/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    for text in ("模块功能", "数据分析", "数据权限", "字段权限", "线路管理", "公海管理", "跟进记录", "本部门及下属部门",
                 "全选此行", "全选此列", "员工通话统计", "脱敏显示"):
        assert text in page, text
    assert 'value="pool:claim"' in page and 'value="pool:add"' not in page  # cells only where they apply
    duplicate = client.post("/roles/new/", data={"name": "客服", "kind": "customer"}).get_data(as_text=True)
    assert "已存在同名角色" in duplicate


def test_saving_the_permissions_page_writes_the_whole_matrix(client, app):
    web_login(client)
    pk = int(client.post("/roles/new/", data={"name": "财务", "kind": "customer"}).location.split("/")[-3])
    form = {"perm": ["contract:view", "contract:export", "invoice:view"], "analysis": ["sales_by_department"],
            "data_scope": "department", "field:customer:mobile": "masked", "field:customer:address": "hidden",
            "field:customer:note": "editable"}
    response = client.post(f"/roles/{pk}/permissions/", data=form, follow_redirects=True)
    assert "角色权限已保存" in response.get_data(as_text=True)
    with app.app_context():
        assert role_service.read_matrix(pk) == {
            "modules": {"contract": ["view", "export"], "invoice": ["view"]}, "analysis": ["sales_by_department"],
            "data_scope": "department", "fields": {"customer": {"mobile": "masked", "address": "hidden"}}}
    page = client.get(f"/roles/{pk}/permissions/").get_data(as_text=True)
    assert re.search(r'value="contract:export"[^>]*checked', page)
    assert not re.search(r'value="invoice:add"[^>]*checked', page)
    # a forged cell is refused and nothing changes
    response = client.post(f"/roles/{pk}/permissions/", data={**form, "perm": ["pool:add"], "data_scope": "all"})
    assert "没有“新建”权限项" in response.get_data(as_text=True)
    with app.app_context():
        assert role_service.read_matrix(pk)["data_scope"] == "department"


def test_the_administrator_role_is_shown_read_only(client, app):
    web_login(client)
    page = client.get(f"/roles/{_role_id(app, ADMIN_ROLE)}/permissions/").get_data(as_text=True)
    assert "<fieldset disabled>" in page and 'id="role-save"' not in page
    response = client.post(f"/roles/{_role_id(app, ADMIN_ROLE)}/permissions/", data={"data_scope": "self"})
    assert "管理员角色始终拥有全部权限" in response.get_data(as_text=True)


def test_copy_rename_and_delete_from_the_screen(client, app):
    web_login(client)
    seller = _role_id(app, "销售")
    assert "销售 副本" in client.get(f"/roles/{seller}/copy/").get_data(as_text=True)
    response = client.post(f"/roles/{seller}/copy/", data={"name": "电销"})
    copy = int(response.location.split("/")[-3])
    with app.app_context():
        assert role_service.read_matrix(copy) == role_service.read_matrix(seller)
    client.post(f"/roles/{copy}/rename/", data={"name": "电话销售", "kind": "customer"})
    assert "电话销售" in client.get("/roles/list/").get_data(as_text=True)
    response = client.post(f"/roles/{copy}/delete/", follow_redirects=True)
    assert "角色已删除" in response.get_data(as_text=True)
    with app.app_context():
        f.employee("销售员", role="销售")
    response = client.post(f"/roles/{seller}/delete/", follow_redirects=True)
    assert "还有 1 名员工使用该角色" in response.get_data(as_text=True)


def test_a_salesperson_cannot_open_the_role_screens(client, app):
    with app.app_context():
        login = f.employee("小李", role="销售主管").username
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    assert client.get("/roles/list/").status_code == 403
    response = client.post(f"/roles/{_role_id(app, '销售')}/permissions/", data={"data_scope": "all"})
    assert response.status_code == 403
    with app.app_context():
        assert role_service.read_matrix(_role_id(app, "销售"))["data_scope"] == "self"


def test_unticking_a_cell_takes_the_button_and_the_url_away_on_the_next_request(client, app):
    with app.app_context():
        login = f.employee("小李", role="销售").username
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    page = client.get("/customer/list/").get_data(as_text=True)
    assert "/customer/add" in page and "客户管理" not in page  # the menu says 客户; the matrix says 客户管理
    assert client.get("/customer/add").status_code == 200
    seller = _role_id(app, "销售")
    with app.app_context():
        matrix = role_service.read_matrix(seller)
        role_service.write_matrix(seller, {"modules": {**matrix["modules"], "customer": ["view", "edit"]}})
    assert "/customer/add" not in client.get("/customer/list/").get_data(as_text=True)
    assert client.get("/customer/add").status_code == 403
    # and the whole module: the menu entry goes too
    with app.app_context():
        role_service.write_matrix(seller, {"modules": {**matrix["modules"], "customer": []}})
    assert client.get("/customer/list/").status_code == 403
    assert 'href="/customer/list/"' not in client.get("/contact/list/").get_data(as_text=True)


# ---------------------------------------------------------------- no stale state after an org change

def _owners(client, headers):
    rows = client.get("/api/v1/customer/?q=(page_size:100)", headers=headers).get_json()["result"]
    return {row["company_name"] for row in rows}


@pytest.fixture
def team(app):
    with app.app_context():
        hq = f.department("总部")
        east, west = f.department("华东", hq), f.department("华西", hq)
        lead = f.employee("组长", east, role="销售主管")
        member = f.employee("组员", west)
        f.customer(lead, "组长的客户")
        f.customer(member, "组员的客户")
        ids = dict(lead=lead.id, member=member.id, east=east.id, west=west.id, hq=hq.id, lead_login=lead.username)
        db.session.remove()
    return ids


def test_a_new_manager_counts_from_the_next_request(client, team):
    headers = bearer(client, team["lead_login"], f.PASSWORD)
    assert _owners(client, headers) == {"组长的客户"}
    with client.application.app_context():
        org.update_employee(team["member"], manager_id=team["lead"])
    assert _owners(client, headers) == {"组长的客户", "组员的客户"}
    with client.application.app_context():
        org.update_employee(team["member"], manager_id=None)
    assert _owners(client, headers) == {"组长的客户"}


def test_a_moved_employee_or_department_counts_from_the_next_request(client, team, app):
    with app.app_context():
        role = role_service.create_role("部门经理")
        role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "data_scope": "department_tree"})
        org.update_employee(team["lead"], role_ids=[role.id])
    headers = bearer(client, team["lead_login"], f.PASSWORD)
    assert _owners(client, headers) == {"组长的客户"}
    with app.app_context():
        org.move_department(team["west"], team["east"])  # 华西 now sits under 华东
    assert _owners(client, headers) == {"组长的客户", "组员的客户"}
    with app.app_context():
        org.move_department(team["west"], team["hq"])
        org.update_employee(team["member"], department_id=team["east"])  # the member moves instead
    assert _owners(client, headers) == {"组长的客户", "组员的客户"}
    with app.app_context():
        org.update_employee(team["lead"], department_id=team["west"])  # and now the lead moves away
    assert _owners(client, headers) == {"组长的客户"}


def test_a_new_role_or_scope_counts_from_the_next_request(client, team, app):
    web_login(client, team["lead_login"], f.PASSWORD)
    assert "组员的客户" not in client.get("/customer/list/").get_data(as_text=True)
    with app.app_context():
        role_service.write_matrix(_role_id(app, "销售主管"), {"data_scope": "all"})
    assert "组员的客户" in client.get("/customer/list/").get_data(as_text=True)
    with app.app_context():
        org.update_employee(team["lead"], role_ids=[_role_id(app, "坐席")])  # no export, no add
    assert client.get("/customer/export/?format=csv").status_code == 403
    assert "组员的客户" not in client.get("/customer/list/").get_data(as_text=True)
