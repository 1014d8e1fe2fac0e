"""Web sessions through the login form and its session cookie (CSRF on, as in production): logging in after an
administrator's 重置密码 / 重置登录账号 / 禁用→激活, logout ending a copied cookie, and 个人资料 → 修改密码
(screen and API) ending the employee's other sessions and tokens while this one continues."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from models.auth import LoginSession
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, api_login, token_of

PROFILE = "/profile/userinfo/"


@pytest.fixture
def employee(app):
    with app.app_context():
        person = f.employee("小张")
        data = dict(id=person.id, login=person.username)
        db.session.remove()
    return data


def form_login(client, username, password):
    """Log in as a person does: open the form, send it back with its CSRF token."""
    data = {"username": username, "password": password, "csrf_token": token_of(client, "/login/")}
    return client.post("/login/", data=data, follow_redirects=True)


def logged_in(client) -> bool:
    response = client.get(PROFILE)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def admin_client(app):
    client = app.test_client()
    form_login(client, "admin", ADMIN_PASSWORD)
    assert logged_in(client)
    return client


def test_the_form_refuses_a_post_without_its_csrf_token(csrf, employee):
    client = csrf.test_client()
    client.get("/login/")
    response = client.post("/login/", data={"username": employee["login"], "password": f.PASSWORD})
    assert response.status_code == 400
    assert not logged_in(client)


def test_an_employee_logs_in_through_the_form_after_an_administrator_resets_the_password(csrf, employee):
    before = csrf.test_client()
    form_login(before, employee["login"], f.PASSWORD)
    assert logged_in(before)
    admin = admin_client(csrf)
    url = f"/employees/reset-password/?ids={employee['id']}"
    answer = admin.post(url, data={"password": "brand-new-1", "csrf_token": token_of(admin, url)})
    assert answer.status_code == 302
    assert not logged_in(before)  # the session from before the reset ended
    staff = csrf.test_client()
    page = form_login(staff, employee["login"], "brand-new-1")
    assert page.request.path != "/login/"
    assert logged_in(staff)
    assert staff.get("/customer/list/").status_code == 200
    wrong = csrf.test_client()
    form_login(wrong, employee["login"], f.PASSWORD)  # the old password no longer opens anything
    assert not logged_in(wrong)


def test_an_employee_logs_in_through_the_form_after_the_login_account_is_reset(csrf, employee):
    before = csrf.test_client()
    form_login(before, employee["login"], f.PASSWORD)
    admin = admin_client(csrf)
    url = f"/employees/reset-login/?ids={employee['id']}"
    answer = admin.post(url, data={"mobile": "13812345678", "password": "brand-new-2",
                                   "csrf_token": token_of(admin, url)})
    assert answer.status_code == 302
    assert not logged_in(before)
    staff = csrf.test_client()
    form_login(staff, "13812345678", "brand-new-2")
    assert logged_in(staff)
    assert staff.get("/customer/list/").status_code == 200


def test_an_employee_logs_in_through_the_form_after_being_disabled_and_activated_again(csrf, employee):
    before = csrf.test_client()
    form_login(before, employee["login"], f.PASSWORD)
    admin = admin_client(csrf)
    for action in ("disable", "activate"):
        answer = admin.post("/employees/action_post", data={
            "action": action, "rowid": [str(employee["id"])], "csrf_token": token_of(admin, "/employees/list/")})
        assert answer.status_code == 302
    assert not logged_in(before)  # disabling logged them out
    staff = csrf.test_client()
    form_login(staff, employee["login"], f.PASSWORD)
    assert logged_in(staff)
    assert staff.get("/customer/list/").status_code == 200


def test_a_session_cookie_copied_before_logout_does_not_work_after_it(app, employee):
    client = app.test_client()
    form_login(client, employee["login"], f.PASSWORD)
    assert logged_in(client)
    copied = client.get_cookie("session").value
    other = app.test_client()
    form_login(other, employee["login"], f.PASSWORD)  # the same employee on another computer
    client.get("/logout/")
    assert not logged_in(client)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not logged_in(thief)
    assert logged_in(other)  # logging out here does not log out the other computer
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginSession)
                                 .where(LoginSession.employee_id == employee["id"])) == 1


def _tokens(client, login, password):
    response = client.post("/api/v1/security/login", json={"username": login, "password": password,
                                                           "provider": "db", "refresh": True})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {"Authorization": f"Bearer {body['access_token']}"}, {"Authorization": f"Bearer {body['refresh_token']}"}


def test_changing_ones_own_password_on_the_profile_ends_the_other_sessions_and_tokens(csrf, employee):
    here, elsewhere = csrf.test_client(), csrf.test_client()
    form_login(here, employee["login"], f.PASSWORD)
    form_login(elsewhere, employee["login"], f.PASSWORD)
    api = csrf.test_client()  # an app: tokens only, no session cookie
    token, refresh = _tokens(api, employee["login"], f.PASSWORD)
    assert api.get("/api/v1/customer/", headers=token).status_code == 200
    profile = here.get(PROFILE).get_data(as_text=True)
    assert "修改密码" in profile and 'href="/resetmypassword/form"' in profile
    form = here.get("/resetmypassword/form").get_data(as_text=True)
    assert "当前密码" in form and "确认新密码" in form

    def change(old, new, confirm=None):
        return here.post("/resetmypassword/form", data={
            "old_password": old, "password": new, "conf_password": new if confirm is None else confirm,
            "csrf_token": token_of(here, "/resetmypassword/form")})

    wrong = change("not-my-password", "brand-new-3")
    assert wrong.status_code == 200 and "当前密码不正确" in wrong.get_data(as_text=True)
    short = change(f.PASSWORD, "abc")
    assert short.status_code == 200 and "密码至少需要 8 位" in short.get_data(as_text=True)
    mismatch = change(f.PASSWORD, "brand-new-3", "brand-new-4")
    assert mismatch.status_code == 200 and "两次输入的密码不一致" in mismatch.get_data(as_text=True)
    assert logged_in(elsewhere)  # nothing changed yet

    done = change(f.PASSWORD, "brand-new-3")
    assert done.status_code == 302 and done.headers["Location"].endswith(PROFILE)
    assert "密码已修改" in here.get(PROFILE).get_data(as_text=True)
    assert logged_in(here)  # this session continues
    assert not logged_in(elsewhere)  # the other one ended
    assert api.get("/api/v1/customer/", headers=token).status_code == 401  # and the API token
    assert api.post("/api/v1/security/refresh", headers=refresh).status_code == 401  # and its refresh token
    assert api_login(api, employee["login"], f.PASSWORD).status_code == 401
    again = csrf.test_client()
    form_login(again, employee["login"], "brand-new-3")
    assert logged_in(again)


def test_the_api_changes_ones_own_password_and_answers_a_fresh_token(client, employee):
    token, _ = _tokens(client, employee["login"], f.PASSWORD)
    browser = client.application.test_client()
    form_login(browser, employee["login"], f.PASSWORD)
    url = "/api/v1/me/password"
    assert client.post(url, json={"old_password": f.PASSWORD, "new_password": "x" * 8}).status_code == 401
    wrong = client.post(url, json={"old_password": "nope-nope", "new_password": "brand-new-5"}, headers=token)
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "old_password"
    assert "当前密码不正确" in wrong.get_json()["message"]
    short = client.post(url, json={"old_password": f.PASSWORD, "new_password": "abc"}, headers=token)
    assert short.status_code == 400 and short.get_json()["field"] == "new_password"
    same = client.post(url, json={"old_password": f.PASSWORD, "new_password": f.PASSWORD}, headers=token)
    assert same.status_code == 400 and same.get_json()["field"] == "new_password"
    for body in ([1, 2], {"old_password": 5, "new_password": []}):
        assert client.post(url, json=body, headers=token).status_code == 400
    assert client.post(url, data="not json", headers=token).status_code == 400
    assert logged_in(browser)

    done = client.post(url, json={"old_password": f.PASSWORD, "new_password": "brand-new-5"}, headers=token)
    assert done.status_code == 200, done.get_json()
    fresh = {"Authorization": f"Bearer {done.get_json()['access_token']}"}
    assert client.get("/api/v1/customer/", headers=token).status_code == 401
    assert client.get("/api/v1/customer/", headers=fresh).status_code == 200
    assert not logged_in(browser)
    assert api_login(client, employee["login"], "brand-new-5").status_code == 200


def test_a_browser_session_may_use_the_api_and_continues_after_the_change(app, employee):
    browser = app.test_client()
    form_login(browser, employee["login"], f.PASSWORD)
    done = browser.post("/api/v1/me/password", json={"old_password": f.PASSWORD, "new_password": "brand-new-6"})
    assert done.status_code == 200
    assert logged_in(browser)


def test_the_password_api_is_in_the_openapi_description(client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    operation = spec["paths"]["/api/v1/me/password"]["post"]
    assert set(operation["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "old_password", "new_password"}
