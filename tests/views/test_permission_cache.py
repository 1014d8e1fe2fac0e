"""What a set of roles may do is kept across requests (app/authcache.py) — and forgotten on the next request
after any change: a module right, a field permission, a data scope, an employee's roles, a manager. Each
change is made the way the product makes it (the roles API, the organisation service) and observed through
the customer API; the cache is shown to be in use (a second request reads no permission rows)."""
import prison
import pytest
from sqlalchemy import event, select

from app import authcache
from app import organisation as org
from app import roles as role_service
from app.extensions import db
from models.org import Employee
from tests import factories as f
from tests.conftest import bearer
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")
LIST = "/api/v1/customer/?q=" + prison.dumps({"columns": ["id", "company_name", "mobile"], "page_size": 100})


@pytest.fixture
def team(app):
    with app.app_context():
        role = role_service.create_role("缓存-销售")
        role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "data_scope": "self"})
        other = role_service.create_role("缓存-其他")
        dept = f.department("缓存部")
        lead = f.employee("缓存主管", dept, role="缓存-销售")
        member = f.employee("缓存组员", dept, role="缓存-销售")
        f.customer(lead, name="主管的客户", mobile="13900000001")
        f.customer(member, name="组员的客户", mobile="13900000002")
        return {"role": role.id, "other": other.id, "lead": lead.id, "member": member.id, "login": lead.username}


def _statements(app, fn):
    seen = []

    def listen(conn, cursor, statement, params, context, many):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        result = fn()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return result, seen


def _names(client, headers):
    response = client.get(LIST, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["result"]


def test_a_second_request_reads_no_permission_rows(app, client, team):
    headers = bearer(client, team["login"], f.PASSWORD)
    _names(client, headers)
    _rows, seen = _statements(app, lambda: _names(client, headers))
    text = " ".join(seen)
    assert "crm_cache_version" in text
    for table in ("ab_permission_view_role", "role_field_permission", "role_profile"):
        assert table not in text, table


def test_a_module_right_counts_from_the_next_request(app, client, admin_headers, team):
    headers = bearer(client, team["login"], f.PASSWORD)
    assert client.get(LIST, headers=headers).status_code == 200
    answer = client.put(f"/api/v1/role/{team['role']}/matrix", json={"modules": {"contact": ["view"]}},
                        headers=admin_headers)
    assert answer.status_code == 200, answer.get_json()
    assert client.get(LIST, headers=headers).status_code == 403
    assert client.get("/api/v1/contact/", headers=headers).status_code == 200
    client.put(f"/api/v1/role/{team['role']}/matrix", json={"modules": {"customer": ["view"]}}, headers=admin_headers)
    assert client.get(LIST, headers=headers).status_code == 200
    assert client.get("/api/v1/contact/", headers=headers).status_code == 403


def test_a_field_permission_counts_from_the_next_request(app, client, admin_headers, team):
    headers = bearer(client, team["login"], f.PASSWORD)
    assert [r["mobile"] for r in _names(client, headers)] == ["13900000001"]
    client.put(f"/api/v1/role/{team['role']}/matrix", json={"fields": {"customer": {"mobile": "masked"}}},
               headers=admin_headers)
    assert [r["mobile"] for r in _names(client, headers)] == ["139****0001"]
    client.put(f"/api/v1/role/{team['role']}/matrix", json={"fields": {"customer": {"mobile": "hidden"}}},
               headers=admin_headers)
    assert "mobile" not in _names(client, headers)[0]
    # back to editable: the rows are deleted by one DELETE statement, which moves the counter too
    client.put(f"/api/v1/role/{team['role']}/matrix", json={"fields": {"customer": {}}}, headers=admin_headers)
    assert [r["mobile"] for r in _names(client, headers)] == ["13900000001"]


def test_a_data_scope_counts_from_the_next_request(app, client, admin_headers, team):
    headers = bearer(client, team["login"], f.PASSWORD)
    assert [r["company_name"] for r in _names(client, headers)] == ["主管的客户"]
    client.put(f"/api/v1/role/{team['role']}/matrix", json={"data_scope": "department"}, headers=admin_headers)
    assert sorted(r["company_name"] for r in _names(client, headers)) == ["主管的客户", "组员的客户"]
    client.put(f"/api/v1/role/{team['role']}/matrix", json={"data_scope": "self_and_subordinates"},
               headers=admin_headers)
    assert [r["company_name"] for r in _names(client, headers)] == ["主管的客户"]
    # the organisation is never kept between requests: a new report counts at once
    with app.app_context():
        org.update_employee(team["member"], manager_id=team["lead"])
    assert sorted(r["company_name"] for r in _names(client, headers)) == ["主管的客户", "组员的客户"]


def test_an_employees_roles_count_from_the_next_request(app, client, team):
    headers = bearer(client, team["login"], f.PASSWORD)
    assert client.get(LIST, headers=headers).status_code == 200
    with app.app_context():
        org.update_employee(team["lead"], role_ids=[team["other"]])
    assert client.get(LIST, headers=headers).status_code == 403
    with app.app_context():
        org.update_employee(team["lead"], role_ids=[team["role"]])
    assert client.get(LIST, headers=headers).status_code == 200


def test_the_counter_moves_with_each_kind_of_change_and_not_with_a_record(app, team):
    def version():
        with app.app_context():
            return db.session.scalar(select(authcache.version_table.c.value))

    start = version()
    with app.app_context():
        f.customer(db.session.get(Employee, team["lead"]), name="不相干")
        org.update_employee(team["member"], name="改名")
    assert version() == start  # records and names do not touch permissions
    with app.app_context():
        role_service.write_matrix(team["other"], {"analysis": ["customer_by_employee"]})
    assert version() > start
    start = version()
    with app.app_context():
        role_service.write_matrix(team["other"], {"data_scope": "all"})
    assert version() > start


def test_a_change_rolled_back_leaves_the_cache_as_it_was(app, client, team):
    """A request that changes a role and fails reads past the cache; nothing it saw stays."""
    headers = bearer(client, team["login"], f.PASSWORD)
    assert client.get(LIST, headers=headers).status_code == 200
    with app.test_request_context():
        role_service.profile_of(db.session.get(app.appbuilder.sm.role_model, team["role"])).data_scope = "all"
        db.session.flush()
        from app.scopes import user_scopes

        lead = db.session.get(Employee, team["lead"])
        assert user_scopes(lead) == {"all"}  # its own change, read from the database
        db.session.rollback()
    assert [r["company_name"] for r in _names(client, headers)] == ["主管的客户"]
