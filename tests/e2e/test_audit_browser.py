"""设置 → 审计日志 and a customer's 操作记录 tab in the browser: the administrator edits a customer on its
form, finds the change under 设置 → 审计日志 filtered by act, and on the customer's own tab."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e


def test_an_edit_shows_in_the_audit_log_and_on_the_customers_tab(live_server, new_page):
    page = new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "admin", ADMIN_PASSWORD)
    page.goto(live_server + "/customer/list/")
    page.locator("a[href*='/customer/edit/']").first.click()
    page.wait_for_load_state()
    pk = re.search(r"/customer/edit/(\d+)", page.url).group(1)
    page.fill("input[name=address]", "审计测试路 1 号 <b>")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()
    page.click("text=设置")
    page.click("a[href='/audit-log/list/']")
    expect(page.locator("h4.panel-title")).to_contain_text("审计日志")
    page.select_option("#audit-action", "update")
    page.click("#audit-filters [type=submit]")
    page.wait_for_load_state()
    expect(page.locator("table.audit-entries")).to_contain_text("审计测试路 1 号 <b>")
    expect(page.locator("table.audit-entries")).to_contain_text("编辑")
    screenshot(page, "audit_log")
    page.goto(f"{live_server}/customer/show/{pk}")
    page.click("#crm-audit-tab")
    expect(page.locator("#AuditTrail")).to_be_visible()
    expect(page.locator("#AuditTrail")).to_contain_text("审计测试路 1 号 <b>")
    screenshot(page, "customer_audit_tab")
    assert errors == []
