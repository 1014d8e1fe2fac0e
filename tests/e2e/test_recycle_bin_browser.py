"""回收站 in the browser: delete a customer from the list (the app's dialog), find it in 设置 → 回收站 with its days
left, restore it (the app's dialog again), and it is back in the list."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e


def test_delete_then_restore_from_the_recycle_bin(demo, new_page):
    page = new_page()
    native = []
    page.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    login(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(demo + "/customer/list/")
    first = page.locator("table.crm-list-table tbody tr").first
    name = first.locator("td").nth(2).inner_text().strip()
    first.locator("a[href*='/customer/delete/'], a:has(i.fa-trash)").first.click()
    with page.expect_navigation():
        page.click("#modal-confirm-ok")
    assert name not in page.locator("table.crm-list-table").inner_text()

    page.click("a.dropdown-toggle:has-text('设置')")
    with page.expect_navigation():
        page.click("a:has-text('回收站')")
    row = page.locator("#recycle-table tbody tr", has_text=name)
    expect(row).to_be_visible()
    expect(row).to_contain_text("客户")
    expect(row).to_contain_text("30 天")
    screenshot(page, "recycle-bin")
    row.locator("button.recycle-restore").click()
    modal = page.locator("#modal-confirm")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-body")).to_contain_text(f"确定恢复 {name} 吗？")
    with page.expect_navigation():
        page.click("#modal-confirm-ok")
    expect(page.locator("text=已恢复")).to_be_visible()
    expect(page.locator("#recycle-table tbody tr", has_text=name)).to_have_count(0)
    page.goto(demo + "/customer/list/")
    assert name in page.locator("table.crm-list-table").inner_text()
    assert native == []
