"""The Content-Security-Policy in a real browser: the main screens (CRM lists, details and forms, 数据中心 with
ECharts, settings, the mobile site, the console, Swagger UI, the error pages) run their scripts with the request's
nonce, and the browser reports no CSP violation on any of them (a blocked inline script, inline event handler,
javascript: link or foreign resource would be reported as a `securitypolicyviolation` event and in the
console). Every other browser test also fails on a violation (tests/e2e/conftest.py, `new_page`)."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, csp_report, login, screenshot

pytestmark = pytest.mark.e2e

PC_SCREENS = [
    "/", "/customer/list/", "/customer/add", "/pool/list/", "/contact/list/", "/opportunity/list/",
    "/contract/list/", "/product/list/", "/followup/list/", "/invoice/list/", "/call/list/", "/seat/list/",
    "/employees/list/", "/departments/list/", "/roles/list/", "/custom-fields/", "/custom-fields/customer/preview",
    "/profile/userinfo/", "/stats/department_calls/?from=2026-03-01&to=2026-03-31",
    "/stats/ranking/?from=2026-03-01&to=2026-03-31", "/swagger/v1", "/no-such-page",
    "/console/", "/console/console_audit_log/", "/console/console_login_log/", "/console/console_sms/",
]


def _visit(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_the_main_screens_report_no_csp_violation(live_server, new_page):
    page = new_page()
    login(page, live_server, "admin", ADMIN_PASSWORD)
    visited = []
    for path in PC_SCREENS:
        _visit(page, live_server + path)
        visited.append(path)
        assert csp_report(page) == [], (path, csp_report(page))
    # a record's detail page and its edit form (tabs, pickers), found through the list
    _visit(page, live_server + "/customer/list/")
    page.locator("table.crm-list-table a[href*='/customer/show/']").first.click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_contain_text("负责人")
    assert csp_report(page) == []
    # 数据中心: ECharts drew its charts (canvas), with the nonce'd script
    _visit(page, live_server + "/stats/department_calls/?from=2026-03-01&to=2026-03-31")
    assert page.locator("canvas").count() >= 1
    # the console: its javascript:void(0) links became "#" (console.js), its tab link clicks without a violation,
    # its filter menu works; and Swagger UI rendered
    _visit(page, live_server + "/console/console_audit_log/")
    assert page.locator("a[href^='javascript:']").count() == 0
    page.locator(".nav-tabs a.nav-link.active").click()
    assert csp_report(page) == []
    page.click("text=添加筛选器")
    page.locator("a.filter:visible").first.click()
    expect(page.locator("table.filters tr")).to_have_count(1)
    _visit(page, live_server + "/swagger/v1")
    expect(page.locator("#swagger-ui .information-container")).to_be_visible()
    # the error page's "back" link works without a javascript: URL
    _visit(page, live_server + "/customer/list/")
    _visit(page, live_server + "/no-such-page")
    page.click("#crm-error-back")
    page.wait_for_url("**/customer/list/")
    assert csp_report(page) == []


def test_the_mobile_site_reports_no_csp_violation(live_server, new_page):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    _visit(page, live_server + "/m/login")
    page.fill("input[name=username]", "13800000004")
    page.fill("input[name=password]", "demo1234")
    page.click("[type=submit]")
    page.wait_for_load_state("networkidle")
    for path in ("/m/", "/m/customers", "/m/dialpad", "/m/calls"):
        _visit(page, live_server + path)
        assert csp_report(page) == [], (path, csp_report(page))
    _visit(page, live_server + "/m/customers")
    page.locator("a.row[href*='/m/customer/']").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("header a[data-crm-back]").click()
    page.wait_for_url("**/m/customers")
    assert csp_report(page) == []
    screenshot(page, "mobile_customers_csp")


def test_an_inline_script_without_the_nonce_is_blocked_and_reported(live_server, new_page):
    """The check can fail: a script the page adds without the nonce is refused and reported."""
    page = new_page(check_csp=False)
    login(page, live_server, "admin", ADMIN_PASSWORD)
    _visit(page, live_server + "/customer/list/")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__crmInjected = 1'; document.body.appendChild(s); }""")
    page.wait_for_function("() => (window.__crmCsp || []).length > 0")
    assert page.evaluate("() => window.__crmInjected") is None
    assert any("script-src" in line for line in csp_report(page))
