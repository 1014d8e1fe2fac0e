"""Chinese by default, English selectable; every msgid in the code has a Chinese translation."""
import subprocess
import sys
from pathlib import Path

from tests.conftest import web_login

ROOT = Path(__file__).resolve().parent.parent


def test_screens_speak_chinese_by_default_and_english_on_request(client):
    web_login(client)
    assert "组织架构" in client.get("/employees/list/").get_data(as_text=True)
    client.get("/lang/en")
    page = client.get("/employees/list/").get_data(as_text=True)
    assert "Organisation" in page and "组织架构" not in page


def test_api_errors_are_chinese_by_default(client, admin_headers):
    response = client.get("/api/v1/customer/999999", headers=admin_headers)
    assert response.status_code == 404 and response.get_json()["message"] == "该记录不存在。"


def test_every_message_has_a_chinese_translation():
    result = subprocess.run([sys.executable, "tools/i18n.py", "check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_api_info_speaks_the_users_language_and_never_shows_the_catalog_header(client, admin_headers):
    for resource in ("customer", "department", "employee", "contact"):
        info = client.get(f"/api/v1/{resource}/_info", headers=admin_headers).get_json()
        for column in info["add_columns"]:
            assert "Project-Id-Version" not in column["description"], (resource, column)
            assert "Project-Id-Version" not in column["label"], (resource, column)
    department = client.get("/api/v1/department/_info", headers=admin_headers).get_json()
    assert {c["name"]: c["label"] for c in department["add_columns"]}["parent"] == "上级部门"
