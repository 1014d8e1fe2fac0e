"""控制台 in the browser: an administrator logs in, the login shows in 登录记录, an export shows in 审计日志,
and the console's own screens (filters, search) render in Chinese with their styles and scripts."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e


def test_the_administrator_reads_the_audit_trail_in_the_console(live_server, new_page):
    page = new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "admin", ADMIN_PASSWORD)
    assert page.request.get(live_server + "/customer/export/?format=csv").ok  # with the page's session
    page.goto(live_server + "/console/console_login_log/")
    expect(page.locator("body")).to_contain_text("登录记录")
    expect(page.locator("table.model-list")).to_contain_text("admin")
    screenshot(page, "console_login_log")
    page.goto(live_server + "/console/console_audit_log/")
    expect(page.locator("table.model-list")).to_contain_text("导出")
    page.click("text=添加筛选器")
    page.locator("a.filter:visible").first.click()
    expect(page.locator("table.filters tr")).to_have_count(1)  # a filter row to fill in
    screenshot(page, "console_audit_log")
    page.goto(live_server + "/console/console_sms/")
    expect(page.locator("body")).to_contain_text("短信发件箱")
    assert errors == []
