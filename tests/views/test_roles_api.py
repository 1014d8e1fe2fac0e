"""/api/v1/role/: an integration sets up roles and their matrix, as the OpenAPI spec describes."""
import prison
import pytest

from app.extensions import db
from app.permissions import ADMIN_ROLE
from tests import factories as f
from tests.conftest import bearer
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


def _kind(client, headers, kind):
    q = prison.dumps({"filters": [{"col": "kind", "opr": "eq", "value": kind}]})
    return client.get(f"/api/v1/role/?q={q}", headers=headers).get_json()


def test_roles_are_listed_by_kind(client, admin_headers):
    body = _kind(client, admin_headers, "call_center")
    assert [r["name"] for r in body["result"]] == ["坐席"]
    assert body["result"][0] == {"id": body["ids"][0], "name": "坐席", "kind": "call_center", "data_scope": "self",
                                 "builtin": True}
    assert [r["name"] for r in _kind(client, admin_headers, "customer")["result"]] == [ADMIN_ROLE, "销售主管", "销售"]


def test_create_rename_copy_and_delete_a_role(client, admin_headers):
    created = client.post("/api/v1/role/", json={"name": "客服", "kind": "call_center"}, headers=admin_headers)
    assert created.status_code == 201, created.get_json()
    pk = created.get_json()["id"]
    assert created.get_json()["result"]["builtin"] is False
    assert client.get(f"/api/v1/role/{pk}", headers=admin_headers).get_json()["result"]["name"] == "客服"
    renamed = client.put(f"/api/v1/role/{pk}", json={"name": "客服专员"}, headers=admin_headers)
    assert renamed.status_code == 200 and renamed.get_json()["result"]["name"] == "客服专员"
    copied = client.post(f"/api/v1/role/{pk}/copy", json={"name": "客服组长"}, headers=admin_headers)
    assert copied.status_code == 201 and copied.get_json()["result"]["kind"] == "call_center"
    default_name = client.post(f"/api/v1/role/{pk}/copy", headers=admin_headers)
    assert default_name.get_json()["result"]["name"] == "客服专员 副本"
    assert client.delete(f"/api/v1/role/{pk}", headers=admin_headers).status_code == 200
    assert client.get(f"/api/v1/role/{pk}", headers=admin_headers).status_code == 404
    assert client.get("/api/v1/role/_info", headers=admin_headers).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"kind": "customer"}, "name"), ({"name": "x", "kind": "finance"}, "kind"), ({"name": "销售"}, "name"),
])
def test_a_wrong_role_is_refused(client, admin_headers, body, field):
    response = client.post("/api/v1/role/", json=body, headers=admin_headers)
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_the_matrix_round_trips(client, admin_headers):
    pk = client.post("/api/v1/role/", json={"name": "财务"}, headers=admin_headers).get_json()["id"]
    matrix = {"modules": {"contract": ["view", "export"], "invoice": ["view", "add", "edit", "delete"]},
              "analysis": ["sales_by_department"], "data_scope": "department_tree",
              "fields": {"customer": {"mobile": "masked"}, "contract": {"note": "hidden", "amount": "read_only"}}}
    saved = client.put(f"/api/v1/role/{pk}/matrix", json=matrix, headers=admin_headers)
    assert saved.status_code == 200 and saved.get_json() == matrix
    assert client.get(f"/api/v1/role/{pk}/matrix", headers=admin_headers).get_json() == matrix
    partial = client.put(f"/api/v1/role/{pk}/matrix", json={"data_scope": "self"}, headers=admin_headers).get_json()
    assert partial == {**matrix, "data_scope": "self"}


@pytest.mark.parametrize("body", [
    {"modules": {"pool": ["add"]}}, {"modules": {"warehouse": ["view"]}}, {"data_scope": "everyone"},
    {"analysis": ["salary"]}, {"fields": {"customer": {"company_name": "masked"}}}, [], "x",
])
def test_a_wrong_matrix_is_a_400_and_nothing_changes(client, admin_headers, body):
    pk = client.post("/api/v1/role/", json={"name": "测试"}, headers=admin_headers).get_json()["id"]
    before = client.get(f"/api/v1/role/{pk}/matrix", headers=admin_headers).get_json()
    response = client.put(f"/api/v1/role/{pk}/matrix", json=body, headers=admin_headers)
    assert response.status_code == 400 and response.get_json()["message"]
    assert client.get(f"/api/v1/role/{pk}/matrix", headers=admin_headers).get_json() == before


def test_the_administrator_role_is_not_changed_through_the_api(client, admin_headers, app):
    with app.app_context():
        admin_id = app.appbuilder.sm.find_role(ADMIN_ROLE).id
    assert client.put(f"/api/v1/role/{admin_id}/matrix", json={"modules": {}}, headers=admin_headers).status_code == 400
    assert client.put(f"/api/v1/role/{admin_id}", json={"name": "root"}, headers=admin_headers).status_code == 400
    assert client.delete(f"/api/v1/role/{admin_id}", headers=admin_headers).status_code == 400
    matrix = client.get(f"/api/v1/role/{admin_id}/matrix", headers=admin_headers).get_json()
    assert matrix["data_scope"] == "all" and "release" in matrix["modules"]["customer"]


def test_a_role_held_by_employees_is_not_deleted(client, admin_headers, app):
    with app.app_context():
        f.employee("坐席员工", role="坐席")
        agent_id = app.appbuilder.sm.find_role("坐席").id
        db.session.remove()
    response = client.delete(f"/api/v1/role/{agent_id}", headers=admin_headers)
    assert response.status_code == 400 and "1" in response.get_json()["message"]


def test_only_the_administrator_manages_roles(client, app):
    with app.app_context():
        manager = f.employee("主管", role="销售主管")
        login = manager.username
        db.session.remove()
    headers = bearer(client, login, f.PASSWORD)
    assert client.get("/api/v1/role/", headers=headers).status_code == 403
    assert client.get("/api/v1/role/1/matrix", headers=headers).status_code == 403
    assert client.put("/api/v1/role/3/matrix", json={"data_scope": "all"}, headers=headers).status_code == 403
    assert client.post("/api/v1/role/", json={"name": "提权"}, headers=headers).status_code == 403


def test_the_employee_api_keeps_one_role_of_each_kind(client, admin_headers, app):
    with app.app_context():
        sm = app.appbuilder.sm
        seller, manager, agent = (sm.find_role(n).id for n in ("销售", "销售主管", "坐席"))
        dept = f.department().id
    body = {"name": "新员工", "mobile": "13700000009", "password": "secret12", "department": dept,
            "roles": [seller, manager]}
    refused = client.post("/api/v1/employee/", json=body, headers=admin_headers)
    assert refused.status_code == 400 and refused.get_json()["field"] == "roles"
    created = client.post("/api/v1/employee/", json={**body, "roles": [seller, agent]}, headers=admin_headers)
    assert created.status_code == 201, created.get_json()


def test_the_openapi_spec_documents_roles_and_the_matrix(client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    assert {"/api/v1/role/", "/api/v1/role/{pk}", "/api/v1/role/{pk}/matrix", "/api/v1/role/{pk}/copy"} <= set(
        spec["paths"])
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/role/{pk}/matrix"])
    matrix = spec["components"]["schemas"]["RoleMatrixSchema"]["properties"]
    assert set(matrix) == {"modules", "analysis", "data_scope", "fields"}
    assert matrix["data_scope"]["enum"] == ["self", "self_and_subordinates", "department", "department_tree", "all"]
    ref = spec["paths"]["/api/v1/role/{pk}/matrix"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert ref["$ref"].rsplit("/", 1)[1] in spec["components"]["schemas"]
