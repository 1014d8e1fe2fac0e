"""Issue 11: the employee pickers of forms and action dialogs are typed, not listed.

With 2,000 employees a select holding them all made every add/edit form, transfer and assign dialog and the
customer list (its import dialog) carry the whole staff list. Each picker now asks its view's /lookup/<column>/
?active=1 as one types, which answers the active employees within the viewer's data scope; a form posted with an
id the picker would not have offered (out of scope, disabled) is refused with a Chinese message and writes
nothing. Forms are sent as a browser does: opened, then posted with their CSRF token and the session cookie."""
from __future__ import annotations

import html
import re

import pytest

from app import organisation as org
from app.extensions import db
from models.crm import Customer
from models.org import Employee
from tests import callfixtures as calls
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from tests.views.test_sessions import form_login

pytestmark = pytest.mark.usefixtures("restore_roles")
REFUSED = "请从列表中选择员工：该员工未激活或不在您的数据权限内。"


@pytest.fixture
def team(app):
    """主管老赵 (销售主管: 本人及下属) over 小红, 小绿 and the disabled 小停; 外人老张 in another department."""
    with app.app_context():
        dept, other_dept = f.department("选人一组"), f.department("选人二组")
        boss = f.employee("主管老赵", dept, role="销售主管")
        red = f.employee("下属小红", dept, manager=boss)
        green = f.employee("下属小绿", dept, manager=boss)
        off = f.employee("下属小停", dept, manager=boss)
        org.disable_employees([off.id])
        outsider = f.employee("外人老张", other_dept)
        mine = f.customer(red, "小红的客户")
        pooled = f.customer(None, "公海里的客户")
        seat = calls.seat()
        db.session.commit()
        ids = dict(boss=boss.id, boss_login=boss.username, red=red.id, green=green.id, off=off.id,
                   outsider=outsider.id, customer=mine.id, pooled=pooled.id, seat=seat.id)
        db.session.remove()
    return ids


def _token(client, url) -> tuple[str, str]:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    text = page.get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    assert match, f"no csrf_token on {url}"
    return text, match.group(1)


def _login(client, username, password=f.PASSWORD):
    form_login(client, username, password)
    assert client.get("/profile/userinfo/").status_code == 200


def _post(client, url, data):
    _page, token = _token(client, url)
    return client.post(url, data={**data, "csrf_token": token})


def _picker(page: str, name: str) -> str:
    return re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)


def _offered(client, picker: str, q: str = "") -> list[str]:
    url = html.unescape(re.search(r'data-url="([^"]+)"', picker).group(1))
    response = client.get(url + ("&" if "?" in url else "?") + f"q={q}")
    assert response.status_code == 200, (url, response.status_code)
    return [row["text"] for row in response.get_json()["results"]]


NAMES = ("主管老赵", "下属小红", "下属小绿", "下属小停", "外人老张")


@pytest.mark.parametrize("url, field", [
    ("/customer/add", "owner"), ("/contract/add", "owner"),
    ("/opportunity/add", "owner"), ("/customer/act/transfer/?ids={customer}", "owner"),
    ("/pool/act/assign/?ids={pooled}", "owner"), ("/customer/list/", "owner"),  # the list: its import dialog
])
def test_a_form_holds_no_employee_list_and_its_picker_offers_the_active_ones_in_scope(app, client, csrf, team,
                                                                                       url, field):
    if url == "/customer/list/":  # the import dialog is there for those who may import
        with app.app_context():
            from app import roles as role_service

            role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "可导入的主管")
            modules = role_service.read_matrix(role.id)["modules"]
            role_service.write_matrix(role.id, {"modules": {**modules, "customer": modules["customer"] + ["import"]}})
            org.update_employee(team["boss"], role_ids=[role.id])
            db.session.remove()
    _login(client, team["boss_login"])
    page = client.get(url.format(**team)).get_data(as_text=True)
    picker = _picker(page, field)
    assert "crm-record-select" in picker and "active=1" in picker
    shown = {name for name in NAMES if name in picker}
    # at most the chosen one (the add form preselects the one adding, the edit form the record's owner)
    assert shown <= {"主管老赵", "下属小红"} and len(shown) <= 1, shown
    assert "外人老张" not in page and "下属小绿" not in page and "下属小停" not in page
    assert set(_offered(client, picker)) == {"主管老赵", "下属小红", "下属小绿"}
    assert _offered(client, picker, "小绿") == ["下属小绿"]
    assert _offered(client, picker, "老张") == [] and _offered(client, picker, "小停") == []


def test_the_filters_may_still_name_a_disabled_employee_in_scope_never_one_out_of_it(client, csrf, team):
    _login(client, team["boss_login"])
    names = [row["text"] for row in client.get("/customer/lookup/owner/").get_json()["results"]]
    assert set(names) == {"主管老赵", "下属小红", "下属小绿", "下属小停"}  # a list of 小停's old customers


def test_the_add_form_saves_the_typed_owner_and_refuses_one_the_picker_would_not_offer(app, client, csrf, team):
    _login(client, team["boss_login"])
    for who in ("outsider", "off"):
        response = _post(client, "/customer/add", {"company_name": f"给{who}的客户", "mobile": "13912340000",
                                                   "owner": str(team[who])})
        assert response.status_code == 400 and REFUSED in response.get_data(as_text=True), who
    response = _post(client, "/customer/add", {"company_name": "给小绿的客户", "mobile": "13912340001",
                                               "owner": str(team["green"])})
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    with app.app_context():
        made = {c.company_name: c.owner_id for c in db.session.query(Customer).filter(
            Customer.company_name.like("给%的客户"))}
        db.session.remove()
    assert made == {"给小绿的客户": team["green"]}


def test_the_transfer_dialog_moves_to_the_typed_employee_and_refuses_an_outsider(app, client, csrf, team):
    _login(client, team["boss_login"])
    url = f"/customer/act/transfer/?ids={team['customer']}"
    refused = _post(client, url, {"owner": str(team["outsider"])})
    assert refused.status_code in (200, 400) and REFUSED in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, team["customer"]).owner_id == team["red"]
        db.session.remove()
    assert _post(client, url, {"owner": str(team["green"])}).status_code == 302
    with app.app_context():
        assert db.session.get(Customer, team["customer"]).owner_id == team["green"]
        db.session.remove()


def test_the_employee_screens_pickers_are_typed_manager_handover_and_filter(app, client, csrf, team):
    _login(client, "admin", ADMIN_PASSWORD)
    for url, field in (("/employees/add", "manager"), (f"/employees/edit/{team['red']}", "manager"),
                       (f"/employees/resign/?ids={team['red']}", "handover_to")):
        page = client.get(url).get_data(as_text=True)
        picker = _picker(page, field)
        assert not {"下属小绿", "外人老张", "下属小停"} & {n for n in NAMES if n in picker}, url
        offered = _offered(client, picker)
        assert {"主管老赵", "下属小绿", "外人老张"} <= set(offered) and "下属小停" not in offered, url
    resign = _picker(client.get(f"/employees/resign/?ids={team['red']}").get_data(as_text=True), "handover_to")
    assert "下属小红" not in _offered(client, resign)  # not the leaver
    listed = client.get("/employees/list/").get_data(as_text=True)
    assert "/employees/lookup/manager/" in listed
    assert client.get("/employees/lookup/roles/").status_code == 404
    # a disabled manager, posted by hand, is refused; an active one is saved
    refused = _post(client, f"/employees/edit/{team['green']}", {
        "first_name": "下属小绿", "department": "", "manager": str(team["off"])})
    assert REFUSED in refused.get_data(as_text=True)
    with app.app_context():
        green = db.session.get(Employee, team["green"])
        department, roles = green.department_id, [r.id for r in green.roles]
        db.session.remove()
    saved = client.post(f"/employees/edit/{team['green']}", data={
        "first_name": "下属小绿", "department": str(department), "roles": [str(r) for r in roles],
        "manager": str(team["red"]), "csrf_token": _token(client, f"/employees/edit/{team['green']}")[1]})
    assert saved.status_code == 302, saved.get_data(as_text=True)[-800:]
    with app.app_context():
        assert db.session.get(Employee, team["green"]).manager_id == team["red"]
        db.session.remove()


def test_the_seat_binding_picker_is_typed_within_the_scope(app, client, csrf, team):
    _login(client, "admin", ADMIN_PASSWORD)
    page = client.get(f"/seat/bind/{team['seat']}/").get_data(as_text=True)
    picker = _picker(page, "employee")
    assert not any(name in picker for name in NAMES)
    offered = _offered(client, picker, "下属")
    assert set(offered) == {"下属小红", "下属小绿"}  # the disabled 小停 cannot be given a seat


def test_the_statistics_employee_filter_is_typed_within_the_scope(app, client, csrf, team):
    _login(client, team["boss_login"])
    page = client.get("/stats/employee_customers/").get_data(as_text=True)
    picker = _picker(page, "employee")
    assert "crm-record-select" in picker and not any(name in picker for name in NAMES)
    # the filter names anyone in the scope but the resigned (a disabled account still has its figures)
    assert set(_offered(client, picker)) == {"主管老赵", "下属小红", "下属小绿", "下属小停"}
    assert _offered(client, picker, "老张") == []
    chosen = client.get(f"/stats/employee_customers/?employee={team['green']}").get_data(as_text=True)
    assert re.search(rf'<option value="{team["green"]}" selected>下属小绿</option>', _picker(chosen, "employee"))
    assert client.get(f"/stats/employee_customers/?employee={team['outsider']}").status_code == 404
