"""CSRF, with the checks on as production runs them: every POST a screen accepts — add, edit, delete, the bulk
actions (转移, 退回公海, 加入分组, 领取), the organisation, roles, option lists, 公海规则, custom fields, 修改密码,
imports and their undo, dialing and call outcomes, seats, the phone site — is refused (400) without the session's
token, and nothing in the database changes. So is a write to the REST API authenticated by the session cookie
instead of a bearer token (a page elsewhere could post a form to /api/v1/employee/<id>/disable with the
administrator's cookie). The last tests show the same requests go through with the token (or a bearer token),
so the refusals above are the token's.

Not covered here: GET /logout/ (FAB's; ending one's own session is all a forged link can do)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from flask_appbuilder import Model
from sqlalchemy import select, text

from app import seats as seat_service
from app.extensions import db
from custom_fields import service as custom_fields
from models.call import CallRecord
from models.choices import Choice
from models.crm import Customer
from models.org import Employee
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, bearer
from tests.importing.helpers import xlsx

CHANGING_EVERY_REQUEST = {"login_session"}  # a request moves its own session's last-seen time


def fingerprint(app) -> dict:
    with app.app_context():
        found = {}
        for table in Model.metadata.sorted_tables:
            if table.name in CHANGING_EVERY_REQUEST:
                continue
            found[table.name] = sorted(map(repr, db.session.execute(select(table)).all()))
        db.session.remove()
    return found


@pytest.fixture(scope="module")
def things(csrf_app, org):
    """A few rows the settings screens act on, beside the organisation."""
    with csrf_app.app_context():
        field = custom_fields.create_field("customer", {"label": "跨站字段", "type": "text"})
        other = custom_fields.create_field("customer", {"label": "跨站字段二", "type": "text"})
        seat = seat_service.create_seat({"number": "19901", "name": "跨站坐席", "provider": "device",
                                         "expires_at": dt.datetime(2099, 1, 1)})
        choice = db.session.scalar(select(Choice).where(Choice.kind == "customer_source"))
        empty = f.department("跨站空部门")
        customer = next(r for r in org.of("customer") if r.owner == "viewer_all")
        call = db.session.scalar(select(CallRecord).where(CallRecord.customer_id == customer.pk))
        call.owner_id = f.admin().id
        db.session.commit()
        ids = dict(field=field.id, other_field=other.id, seat=seat.id, choice=choice.id, empty_department=empty.id,
                   customer=customer.pk, call=call.id, pool=next(r.pk for r in org.of("customer") if r.owner is None),
                   employee=org.ids["team2"], department=org.departments["扫描二组"],
                   role=csrf_app.appbuilder.sm.find_role("扫描-无权").id,
                   group=next(r.pk for r in org.of("customer_group") if r.owner == "boss"))
        for module in ("contact", "opportunity", "contract", "product", "followup", "invoice"):
            ids[module] = org.of(module)[0].pk
        db.session.remove()
    return ids


def _screen_posts(t: dict) -> list[tuple[str, dict]]:
    c = t["customer"]
    posts = [("/customer/add", {"company_name": "跨站新客户", "mobile": "13600009001"}),
             (f"/customer/edit/{c}", {"company_name": "跨站改名", "mobile": "13600009002"}),
             (f"/customer/delete/{c}", {}),
             ("/customer/action_post", {"action": "release", "rowid": [str(c)]}),
             (f"/customer/action/release/{c}", {}),
             (f"/customer/act/transfer/?ids={c}", {"owner": str(t["employee"])}),
             (f"/customer/act/release/?ids={c}", {"reason": "跨站"}),
             (f"/customer/act/add_to_group/?ids={c}", {"group": str(t["group"])}),
             ("/pool/action_post", {"action": "claim", "rowid": [str(t["pool"])]}),
             (f"/pool/delete/{t['pool']}", {}),
             ("/customer_group/add", {"name": "跨站分组"}),
             (f"/customer_group/delete/{t['group']}", {})]
    edits = {"contact": {"name": "跨站"}, "opportunity": {"name": "跨站"}, "contract": {"name": "跨站"},
             "product": {"name": "跨站"}, "followup": {"content": "跨站"}, "invoice": {"number": "跨站"}}
    for module, change in edits.items():
        posts += [(f"/{module}/add", {**change, "customer": str(c)}), (f"/{module}/edit/{t[module]}", change),
                  (f"/{module}/delete/{t[module]}", {})]
    e, d, r, cf = t["employee"], t["empty_department"], t["role"], t["field"]
    posts += [("/departments/add", {"name": "跨站部门"}), (f"/departments/edit/{d}", {"name": "跨站改名"}),
              (f"/departments/delete/{d}", {}),
              ("/employees/add", {"first_name": "跨站员工", "mobile": "13600009003", "password": "secret12",
                                  "department": str(t["department"])}),
              (f"/employees/edit/{e}", {"first_name": "跨站改名"}),
              (f"/employees/resign/?ids={e}", {"handover_to": ""}),
              (f"/employees/reset-password/?ids={e}", {"password": "secret99"}),
              (f"/employees/reset-login/?ids={e}", {"mobile": "13600009004", "password": "secret99"}),
              ("/employees/action_post", {"action": "disable", "rowid": [str(e)]}),
              ("/roles/new/", {"name": "跨站角色", "kind": "customer"}), (f"/roles/{r}/rename/", {"name": "跨站改名"}),
              (f"/roles/{r}/copy/", {"name": "跨站复制"}), (f"/roles/{r}/delete/", {}),
              (f"/roles/{r}/permissions/", {"data_scope": "all", "perm": ["customer:view"]}),
              ("/options/add", {"kind": "customer_source", "name": "跨站选项"}),
              (f"/options/edit/{t['choice']}", {"name": "跨站改名"}), (f"/options/delete/{t['choice']}", {}),
              ("/pool-rules/form", {"daily_claim_limit": "1", "reclaim_cooldown_days": "1", "max_owned": "1",
                                    "auto_release_days": "1"}),
              ("/custom-fields/customer/add", {"label": "跨站字段三", "type": "text"}),
              (f"/custom-fields/field/{cf}/edit", {"label": "跨站改名", "type": "text"}),
              (f"/custom-fields/field/{cf}/delete", {"confirm": "1"}),
              (f"/custom-fields/field/{cf}/move/down", {}), (f"/custom-fields/field/{cf}/toggle", {}),
              ("/custom-fields/customer/reorder", {"order": f"{t['other_field']},{cf}"}),
              ("/resetmypassword/form", {"old_password": ADMIN_PASSWORD, "password": "newpass12",
                                         "confirm_password": "newpass12"}),
              ("/import/customer/", {"file": (io.BytesIO(xlsx([["跨站导入", "", "13600009005"]])), "客户.xlsx"),
                                     "duplicate": "skip"}),
              ("/dial/", {"customer": str(c)}),
              (f"/dial/{t['call']}/", {"outcome-disposition": "no_answer", "outcome-talk_seconds": "0"}),
              (f"/seat/bind/{t['seat']}/", {"mobile": "13600009006", "send_code": "1"}),
              (f"/seat/extend/{t['seat']}/", {"days": "30"}),
              (f"/seat/delete/{t['seat']}", {}),
              ("/m/dial", {"customer": str(c)}),
              (f"/m/customer/{c}/followup", {"content": "跨站跟进", "way": "call"}),
              (f"/m/call/{t['call']}", {"outcome-disposition": "no_answer", "outcome-talk_seconds": "0"})]
    return posts


SCREEN_POSTS = _screen_posts({k: 0 for k in ("customer", "employee", "group", "pool", "contact", "opportunity",
                                             "contract", "product", "followup", "invoice", "empty_department",
                                             "role", "field", "other_field", "department", "choice", "call",
                                             "seat")})


@pytest.mark.parametrize("index", range(len(SCREEN_POSTS)), ids=[url.split("?")[0].rstrip("/").replace("/0", "/<id>")
                                                                 for url, _data in SCREEN_POSTS])
def test_a_screen_post_without_its_token_is_refused_and_changes_nothing(csrf_app, browsers, things, index):
    url, data = _screen_posts(things)[index]
    before = fingerprint(csrf_app)
    response = browsers["admin"].post(url, data=data, token=False)
    assert response.status_code == 400, (url, response.status_code)
    assert fingerprint(csrf_app) == before, url
    wrong = browsers["admin"].post(url, data={**_fresh(data), "csrf_token": "forged"}, token=False)
    assert wrong.status_code == 400, url
    assert fingerprint(csrf_app) == before, url


def _fresh(data: dict) -> dict:
    """A file in the form is read once: a second post needs its own."""
    return {k: (io.BytesIO(xlsx([["跨站导入", "", "13600009005"]])), "客户.xlsx") if k == "file" else v
            for k, v in data.items()}


def _api_writes(t: dict) -> list[tuple[str, str, dict]]:
    c, e = t["customer"], t["employee"]
    return [("post", "/api/v1/customer/", {"json": {"company_name": "跨站", "mobile": "13600009007"}}),
            ("put", f"/api/v1/customer/{c}", {"json": {"company_name": "跨站"}}),
            ("delete", f"/api/v1/customer/{c}", {}),
            ("post", "/api/v1/customer/release", {"json": {"ids": [c], "reason": "跨站"}}),
            ("post", "/api/v1/customer/transfer", {"data": {"ids": str(c), "owner": str(e)}}),
            ("post", f"/api/v1/employee/{e}/disable", {}),
            ("post", f"/api/v1/employee/{e}/resign", {"data": {}}),
            ("post", "/api/v1/department/", {"json": {"name": "跨站部门"}}),
            ("post", "/api/v1/role/", {"json": {"name": "跨站角色"}}),
            ("post", "/api/v1/custom_field/", {"json": {"module": "customer", "label": "跨站", "type": "text"}}),
            ("delete", f"/api/v1/custom_field/{t['field']}", {}),
            ("post", "/api/v1/customer/import", {"data": {"file": (io.BytesIO(xlsx([["跨站", "", "13600009008"]])),
                                                                   "客户.xlsx")}, "content_type": "multipart/form-data"}),
            ("post", "/api/v1/call/dial", {"json": {"customer": c}}),
            ("post", "/api/v1/me/password", {"json": {"old_password": ADMIN_PASSWORD,
                                                                    "password": "newpass12"}})]


API_WRITES = _api_writes({"customer": 0, "employee": 0, "field": 0})


@pytest.mark.parametrize("index", range(len(API_WRITES)),
                         ids=[f"{m} {u.replace('/0', '/<id>')}" for m, u, _kw in API_WRITES])
def test_an_api_write_with_the_session_cookie_and_no_token_is_refused(csrf_app, browsers, things, index):
    method, url, kwargs = _api_writes(things)[index]
    before = fingerprint(csrf_app)
    response = getattr(browsers["admin"].client, method)(url, **kwargs)
    assert response.status_code == 400, (url, response.status_code, response.get_json())
    assert fingerprint(csrf_app) == before, url


def test_the_phone_login_refuses_a_post_without_its_token(csrf_app, org):
    client = csrf_app.test_client()
    client.get("/m/login")
    response = client.post("/m/login", data={"username": org.logins["viewer_all"], "password": f.PASSWORD})
    assert response.status_code == 400
    assert client.get("/m/customers").status_code == 302  # still logged out


def test_a_token_login_from_a_logged_in_browser_needs_no_csrf_token(browsers):
    """Logging in through the API takes the password: no write on the cookie's behalf."""
    response = browsers["admin"].client.post("/api/v1/security/login", json={
        "username": "admin", "password": ADMIN_PASSWORD, "provider": "db"})
    assert response.status_code == 200 and response.get_json()["access_token"]


# -- the same requests with the token go through (these change data: they come last)

def test_with_the_token_the_screens_and_the_cookie_api_accept_the_same_requests(csrf_app, browsers, things):
    admin = browsers["admin"]
    c = things["customer"]
    response = admin.post(f"/customer/edit/{c}", data={"company_name": "带令牌改名", "mobile": "13600009009"})
    assert response.status_code == 302
    response = admin.post(f"/customer/act/release/?ids={c}", data={"reason": "带令牌"})
    assert response.status_code == 302
    response = admin.client.post(f"/api/v1/employee/{things['employee']}/disable",
                                 headers={"X-CSRFToken": admin.token})
    assert response.status_code == 200, response.get_json()
    with csrf_app.app_context():
        assert db.session.get(Customer, c).company_name == "带令牌改名"
        assert db.session.get(Customer, c).owner_id is None
        assert db.session.get(Employee, things["employee"]).state == "disabled"
        db.session.remove()


def test_a_bearer_token_needs_no_csrf_token(csrf_app, things):
    client = csrf_app.test_client()
    headers = bearer(client, "admin", ADMIN_PASSWORD)
    response = client.put(f"/api/v1/product/{things['product']}", json={"name": "令牌改名"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    with csrf_app.app_context():
        assert db.session.execute(text("SELECT name FROM product WHERE id = :i"),
                                  {"i": things["product"]}).scalar() == "令牌改名"
        db.session.remove()
