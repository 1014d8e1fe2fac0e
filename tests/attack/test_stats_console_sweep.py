"""The sweep's last two surfaces. 数据中心: for each data scope, every statistics page (API and screen) counts the
records of the employees in scope only, lists only them and their departments, and answers 404 for an employee
or a department outside the scope. 控制台 (/console): every view refuses each scope's viewer (none holds the
console right) with 403, and an anonymous visitor is sent to the login page."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from app.stats import PAGES
from tests.attack.org import SCOPES
from tests.attack.sweep import export_text
from tests.views.test_console import URLS as CONSOLE_URLS

# what each statistics subject counts, and of which module
COUNTED = {"customers": {"new_customers": "customer"}, "followups": {"followups": "followup"},
           "calls": {"dialed": "call"},
           "sales": {"opportunities": "opportunity", "contracts": "contract", "invoices": "invoice"},
           "ranking": {"dialed": "call"}}


def _window() -> str:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # CRM_TIMEZONE's local day
    return f"from={today - dt.timedelta(days=1)}&to={today}"


def _admin_id(app):
    from tests import factories as f

    with app.app_context():
        return f.admin().id


def _employees_seen(org, app, scope) -> set[int]:
    found = {org.ids[key] for key in org.owners_seen_by(scope)}
    return found | {_admin_id(app)} if scope == "all" else found


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("page", list(PAGES))
def test_statistics_count_only_the_records_in_scope(csrf_app, org, tokens, api, page, scope):
    headers = tokens[f"viewer_{scope}"]
    response = api.get(f"/api/v1/stats/{page}?{_window()}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    owners = org.owners_seen_by(scope)
    for metric, module in COUNTED[PAGES[page].subject].items():
        expected = len([r for r in org.of(module) if r.owner in owners])
        assert body["total"][metric] == expected, (metric, body["total"])
    if PAGES[page].by == "employee":
        assert {row["employee_id"] for row in body["table"]} == _employees_seen(org, csrf_app, scope)
    else:
        reached = {org.departments[name] for name in _departments_of(org, owners)}
        assert {row["department_id"] for row in body["table"]} <= reached | ({None} if scope == "all" else set())
        assert reached <= {row["department_id"] for row in body["table"]}


def _departments_of(org, owners) -> set[str]:
    where = {"boss": "扫描总部", "finance": "扫描财务部", "outsider": "扫描财务部", "sales_peer": "扫描销售部",
             "team1_peer": "扫描一组", "team2": "扫描二组"}
    return {where.get(key, "扫描销售部" if key.startswith("viewer_") else "扫描一组") for key in owners}


@pytest.mark.parametrize("scope", [s for s in SCOPES if s != "all"])
def test_an_employee_or_department_out_of_scope_is_404_and_the_screens_do_not_name_them(
        org, browsers, tokens, api, scope):
    headers, browser = tokens[f"viewer_{scope}"], browsers[f"viewer_{scope}"]
    strangers = [key for key in org.ids if key not in org.owners_seen_by(scope)]
    finance_dept = org.departments["扫描财务部"]
    for page in PAGES:
        for query in (f"employee={org.ids['finance']}", f"department={finance_dept}"):
            response = api.get(f"/api/v1/stats/{page}?{query}", headers=headers)
            assert response.status_code == 404, (page, query, response.get_json())
            assert browser.get(f"/stats/{page}/?{query}").status_code == 404, (page, query)
            assert browser.get(f"/stats/{page}/export?{query}").status_code == 404, (page, query)
        screen = browser.get(f"/stats/{page}/?{_window()}")
        assert screen.status_code == 200
        text = screen.get_data(as_text=True)
        assert org.names[f"viewer_{scope}"] in text
        for key in strangers:
            assert org.names[key] not in text, (page, key)
        assert "扫描财务部" not in text
        exported = export_text(browser.get(f"/stats/{page}/export?{_window()}"))
        assert (org.names[f"viewer_{scope}"] in exported) == (PAGES[page].by == "employee")
        assert not [key for key in strangers if org.names[key] in exported], page


@pytest.mark.parametrize("viewer", [f"viewer_{s}" for s in SCOPES] + ["outsider"])
def test_the_console_refuses_every_employee_without_its_right(org, browsers, viewer):
    browser = browsers[viewer]
    for url in CONSOLE_URLS:
        response = browser.get(url)
        assert response.status_code == 403, (url, response.status_code)
        assert org.marker_of("customer", org.of("customer")[0].pk) not in response.get_data(as_text=True)
        assert browser.get(url + "export/csv/").status_code in (403, 404), url
        assert browser.get(url + "details/?id=1").status_code in (403, 404), url


def test_the_console_sends_an_anonymous_visitor_to_the_login_page(csrf_app, org):
    client = csrf_app.test_client()
    for url in CONSOLE_URLS:
        for target in (url,) if url == "/console/" else (url, url + "export/csv/", url + "details/?id=1"):
            response = client.get(target)
            assert response.status_code == 302 and "/login/" in response.headers["Location"], target
