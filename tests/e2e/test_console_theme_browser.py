"""控制台 looks like the CRM: the browser's computed styles of the console (Flask-Admin, Bootstrap 4) match the CRM's
screens (FAB, Bootstrap 3) — navbar colour, brand colour, font and size, the blue of the page heading — and the
brand leads back to the CRM. Screenshots of both are kept in screenshots/."""
import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e

STYLE = """(selectors) => selectors.map(([selector, prop]) => {
  const el = document.querySelector(selector);
  return el ? getComputedStyle(el)[prop] : null;
})"""


def test_the_console_looks_like_the_crm(live_server, new_page):
    page = new_page()
    login(page, live_server, "admin", ADMIN_PASSWORD)
    page.goto(live_server + "/customer/list/")
    crm = page.evaluate(STYLE, [["body", "fontFamily"], ["body", "fontSize"], [".navbar", "backgroundColor"],
                                [".navbar-brand a", "color"], [".panel-primary > .panel-heading",
                                                               "backgroundColor"]])
    screenshot(page, "theme_crm_list")
    page.goto(live_server + "/console/console_audit_log/")
    console = page.evaluate(STYLE, [["body", "fontFamily"], ["body", "fontSize"], [".crm-console-navbar",
                                                                                    "backgroundColor"],
                                    ["#crm-console-brand", "color"], [".crm-console-panel > .card-header",
                                                                       "backgroundColor"]])
    screenshot(page, "theme_console_list")
    assert None not in crm and None not in console, (crm, console)
    assert console[0].startswith(crm[0].split(",")[0])  # the same first font
    assert console[1:] == crm[1:], (crm, console)
    assert page.locator(".crm-console-navbar").inner_text().count("返回CRM") == 1
    page.click("#crm-console-brand")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/console/")
    assert page.locator("#crm-console-index a").count() == 7
    assert "审计日志" in page.locator("#crm-console-index").inner_text()
