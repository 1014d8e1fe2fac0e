"""The password rule (at least 8 characters, not one character repeated, not the employee's login or mobile
however written) on every path that sets a password: 新增员工, 重置密码 and 重置登录账号 (screen with its CSRF
token, and API), 修改密码 in 个人资料 and POST /api/v1/me/password, the `crm create-admin` command and the first
administrator (given or generated), and the demo logins of the README."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from app import organisation as org
from app.errors import CrmError
from app.extensions import db
from models.org import Employee
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, api_login, bearer, token_of
from tests.views.test_sessions import admin_client, form_login, logged_in

SHORT, REPEATED = "abc1234", "88888888"
TOO_SHORT, SAME_CHAR, OWN = "密码至少需要 8 位", "密码不能全部是同一个字符", "密码不能与登录账号或手机号相同"


@pytest.fixture
def staff(app):
    with app.app_context():
        person = f.employee("小密")
        data = dict(id=person.id, login=person.username, department=person.department_id)
        db.session.remove()
    return data


def employees_with(app, mobile) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Employee).where(Employee.username == mobile))
        db.session.remove()
        return count


@pytest.mark.parametrize("password, refusal", [
    (SHORT, TOO_SHORT), (REPEATED, SAME_CHAR), ("13700001234", OWN), ("137 0000 1234", OWN), ("+8613700001234", OWN),
])
def test_add_employee_on_the_screen_refuses_a_weak_password_in_chinese(app, csrf, staff, password, refusal):
    admin = admin_client(csrf)
    data = {"first_name": "新人", "department": str(staff["department"]), "mobile": "13700001234",
            "password": password, "csrf_token": token_of(admin, "/employees/add")}
    page = admin.post("/employees/add", data=data)
    assert page.status_code == 400 and refusal in page.get_data(as_text=True)
    assert employees_with(app, "13700001234") == 0
    data["password"] = "good-pass-1"
    assert admin.post("/employees/add", data=data).status_code == 302
    assert employees_with(app, "13700001234") == 1


@pytest.mark.parametrize("password, refusal", [(SHORT, TOO_SHORT), (REPEATED, SAME_CHAR), ("13700005678", OWN)])
def test_add_employee_through_the_api_refuses_a_weak_password(app, client, admin_headers, staff, password, refusal):
    body = {"name": "新人", "mobile": "13700005678", "password": password, "department": staff["department"]}
    answer = client.post("/api/v1/employee/", json=body, headers=admin_headers)
    assert answer.status_code == 400 and refusal in answer.get_json()["message"]
    assert answer.get_json()["field"] == "password" and employees_with(app, "13700005678") == 0
    body["password"] = "good-pass-1"
    assert client.post("/api/v1/employee/", json=body, headers=admin_headers).status_code == 201


def test_reset_password_on_the_screen_and_the_api_refuses_the_employees_own_mobile(app, csrf, staff):
    admin = admin_client(csrf)
    url = f"/employees/reset-password/?ids={staff['id']}"
    for password, refusal in ((staff["login"], OWN), (REPEATED, SAME_CHAR), (SHORT, TOO_SHORT)):
        page = admin.post(url, data={"password": password, "csrf_token": token_of(admin, url)})
        assert page.status_code == 400 and refusal in page.get_data(as_text=True)
    client = csrf.test_client()
    headers = bearer(client)
    answer = client.post(f"/api/v1/employee/{staff['id']}/reset_password", json={"password": staff["login"]},
                         headers=headers)
    assert answer.status_code == 400 and OWN in answer.get_json()["message"]
    assert api_login(client, staff["login"], f.PASSWORD).status_code == 200  # nothing was changed
    assert admin.post(url, data={"password": "good-pass-2", "csrf_token": token_of(admin, url)}).status_code == 302
    assert api_login(client, staff["login"], "good-pass-2").status_code == 200


def test_reset_login_on_the_screen_and_the_api_refuses_the_new_mobile_as_password(app, csrf, staff):
    admin = admin_client(csrf)
    url = f"/employees/reset-login/?ids={staff['id']}"
    page = admin.post(url, data={"mobile": "13712345678", "password": "13712345678", "csrf_token": token_of(admin, url)})
    assert page.status_code == 400 and OWN in page.get_data(as_text=True)
    client = csrf.test_client()
    answer = client.post(f"/api/v1/employee/{staff['id']}/reset_login", headers=bearer(client),
                         json={"mobile": "13712345678", "password": "1371234 5678"})
    assert answer.status_code == 400 and OWN in answer.get_json()["message"]
    assert employees_with(app, "13712345678") == 0
    assert api_login(client, staff["login"], f.PASSWORD).status_code == 200


def test_change_own_password_on_the_profile_and_the_api_follows_the_rule(app, csrf, staff):
    here = csrf.test_client()
    form_login(here, staff["login"], f.PASSWORD)
    assert logged_in(here)

    def change(new):
        return here.post("/resetmypassword/form", data={
            "old_password": f.PASSWORD, "password": new, "conf_password": new,
            "csrf_token": token_of(here, "/resetmypassword/form")}).get_data(as_text=True)

    assert OWN in change(staff["login"])
    assert SAME_CHAR in change(REPEATED)
    api = csrf.test_client()
    token = bearer(api, staff["login"], f.PASSWORD)
    for new, refusal in ((staff["login"], OWN), (REPEATED, SAME_CHAR), (SHORT, TOO_SHORT)):
        answer = api.post("/api/v1/me/password", json={"old_password": f.PASSWORD, "new_password": new},
                          headers=token)
        assert answer.status_code == 400 and refusal in answer.get_json()["message"]
        assert answer.get_json()["field"] == "new_password"
    assert api_login(api, staff["login"], f.PASSWORD).status_code == 200
    change("good-pass-3")
    assert api_login(api, staff["login"], "good-pass-3").status_code == 200


def test_the_create_admin_command_refuses_a_weak_password(app):
    runner = app.test_cli_runner()
    for password, refusal in ((SHORT, TOO_SHORT), ("admin", TOO_SHORT), ("aaaaaaaaaa", SAME_CHAR)):
        result = runner.invoke(args=["crm", "create-admin", "--password", password])
        assert result.exit_code != 0 and refusal in result.output
    client = app.test_client()
    assert api_login(client, "admin", ADMIN_PASSWORD).status_code == 200  # unchanged
    result = runner.invoke(args=["crm", "create-admin", "--password", ADMIN_PASSWORD])
    assert result.exit_code == 0 and "ready" in result.output


def test_the_first_administrator_given_or_generated_follows_the_rule(app, monkeypatch):
    from app.cli import ensure_admin

    monkeypatch.setenv("CRM_ADMIN_PASSWORD", "x")  # as `crm init` with it set: the file is not written
    with app.app_context():
        db.session.execute(delete(Employee).where(Employee.username == "admin"))
        db.session.commit()
        with pytest.raises(CrmError, match="至少需要 8 位"):
            ensure_admin("short")
        with pytest.raises(CrmError):
            ensure_admin("aaaaaaaaaaaa")
        generated = ensure_admin()
        assert org.check_password(generated, login="admin") == generated
        db.session.remove()
    client = app.test_client()
    assert api_login(client, "admin", generated).status_code == 200
    with app.app_context():
        admin = db.session.scalar(select(Employee).where(Employee.username == "admin"))
        org.reset_password(admin.id, ADMIN_PASSWORD)  # for the next tests
        db.session.remove()


def test_the_demo_logins_of_the_readme_still_work(app):
    from app.demo import DEMO_PASSWORD, EMPLOYEES, load_demo_data

    with app.app_context():
        load_demo_data()
        db.session.remove()
    client = app.test_client()
    active = [mobile for _name, mobile, *_rest, state in EMPLOYEES if state == "active"]
    for mobile in active[:3]:
        assert api_login(client, mobile, DEMO_PASSWORD).status_code == 200
    with open("README.md", encoding="utf-8") as readme:
        assert DEMO_PASSWORD in readme.read()
