"""审计日志: logins, exports, deletes, owner moves, employee and role changes leave an entry written with the
act; the trail is read-only for everyone (screens, console, API), and `crm audit-purge` keeps the retention."""
import datetime as dt
import json

import pytest
from sqlalchemy import select

from app import audit
from app.extensions import db
from models.audit import AuditLog
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401


def entries(app, action=None):
    with app.app_context():
        query = select(AuditLog).order_by(AuditLog.id)
        if action:
            query = query.where(AuditLog.action == action)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


@pytest.fixture
def people(app):
    with app.app_context():  # not kept pushed: each request gets its own `g`, as in production
        boss = f.employee(role="销售主管")
        alice = f.employee(role="销售")
        bob = f.employee(role="销售")
        a = f.customer(alice, name="甲公司")
        found = {"boss": boss.username, "alice": alice.id, "alice_login": alice.username, "bob": bob.id, "a": a.id}
        db.session.remove()
    return found


def test_login_failed_login_and_logout_are_recorded_with_ip_and_browser(app, client, people):
    client.post("/login/", data={"username": people["alice_login"], "password": "wrong-pass"},
                headers={"User-Agent": "测试浏览器/1.0"})
    web_login(client, people["alice_login"], f.PASSWORD)
    client.get("/logout/")
    actions = [(e.action, e.actor_id) for e in entries(app) if e.action.startswith("log")]
    assert actions == [("login_failed", people["alice"]), ("login", people["alice"]), ("logout", people["alice"])]
    failed = entries(app, "login_failed")[0]
    assert failed.ip == "127.0.0.1" and failed.user_agent == "测试浏览器/1.0"
    assert "wrong-pass" not in (failed.detail or "")  # never the password typed


def test_an_export_records_its_row_count_and_filter(app, client, people):
    web_login(client)
    response = client.get("/customer/export/?format=csv&_flt_0_company_name=甲")
    assert response.status_code == 200 and "甲公司" in response.get_data(as_text=True)
    entry = entries(app, "export")[-1]
    detail = json.loads(entry.detail)
    assert entry.module == "customer" and detail["rows"] == 1 and detail["format"] == "csv"
    assert ["company_name", "包含", "甲"] in detail["filter"] or any("甲" in str(f) for f in detail["filter"])
    assert entry.actor_name == "admin"


def test_a_transfer_and_a_delete_are_recorded_with_the_records(app, client, people, admin_headers):
    moved = client.post("/api/v1/customer/transfer", json={"ids": [people["a"]], "owner": people["bob"]},
                        headers=admin_headers)
    assert moved.status_code == 200
    transfer = entries(app, "transfer")[-1]
    assert transfer.record_ids == str(people["a"]) and transfer.module == "customer"
    assert json.loads(transfer.changes) == {"owner": [[people["alice"]], people["bob"]]}
    assert client.delete(f"/api/v1/customer/{people['a']}", headers=admin_headers).status_code == 200
    deleted = entries(app, "delete")[-1]
    assert deleted.record_ids == str(people["a"]) and deleted.module == "customer"
    assert "甲公司" in deleted.detail


def test_a_refused_transfer_leaves_no_entry(app, client, people):
    headers = bearer(client, people["alice_login"], f.PASSWORD)
    client.post("/api/v1/customer/transfer", json={"ids": [people["a"]], "owner": 999999}, headers=headers)
    assert entries(app, "transfer") == []


def test_employee_state_and_role_matrix_changes_are_recorded(app, client, people, admin_headers,
                                                            restore_roles):  # noqa: F811
    assert client.post(f"/api/v1/employee/{people['bob']}/disable", headers=admin_headers).status_code == 200
    change = entries(app, "employee_change")[-1]
    assert change.record_ids == str(people["bob"]) and json.loads(change.changes) == {"state": ["active", "disabled"]}
    pk = client.post("/api/v1/role/", json={"name": "财务"}, headers=admin_headers).get_json()["id"]
    client.put(f"/api/v1/role/{pk}/matrix", json={"modules": {"invoice": ["view"]}, "data_scope": "all"},
               headers=admin_headers)
    role = entries(app, "role_change")[-1]
    assert role.record_ids == str(pk)
    changes = json.loads(role.changes)
    assert changes["modules"] == [{}, {"invoice": ["view"]}] and changes["data_scope"] == ["self", "all"]


def test_the_api_lists_and_searches_for_holders_of_the_console_right_only(app, client, people, admin_headers):
    web_login(client, people["alice_login"], f.PASSWORD)
    client.get("/logout/")
    listed = client.get("/api/v1/audit_log/?q=" + json.dumps({"filters": [{"col": "action", "opr": "eq",
                                                                             "value": "login"}]}),
                        headers=admin_headers).get_json()
    assert listed["count"] >= 1 and {r["action"] for r in listed["result"]} == {"login"}
    assert listed["result"][0]["action_label"] == "登录"
    pk = listed["result"][0]["id"]
    one = client.get(f"/api/v1/audit_log/{pk}", headers=admin_headers).get_json()["result"]
    assert one["actor_id"] == people["alice"] and one["ip"] == "127.0.0.1"
    employee = bearer(client, people["boss"], f.PASSWORD)
    assert client.get("/api/v1/audit_log/", headers=employee).status_code == 403
    assert client.get(f"/api/v1/audit_log/{pk}", headers=employee).status_code == 403


def test_nobody_can_change_or_delete_an_entry(app, client, people, admin_headers):
    web_login(client, people["alice_login"], f.PASSWORD)
    client.get("/logout/")
    before = [(e.id, e.action, e.at, e.actor_id) for e in entries(app)]
    pk = before[0][0]
    assert client.post("/api/v1/audit_log/", json={"action": "login"}, headers=admin_headers).status_code == 405
    assert client.put(f"/api/v1/audit_log/{pk}", json={"action": "x"}, headers=admin_headers).status_code == 405
    assert client.delete(f"/api/v1/audit_log/{pk}", headers=admin_headers).status_code == 405
    web_login(client)
    for endpoint in ("console_audit_log", "console_login_log"):
        assert client.get(f"/console/{endpoint}/edit/?id={pk}").status_code in (302, 403, 404)
        client.post(f"/console/{endpoint}/delete/", data={"id": str(pk)})
        client.post(f"/console/{endpoint}/edit/?id={pk}", data={"action": "x"})
    after = [(e.id, e.action, e.at, e.actor_id) for e in entries(app)]
    assert after[:len(before)] == before
    with app.app_context():  # not even through the ORM
        entry = db.session.get(AuditLog, pk)
        entry.action = "changed"
        with pytest.raises(audit.AppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditLog, pk))
        with pytest.raises(audit.AppendOnly):
            db.session.flush()
        db.session.rollback()
    assert [(e.id, e.action, e.at, e.actor_id) for e in entries(app)][:len(before)] == before


def test_the_console_shows_the_trail_and_the_login_records(app, client, people):
    client.post("/login/", data={"username": people["alice_login"], "password": "wrong-pass"})
    web_login(client)
    page = client.get("/console/console_login_log/").get_data(as_text=True)
    assert "登录记录" in page and "登录失败" in page and people["alice_login"] in page
    trail = client.get("/console/console_audit_log/?search=" + people["alice_login"]).get_data(as_text=True)
    assert "审计日志" in trail and "登录失败" in trail


def test_audit_purge_removes_only_entries_past_the_retention(app, people):
    runner = app.test_cli_runner()
    with app.app_context():
        old = audit.record("login", actor_name="old")
        old.at = dt.datetime.utcnow() - dt.timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
        audit.record("login", actor_name="recent")
        db.session.commit()
    result = runner.invoke(args=["crm", "audit-purge"])
    assert result.exit_code == 0 and "1 audit log entry" in result.output
    assert [e.actor_name for e in entries(app, "login")] == ["recent"]


def test_ten_failed_logins_lock_the_account_on_the_form_and_the_api_alike(app, client, people):
    login = people["alice_login"]
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        client.post("/login/", data={"username": login, "password": "wrong-pass"})
    page = web_login(client, login, f.PASSWORD).get_data(as_text=True)
    assert "已被锁定" in page
    assert client.get("/customer/list/").status_code == 302  # not logged in
    api = client.post("/api/v1/security/login", json={"username": login, "password": f.PASSWORD, "provider": "db"})
    assert api.status_code == 401 and "已被锁定" in api.get_json()["message"]
    # another account is not affected
    assert client.post("/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                       "provider": "db"}).status_code == 200


def test_the_lockout_lifts_after_its_window(app, client, people):
    login = people["alice_login"]
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        client.post("/login/", data={"username": login, "password": "wrong-pass"})
    body = {"username": login, "password": f.PASSWORD, "provider": "db"}
    assert client.post("/api/v1/security/login", json=body).status_code == 401
    app.config["LOGIN_CLOCK_OFFSET_SECONDS"] = app.config["LOGIN_LOCKOUT_MINUTES"] * 60 + 1  # the lockout's clock
    try:
        assert client.post("/api/v1/security/login", json=body).status_code == 200
    finally:
        app.config.pop("LOGIN_CLOCK_OFFSET_SECONDS")


def test_an_import_is_recorded_with_its_file_and_rows(app, client, admin_headers):
    from tests.importing.helpers import run, xlsx

    job = run(client, xlsx([["导入审计公司", "张三", "13912345678", "", "", "", "", ""]]), admin_headers,
              duplicate="skip")
    entry = entries(app, "import")[-1]
    detail = json.loads(entry.detail)
    assert entry.module == "customer" and entry.record_ids == str(job["id"]) and entry.actor_name == "admin"
    assert detail["file_name"] == "客户.xlsx" and detail["rows"] == 1 and detail["dry_run"] is False
