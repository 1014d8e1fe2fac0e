"""数据中心 through the screens (session cookie) and the API (bearer token): the same numbers, the rights
(403), the data scope (404 for a stranger's department or employee) and the .xlsx export."""
import io

import openpyxl
import pytest

from app.extensions import db
from tests import factories as f
from tests import statsdata as data
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def dataset(app):
    with app.app_context():
        built = data.build()
        db.session.remove()
    return built


def _rows(body, key="employee_id"):
    return {row[key]: row for row in body["table"]}


def test_the_api_answers_the_issues_shape_with_exact_figures(client, dataset, admin_headers):
    body = client.get(f"/api/v1/stats/employee_calls?{MARCH}", headers=admin_headers).get_json()
    assert set(body) >= {"series", "table", "total"}
    rows = _rows(body)
    for name, (dialed, connected, talk) in data.CALLS.items():
        row = rows[getattr(dataset, name)]
        assert (row["dialed"], row["connected"], row["talk_seconds"]) == (dialed, connected, talk), name
    assert body["total"]["dialed"] == 8 and len(body["series"]) == 31
    customers = client.get(f"/api/v1/stats/employee_customers?{MARCH}", headers=admin_headers).get_json()
    row = _rows(customers)[dataset.s2]
    assert (row["new_customers"], row["claimed"], row["released"]) == data.CUSTOMERS["s2"]
    departments = client.get(f"/api/v1/stats/department_calls?{MARCH}", headers=admin_headers).get_json()
    assert _rows(departments, "department_id")[dataset.a]["dialed"] == 3


def test_every_page_answers_for_the_administrator(client, dataset, admin_headers):
    for page in ("employee_customers", "department_customers", "employee_followups", "department_followups",
                 "employee_calls", "department_calls", "employee_sales", "department_sales", "ranking"):
        response = client.get(f"/api/v1/stats/{page}?period=last_month", headers=admin_headers)
        assert response.status_code == 200, (page, response.get_json())
        assert {"series", "table", "total"} <= set(response.get_json())


def test_a_page_outside_the_callers_rights_is_403(client, dataset):
    salesperson = bearer(client, dataset.logins["s1"], f.PASSWORD)
    assert client.get(f"/api/v1/stats/department_calls?{MARCH}", headers=salesperson).status_code == 403
    assert client.get(f"/api/v1/stats/employee_calls?{MARCH}", headers=salesperson).status_code == 200
    agent = bearer(client, dataset.logins["agent"], f.PASSWORD)
    response = client.get(f"/api/v1/stats/employee_sales?{MARCH}", headers=agent)
    assert response.status_code == 403 and response.get_json()["message"]
    assert client.get(f"/api/v1/stats/ranking?{MARCH}", headers=agent).status_code == 200
    assert client.get(f"/api/v1/stats/employee_calls?{MARCH}").status_code == 401


def test_the_scope_holds_in_the_api(client, dataset):
    boss = bearer(client, dataset.logins["boss"], f.PASSWORD)
    body = client.get(f"/api/v1/stats/employee_calls?{MARCH}", headers=boss).get_json()
    assert set(_rows(body)) == {dataset.boss, dataset.s1, dataset.s2}
    assert body["total"]["dialed"] == sum(data.CALLS[k][0] for k in ("boss", "s1", "s2"))
    for query in (f"department={dataset.b}", f"employee={dataset.s3}", "department=99999", "employee=x"):
        response = client.get(f"/api/v1/stats/employee_calls?{MARCH}&{query}", headers=boss)
        assert response.status_code == 404, query
        assert response.get_json()["message"]
    mine = bearer(client, dataset.logins["s3"], f.PASSWORD)
    body = client.get(f"/api/v1/stats/employee_calls?{MARCH}", headers=mine).get_json()
    assert list(_rows(body)) == [dataset.s3] and body["total"]["dialed"] == 2


def test_bad_input_is_a_clear_400(client, dataset, admin_headers):
    for query in ("from=2026-02-30", "from=2026-03-10&to=2026-03-01", "from=2020-01-01&to=2026-01-01",
                  "period=yesterday", "from=" + "9" * 300):
        response = client.get(f"/api/v1/stats/employee_calls?{query}", headers=admin_headers)
        assert response.status_code == 400, query
        assert response.get_json()["message"]
    assert client.get("/api/v1/stats/nothing", headers=admin_headers).status_code == 404
    assert client.get(f"/api/v1/stats/ranking?{MARCH}&by=nonsense", headers=admin_headers).status_code == 400


def test_the_api_is_in_the_openapi_spec(client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    path = next(p for p in spec["paths"] if p.startswith("/api/v1/stats/"))
    parameters = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
    assert {"page", "from", "to", "department", "employee"} <= parameters


def test_the_screen_shows_the_figures_and_the_note(client, dataset):
    web_login(client, dataset.logins["boss"], f.PASSWORD)
    page = client.get(f"/stats/employee_calls/?{MARCH}").get_data(as_text=True)
    assert "销售S1" in page and "销售S2" in page and "销售S3" not in page
    assert "echarts.min.js" in page and 'id="chart-series"' in page
    departments = client.get(f"/stats/department_calls/?{MARCH}").get_data(as_text=True)
    assert "按员工当前所在部门" in departments
    refused = client.get(f"/stats/employee_calls/?{MARCH}&employee={dataset.s3}")
    assert refused.status_code == 404 and "不在您的数据权限范围内" in refused.get_data(as_text=True)
    assert client.get("/stats/employee_calls/?from=bad").status_code == 200  # the form says what is wrong


def test_menus_and_pages_follow_the_analysis_rights(client, dataset):
    web_login(client, dataset.logins["s1"], f.PASSWORD)
    menu = client.get("/api/v1/menu/").get_json()["result"]
    center = next(item for item in menu if item["name"] == "DataCenter")
    urls = {child["url"] for child in center["childs"]}
    assert urls == {"/stats/employee_customers/", "/stats/employee_followups/", "/stats/employee_calls/",
                    "/stats/employee_sales/", "/stats/ranking/"}
    refused = client.get("/stats/department_calls/")
    assert refused.status_code == 403 and "您没有查看此统计的权限" in refused.get_data(as_text=True)
    assert client.get("/stats/department_calls/export").status_code == 403
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_an_employee_without_analysis_rights_has_no_data_center(client, app, restore_roles):
    from app import roles as role_service

    with app.app_context():
        role = role_service.create_role("无统计角色")
        role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "analysis": []})
        login = f.employee("无统计员工", role="无统计角色").username
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    menu = client.get("/api/v1/menu/").get_json()["result"]
    assert not any(item["name"] == "DataCenter" for item in menu)
    assert client.get("/stats/employee_calls/").status_code == 403
    assert client.get("/api/v1/stats/employee_calls").status_code == 403


def test_the_export_is_what_the_page_shows(client, dataset):
    web_login(client)
    response = client.get(f"/stats/employee_calls/export?{MARCH}&department={dataset.a}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[2]
    assert header[:2] == ("员工", "部门") and "拨打次数" in header
    dialed = header.index("拨打次数")
    by_name = {row[0]: row for row in rows[3:]}
    assert by_name["销售S1"][dialed] == 3 and by_name["销售S2"][dialed] == 2 and by_name["经理M"][dialed] == 1
    assert "销售S3" not in by_name
    assert by_name["合计"][dialed] == 6
    days = {row[0]: row[1] for row in list(book.worksheets[1].iter_rows(values_only=True))[1:]}
    assert days["2026-03-01"] == 2 and days["2026-03-31"] == 1 and len(days) == 31


def test_a_hidden_field_is_neither_summed_nor_charted(app, client, dataset, restore_roles):
    """A role that cannot see the contracts' amount, the customers' status or the opportunities' stage gets no
    figure adding up that field and no chart grouped by it — on the page, its export and the API; the
    administrator still does."""
    from app import roles as role_service

    with app.app_context():
        role = app.appbuilder.sm.find_role("销售主管")
        role_service.write_matrix(role.id, {"fields": {"contract": {"amount": "hidden"},
                                                       "customer": {"status": "hidden"},
                                                       "opportunity": {"stage": "hidden", "amount": "hidden"}}})
        db.session.remove()
    boss = bearer(app.test_client(), dataset.logins["boss"], f.PASSWORD)
    sales = client.get(f"/api/v1/stats/employee_sales?{MARCH}", headers=boss).get_json()
    assert {"contract_amount", "opportunity_amount"}.isdisjoint(sales["columns"]) and "contracts" in sales["columns"]
    assert all("contract_amount" not in row for row in sales["table"] + sales["series"] + [sales["total"]])
    assert "stages" not in sales["breakdowns"] and "invoice_amount" in sales["columns"]
    customers = client.get(f"/api/v1/stats/employee_customers?{MARCH}", headers=boss).get_json()
    assert "status" not in customers["breakdowns"] and "source" in customers["breakdowns"]
    web_login(client, dataset.logins["boss"], f.PASSWORD)
    page = client.get(f"/stats/employee_sales/?{MARCH}").get_data(as_text=True)
    assert "签约金额" not in page and "商机金额" not in page
    exported = client.get(f"/stats/employee_sales/export?{MARCH}")
    book = openpyxl.load_workbook(io.BytesIO(exported.data), read_only=True)
    cells = {str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert "签约金额" not in cells and "商机金额" not in cells
    assert client.get(f"/stats/ranking/?{MARCH}&by=contract_amount").status_code in (200, 400)
    fresh = app.test_client()  # no session cookie: the token speaks
    admin = fresh.get(f"/api/v1/stats/employee_sales?{MARCH}", headers=bearer(fresh)).get_json()
    assert "contract_amount" in admin["columns"] and "stages" in admin["breakdowns"]
