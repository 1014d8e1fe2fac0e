"""The organisation REST API, as an integration would use it."""
import pytest

from tests.conftest import api_login, bearer

PASSWORD = "secret12"


def _dept(client, headers, name, parent=None):
    response = client.post("/api/v1/department/", json={"name": name, "parent": parent}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _employee(client, headers, name, mobile, department, **extra):
    body = {"name": name, "mobile": mobile, "password": PASSWORD, "department": department, **extra}
    response = client.post("/api/v1/employee/", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_department_crud_through_the_api(client, admin_headers):
    top = _dept(client, admin_headers, "总公司")
    sales = _dept(client, admin_headers, "销售部", top)
    listed = client.get("/api/v1/department/", headers=admin_headers).get_json()
    assert [r["name"] for r in listed["result"]] == ["总公司", "销售部"]
    response = client.put(f"/api/v1/department/{sales}", json={"name": "销售中心"}, headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["result"]["name"] == "销售中心"
    refused = client.delete(f"/api/v1/department/{top}", headers=admin_headers)
    assert refused.status_code == 400
    assert "下级部门" in refused.get_json()["message"]
    assert client.delete(f"/api/v1/department/{sales}", headers=admin_headers).status_code == 200
    assert client.get(f"/api/v1/department/{sales}", headers=admin_headers).status_code == 404


def test_department_cycle_is_refused_in_chinese(client, admin_headers):
    top = _dept(client, admin_headers, "总公司")
    sales = _dept(client, admin_headers, "销售部", top)
    response = client.put(f"/api/v1/department/{top}", json={"parent": sales}, headers=admin_headers)
    assert response.status_code == 400
    assert response.get_json()["field"] == "parent"
    assert "部门" in response.get_json()["message"]


def test_employee_lifecycle_through_the_api(client, admin_headers):
    top = _dept(client, admin_headers, "总公司")
    heir = _employee(client, admin_headers, "接手人", "13800000001", top)
    pk = _employee(client, admin_headers, "张三", "13800000002", top, gender="male", manager=heir)
    shown = client.get(f"/api/v1/employee/{pk}", headers=admin_headers).get_json()["result"]
    assert shown["state"] == "inactive" and shown["username"] == "13800000002"
    assert "password" not in shown

    # not activated yet: cannot log in
    assert api_login(client, "13800000002", PASSWORD).status_code == 401
    for who in (heir, pk):
        assert client.post(f"/api/v1/employee/{who}/activate", headers=admin_headers).status_code == 200
    token = bearer(client, "13800000002", PASSWORD)
    assert client.get("/api/v1/employee/", headers=token).status_code == 403  # no organisation permission

    # the open token dies the moment the account is disabled, and login is refused
    response = client.post(f"/api/v1/employee/{pk}/disable", headers=admin_headers)
    assert response.get_json()["result"]["state"] == "disabled"
    assert client.get("/api/v1/menu/", headers=token).status_code == 401
    assert api_login(client, "13800000002", PASSWORD).status_code == 401

    client.post(f"/api/v1/employee/{pk}/activate", headers=admin_headers)
    token = bearer(client, "13800000002", PASSWORD)
    response = client.post(f"/api/v1/employee/{pk}/reset_password", json={"password": "another1"},
                           headers=admin_headers)
    assert response.status_code == 200
    assert client.get("/api/v1/menu/", headers=token).status_code == 401
    bearer(client, "13800000002", "another1")

    response = client.post(f"/api/v1/employee/{pk}/reset_login", json={"mobile": "13900000009", "password": "third333"},
                           headers=admin_headers)
    assert response.get_json()["result"]["username"] == "13900000009"
    assert api_login(client, "13800000002", "another1").status_code == 401
    bearer(client, "13900000009", "third333")

    response = client.post(f"/api/v1/employee/{pk}/resign", json={"handover_to": heir}, headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["result"]["state"] == "resigned"
    assert api_login(client, "13900000009", "third333").status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"name": "张三", "mobile": "1380000000", "password": PASSWORD}, "mobile"),
    ({"name": "", "mobile": "13800000005", "password": PASSWORD}, "name"),
    ({"name": "张三", "mobile": "13800000005", "password": "1"}, "password"),
])
def test_bad_employee_input_is_a_clear_error(client, admin_headers, body, field):
    top = _dept(client, admin_headers, "总公司")
    response = client.post("/api/v1/employee/", json={**body, "department": top}, headers=admin_headers)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    listed = client.get("/api/v1/employee/", headers=admin_headers).get_json()
    assert listed["count"] == 1  # only admin


def test_duplicate_mobile_and_manager_cycle_through_the_api(client, admin_headers):
    top = _dept(client, admin_headers, "总公司")
    boss = _employee(client, admin_headers, "老板", "13800000001", top)
    worker = _employee(client, admin_headers, "员工", "13800000002", top, manager=boss)
    response = client.post("/api/v1/employee/", json={"name": "重复", "mobile": "13800000001", "password": PASSWORD,
                                                      "department": top}, headers=admin_headers)
    assert response.status_code == 400 and "已" in response.get_json()["message"]
    response = client.put(f"/api/v1/employee/{boss}", json={"manager": worker, "name": "改名"}, headers=admin_headers)
    assert response.status_code == 400 and response.get_json()["field"] == "manager"
    assert client.get(f"/api/v1/employee/{boss}", headers=admin_headers).get_json()["result"]["first_name"] == "老板"


def test_forged_ids_get_404_and_bad_bodies_400(client, admin_headers):
    assert client.post("/api/v1/employee/99999/activate", headers=admin_headers).status_code == 404
    assert client.get("/api/v1/employee/99999", headers=admin_headers).status_code == 404
    top = _dept(client, admin_headers, "总公司")
    pk = _employee(client, admin_headers, "张三", "13800000002", top)
    response = client.post(f"/api/v1/employee/{pk}/resign", json={"handover_to": 99999}, headers=admin_headers)
    assert response.status_code == 404
    response = client.post(f"/api/v1/employee/{pk}/resign", data="not json", headers=admin_headers)
    assert response.status_code == 400
    assert client.get(f"/api/v1/employee/{pk}", headers=admin_headers).get_json()["result"]["state"] == "inactive"


def test_admin_cannot_disable_itself(client, admin_headers):
    listed = client.get("/api/v1/employee/", headers=admin_headers).get_json()
    admin_id = listed["result"][0]["id"]
    response = client.post(f"/api/v1/employee/{admin_id}/disable", headers=admin_headers)
    assert response.status_code == 400
    assert client.get("/api/v1/employee/", headers=admin_headers).status_code == 200


def test_api_without_token_is_refused(client):
    assert client.get("/api/v1/employee/").status_code == 401
