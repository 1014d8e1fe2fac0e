"""回收站 in the browser: add a customer, delete it from the list (the app's dialog), find it in 设置 → 回收站 with
its days left, restore it (the app's dialog again), and it is back in the list.

The test's own customer (owned by the active 管理员: a restored customer of an owner who is no longer active
goes to the pool) is found by its name through the list's search box, as a user finds it: the demo data and
other browser tests put many customers above it."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, pick, screenshot

pytestmark = pytest.mark.e2e

NAME, MOBILE = "回收站演示客户", "13755500101"


def _search_list(page, base_url, name):
    """The customer list searched by name through its search box."""
    page.goto(base_url + "/customer/list/")
    page.fill("#crm-keyword", name)
    with page.expect_navigation():
        page.click("#crm-keyword-form [type=submit]")
    return page.locator("table.crm-list-table")


def test_delete_then_restore_from_the_recycle_bin(demo, new_page):
    page = new_page()
    native = []
    page.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    login(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(demo + "/customer/add")
    page.fill("input[name=company_name]", NAME)
    page.fill("input[name=mobile]", MOBILE)
    pick(page, "select[name=owner]", "管理员")
    with page.expect_navigation():
        page.click("form [type=submit]")

    listed = _search_list(page, demo, NAME)
    rows = listed.locator("tbody tr", has_text=NAME)
    expect(rows).to_have_count(1)
    record_id = re.search(r"/customer/show/(\d+)",
                          rows.locator("a[href*='/customer/show/']").first.get_attribute("href")).group(1)
    own_row = f"a[href*='/customer/show/{record_id}']"
    rows.locator("a[href*='/customer/delete/'], a:has(i.fa-trash)").first.click()
    with page.expect_navigation():
        page.click("#modal-confirm-ok")
    expect(_search_list(page, demo, NAME).locator(own_row)).to_have_count(0)

    page.click("a.dropdown-toggle:has-text('设置')")
    with page.expect_navigation():
        page.click("a:has-text('回收站')")
    row = page.locator("#recycle-table tbody tr", has_text=NAME)
    expect(row).to_be_visible()
    expect(row).to_contain_text("客户")
    expect(row).to_contain_text("30 天")
    screenshot(page, "recycle-bin")
    row.locator("button.recycle-restore").click()
    modal = page.locator("#modal-confirm")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-body")).to_contain_text(f"确定恢复 {NAME} 吗？")
    with page.expect_navigation():
        page.click("#modal-confirm-ok")
    expect(page.locator("text=已恢复")).to_be_visible()
    expect(page.locator("#recycle-table tbody tr", has_text=NAME)).to_have_count(0)
    restored = _search_list(page, demo, NAME)
    expect(restored.locator(own_row)).to_have_count(1)
    expect(restored.locator("tbody tr", has=page.locator(own_row))).to_contain_text(MOBILE)
    assert native == []
