"""A field defined in one web process is in every other process from its next request, no restart: two
separate processes, each with its own app, against one database (the test database: SQLite or PostgreSQL)."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, web_login

ROOT = Path(__file__).resolve().parents[2]

OTHER_PROCESS = textwrap.dedent("""
    import json, sys
    from config import TestConfig
    from app import create_app

    app = create_app(TestConfig)
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": sys.argv[1],
                                                          "provider": "db"}).get_json()["access_token"]
    headers = {"Authorization": "Bearer " + token}
    if sys.argv[2] == "define":
        body = {"module": "customer", "label": "客户等级", "type": "select", "options": ["A", "B"],
                "filterable": True, "list_default": True}
        print(json.dumps(client.post("/api/v1/custom_field/", json=body, headers=headers).get_json()))
    else:
        info = client.get("/api/v1/customer/_info", headers=headers).get_json()
        print(json.dumps([c.get("label") for c in info["add_columns"] if c.get("custom")]))
""")


def other_process(*args) -> dict:
    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS, ADMIN_PASSWORD, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_field_defined_in_another_process_is_here_on_the_next_request(client, admin_headers):
    web_login(client)
    assert "客户等级" not in client.get("/customer/add").get_data(as_text=True)  # this process has built its forms
    assert not [c for c in client.get("/api/v1/customer/_info", headers=admin_headers).get_json()["add_columns"]
                if c.get("custom")]

    defined = other_process("define")
    name, option = defined["name"], defined["result"]["options"][0]["id"]

    assert f'name="{name}"' in client.get("/customer/add").get_data(as_text=True)
    created = client.post("/api/v1/customer/", json={"company_name": "甲公司", "mobile": "13912340001", name: "A"}, headers=admin_headers)
    assert created.status_code == 201 and created.get_json()["result"][name] == option
    assert "客户等级" in client.get(f"/customer/list/?{name}={option}").get_data(as_text=True)

    # and back: a change made here is in the other process at once
    client.put(f"/api/v1/custom_field/{defined['id']}", json={"label": "客户级别（新）"}, headers=admin_headers)
    assert other_process("read") == ["客户级别（新）"]
