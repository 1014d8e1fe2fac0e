"""The login lockout and the per-address wait (app/lockout.py) through the login form (CSRF on, as in
production), the token API and the mobile site; an administrator lifting a lockout on the employee page and
through the API. Time passes by the LOGIN_CLOCK_OFFSET_SECONDS setting (the lockout's clock)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from models.audit import AuditLog
from models.auth import LoginThrottle
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, api_login, bearer, token_of
from tests.views.test_sessions import admin_client, form_login, logged_in


@pytest.fixture
def clock(app):
    """Move the lockout's clock: clock(seconds) sets how far ahead of real time it runs."""
    def move(seconds):
        app.config["LOGIN_CLOCK_OFFSET_SECONDS"] = seconds
    yield move
    app.config.pop("LOGIN_CLOCK_OFFSET_SECONDS", None)


@pytest.fixture
def ip_rule(app):
    """A smaller per-address rule for a test: (free failures, longest wait)."""
    saved = app.config["LOGIN_IP_FREE_FAILURES"], app.config["LOGIN_IP_MAX_DELAY_SECONDS"]

    def set_rule(free, most):
        app.config["LOGIN_IP_FREE_FAILURES"], app.config["LOGIN_IP_MAX_DELAY_SECONDS"] = free, most
    yield set_rule
    app.config["LOGIN_IP_FREE_FAILURES"], app.config["LOGIN_IP_MAX_DELAY_SECONDS"] = saved


@pytest.fixture
def person(app):
    with app.app_context():
        employee = f.employee("小锁")
        data = dict(id=employee.id, login=employee.username)
        db.session.remove()
    return data


def row(app, kind, key):
    with app.app_context():
        found = db.session.scalar(select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key))
        db.session.expunge_all()
        return found


def api(client, username, password, address="127.0.0.1"):
    return client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"},
                       environ_base={"REMOTE_ADDR": address})


def lock(app, client, login):
    for n in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        answer = api(client, login, "wrong-pass", address=f"10.9.0.{n + 1}")  # not one address: no 429 here
        assert answer.status_code == 401


def test_the_tenth_failure_locks_and_the_right_password_is_refused_on_the_form_the_api_and_m(app, csrf, person, clock):
    limit, minutes = app.config["LOGIN_LOCKOUT_FAILURES"], app.config["LOGIN_LOCKOUT_MINUTES"]
    client = csrf.test_client()
    for n in range(limit - 1):
        page = form_login(client, person["login"], "wrong-pass").get_data(as_text=True)
        assert "已被锁定" not in page
    page = form_login(client, person["login"], "wrong-pass").get_data(as_text=True)
    assert "已被锁定" in page and f"连续登录失败 {limit} 次" in page and f"{int(minutes)} 分钟后再试" in page
    page = form_login(client, person["login"], f.PASSWORD).get_data(as_text=True)  # the right password
    assert "已被锁定" in page and not logged_in(client)
    answer = api(client, person["login"], f.PASSWORD)
    assert answer.status_code == 401 and "已被锁定" in answer.get_json()["message"]
    mobile = client.post("/m/login", data={"username": person["login"], "password": f.PASSWORD,
                                           "csrf_token": token_of(client, "/m/login")})
    assert "已被锁定" in mobile.get_data(as_text=True)
    assert row(app, "login", person["login"]).failures == limit  # refusals while locked do not count
    clock(minutes * 60 - 90)  # 1.5 minutes left: the message says 2
    assert "2 分钟后再试" in api(client, person["login"], f.PASSWORD).get_json()["message"]
    # another account is not affected
    assert api(client, "admin", ADMIN_PASSWORD).status_code == 200


def test_the_lockout_holds_for_its_window_and_then_lifts_by_itself(app, client, person, clock):
    window = app.config["LOGIN_LOCKOUT_MINUTES"] * 60
    lock(app, client, person["login"])
    clock(window - 5)
    assert api(client, person["login"], f.PASSWORD).status_code == 401
    clock(window + 1)
    assert api(client, person["login"], f.PASSWORD).status_code == 200
    assert row(app, "login", person["login"]) is None  # a success starts the count afresh
    assert api(client, person["login"], "wrong-pass").status_code == 401
    assert row(app, "login", person["login"]).failures == 1


def test_the_login_name_counts_whatever_its_case(app, client):
    limit = app.config["LOGIN_LOCKOUT_FAILURES"]
    for n in range(limit):
        api(client, "ADMIN" if n % 2 else "Admin", "wrong-pass", address=f"10.5.0.{n + 1}")
    answer = api(client, "admin", ADMIN_PASSWORD, address="10.5.1.1")
    assert answer.status_code == 401 and "已被锁定" in answer.get_json()["message"]


def test_a_successful_login_starts_the_count_afresh(app, client, person):
    limit = app.config["LOGIN_LOCKOUT_FAILURES"]
    for _ in range(limit - 1):
        api(client, person["login"], "wrong-pass", address="10.8.0.1")
    assert api(client, person["login"], f.PASSWORD, address="10.8.0.2").status_code == 200
    for _ in range(limit - 1):
        api(client, person["login"], "wrong-pass", address="10.8.0.3")
    assert api(client, person["login"], f.PASSWORD, address="10.8.0.4").status_code == 200


def test_failures_spread_beyond_the_window_do_not_lock(app, client, person, clock):
    limit, window = app.config["LOGIN_LOCKOUT_FAILURES"], app.config["LOGIN_LOCKOUT_MINUTES"] * 60
    for _ in range(limit - 1):
        api(client, person["login"], "wrong-pass", address="10.7.0.1")
    clock(window + 1)
    api(client, person["login"], "wrong-pass", address="10.7.0.1")  # a new window: 1
    assert row(app, "login", person["login"]).failures == 1
    assert api(client, person["login"], f.PASSWORD, address="10.7.0.2").status_code == 200


def test_an_address_that_fails_too_often_waits_longer_each_time_answered_429_in_chinese(app, client, person, clock,
                                                                                      ip_rule):
    ip_rule(3, 4)
    address = "10.6.0.1"
    for n in range(3):  # free failures, on any accounts
        assert api(client, f"1390000000{n}", "wrong-pass", address).status_code == 401
    assert row(app, "ip", address).locked_until is None
    waits, offset = [], 0
    for _ in range(4):
        assert api(client, "13900000009", "wrong-pass", address).status_code == 401  # counted: the wait grows
        answer = api(client, person["login"], f.PASSWORD, address)  # even the right password waits
        assert answer.status_code == 429
        waits.append(int(answer.headers["Retry-After"]))
        assert f"请在 {waits[-1]} 秒后重试" in answer.get_json()["message"]
        offset += waits[-1]
        clock(offset)
    assert waits == [1, 2, 4, 4]  # 1, 2, 4 … up to LOGIN_IP_MAX_DELAY_SECONDS
    # the form shows the same wait as a page, with Retry-After
    api(client, "13900000009", "wrong-pass", address)
    page = client.post("/login/", data={"username": person["login"], "password": f.PASSWORD},
                       environ_base={"REMOTE_ADDR": address})
    assert page.status_code == 429 and page.headers["Retry-After"] == "4"
    assert "该地址登录失败次数过多" in page.get_data(as_text=True)
    mobile = client.post("/m/login", data={"username": person["login"], "password": f.PASSWORD},
                         environ_base={"REMOTE_ADDR": address})
    assert mobile.status_code == 429 and "请在 4 秒后重试" in mobile.get_data(as_text=True)
    # another address is not affected; the account itself is not locked
    assert api(client, person["login"], f.PASSWORD, "10.6.0.2").status_code == 200
    clock(offset + 4)
    assert api(client, person["login"], f.PASSWORD, address).status_code == 200
    clock(offset + 4 + app.config["LOGIN_LOCKOUT_MINUTES"] * 60 + 1)  # a quiet window: free failures again
    assert api(client, "13900000009", "wrong-pass", address).status_code == 401
    assert row(app, "ip", address).failures == 1


def test_successful_logins_never_count_against_the_address(app, client, person):
    for _ in range(30):
        assert api(client, person["login"], f.PASSWORD).status_code == 200
    assert row(app, "ip", "127.0.0.1") is None and row(app, "login", person["login"]) is None


def test_an_administrator_lifts_a_lockout_on_the_employee_page(app, csrf, person):
    client = csrf.test_client()
    lock(app, client, person["login"])
    admin = admin_client(csrf)
    listing = admin.get("/employees/list/").get_data(as_text=True)
    assert listing.count("crm-locked") == 1 and "已锁定" in listing
    page = admin.get(f"/employees/show/{person['id']}").get_data(as_text=True)
    assert "crm-unlock" in page and "解除锁定" in page
    token = token_of(admin, f"/employees/show/{person['id']}")
    assert admin.post(f"/employees/unlock/{person['id']}").status_code == 400  # no CSRF token
    answer = admin.post(f"/employees/unlock/{person['id']}", data={"csrf_token": token}, follow_redirects=True)
    assert "已解除锁定" in answer.get_data(as_text=True)
    assert "crm-unlock" not in admin.get(f"/employees/show/{person['id']}").get_data(as_text=True)
    assert "crm-locked" not in admin.get("/employees/list/").get_data(as_text=True)
    form_login(client, person["login"], f.PASSWORD)
    assert logged_in(client)
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "lockout_lifted"))
        assert entry.actor_name == "admin" and entry.record_ids == str(person["id"])
        assert json.loads(entry.detail) == {"login": person["login"]}
    again = admin.post(f"/employees/unlock/{person['id']}", data={"csrf_token": token}, follow_redirects=True)
    assert "该账号未被锁定" in again.get_data(as_text=True)


def test_an_administrator_lifts_a_lockout_through_the_api(app, client, person):
    lock(app, client, person["login"])
    seller = bearer(client, *_seller(app))
    assert client.post(f"/api/v1/employee/{person['id']}/unlock", headers=seller).status_code == 403
    admin = bearer(client)
    assert client.get(f"/api/v1/employee/{person['id']}", headers=admin).get_json()["result"]["is_locked"] is True
    answer = client.post(f"/api/v1/employee/{person['id']}/unlock", headers=admin)
    assert answer.status_code == 200 and answer.get_json()["id"] == person["id"]
    assert answer.get_json()["result"]["is_locked"] is False
    assert api_login(client, person["login"], f.PASSWORD).status_code == 200
    again = client.post(f"/api/v1/employee/{person['id']}/unlock", headers=admin)
    assert again.status_code == 400 and again.get_json()["message"] == "该账号未被锁定。"
    assert client.post("/api/v1/employee/999999/unlock", headers=admin).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(AuditLog.actor_name).where(AuditLog.action == "lockout_lifted")) == "admin"


def _seller(app):
    with app.app_context():
        seller = f.employee("小卖")
        login = seller.username
        db.session.remove()
    return login, f.PASSWORD


GENERIC = "无效的用户名或密码"  # FAB's "Invalid login. Please try again."
MOBILE_GENERIC = "手机号或密码错误"


def mobile_login(client, username, password):
    return client.post("/m/login", data={"username": username, "password": password,
                                         "csrf_token": token_of(client, "/m/login")}).get_data(as_text=True)


def test_a_locked_account_sees_only_the_lockout_message_a_wrong_password_only_the_generic_one(app, csrf, person):
    client = csrf.test_client()
    page = form_login(client, person["login"], "wrong-pass").get_data(as_text=True)  # not locked yet
    assert page.count(GENERIC) == 1 and "已被锁定" not in page
    page = mobile_login(client, person["login"], "wrong-pass")
    assert MOBILE_GENERIC in page and "已被锁定" not in page
    lock(app, client, person["login"])
    for password in ("wrong-pass", f.PASSWORD):  # locked: a wrong and the right password alike
        page = form_login(client, person["login"], password).get_data(as_text=True)
        assert page.count("已被锁定") == 1 and "分钟后再试" in page and GENERIC not in page
        page = mobile_login(client, person["login"], password)
        assert page.count("已被锁定") == 1 and MOBILE_GENERIC not in page and GENERIC not in page
        answer = api(client, person["login"], password)
        assert answer.status_code == 401 and "已被锁定" in answer.get_json()["message"]
        assert "用户名或密码" not in answer.get_json()["message"]
    assert not logged_in(client)
    # another account's wrong password, right after, still gets the generic message alone
    page = form_login(client, "admin", "wrong-pass").get_data(as_text=True)
    assert page.count(GENERIC) == 1 and "已被锁定" not in page
    answer = api(client, "admin", "wrong-pass")
    assert answer.status_code == 401 and "已被锁定" not in answer.get_json()["message"]


def test_the_failure_that_locks_the_account_shows_only_the_lockout_message(app, csrf, person):
    client = csrf.test_client()
    for n in range(app.config["LOGIN_LOCKOUT_FAILURES"] - 1):
        api(client, person["login"], "wrong-pass", address=f"10.4.0.{n + 1}")
    page = form_login(client, person["login"], "wrong-pass").get_data(as_text=True)  # the tenth
    assert "已被锁定" in page and GENERIC not in page
