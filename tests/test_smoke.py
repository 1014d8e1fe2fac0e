"""Fails fast when a dependency drifts: the app boots, the schema migrates, FAB's login API answers."""
from tests.conftest import ADMIN_PASSWORD, api_login


def test_admin_logs_in_through_the_api(client):
    response = api_login(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 200
    assert response.get_json()["access_token"]


def test_wrong_password_is_refused(client):
    assert api_login(client, "admin", "wrong-password").status_code == 401


def test_openapi_spec_documents_the_org_api(client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    paths = spec["paths"]
    for path in ("/department/", "/employee/", "/employee/{pk}/resign", "/employee/{pk}/reset_login",
                 "/security/login"):
        assert "/api/v1" + path in paths, sorted(paths)
