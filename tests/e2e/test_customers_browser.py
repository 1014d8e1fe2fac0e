"""A salesperson's day in the browser: find a customer by phone, open it, claim from the pool,
transfer, and file customers in a group (CRM → 客户 → 分组 → 新建分组, as in the manual)."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, pick, screenshot

pytestmark = pytest.mark.e2e


def _tick(page, text):
    page.locator("tr", has_text=text).locator("input.action_check").check()


def _act(page, action):
    page.click("button.dropdown-toggle:has-text('操作')")
    with page.expect_navigation():
        page.click(f".{action}_menu_item")


def test_search_detail_claim_transfer_and_group(demo, new_page):
    base = demo
    admin = new_page()
    login(admin, base, "admin", ADMIN_PASSWORD)

    # search by phone from the customer list (the manual's manual-dial entry)
    admin.goto(base + "/customer/list/")
    # the first shown mobile number (other browser tests may have added customers of their own above)
    cells = admin.locator("table.table tr:has(input.action_check) td").all_inner_texts()
    first_phone = next((c.strip() for c in cells if re.fullmatch(r"1\d{10}", c.strip())), "")
    assert first_phone, cells[:20]
    admin.fill("#crm-keyword", first_phone)
    with admin.expect_navigation():
        admin.click("#crm-keyword-form [type=submit]")
    rows = admin.locator("table.table tr:has(input.action_check)")
    expect(rows).to_have_count(1)
    screenshot(admin, "crm-search-by-phone")

    # open the detail: tabs of contacts, follow-ups, opportunities, contracts; owner history
    rows.first.locator("a[href*='/customer/show/']").first.click()
    expect(admin.locator("a[data-toggle=tab]", has_text="联系人")).to_be_visible()
    expect(admin.locator("a[data-toggle=tab]", has_text="跟进记录")).to_be_visible()
    expect(admin.locator("#crm-owner-history")).to_be_visible()
    screenshot(admin, "crm-customer-detail")

    # claim a customer from the public pool
    admin.goto(base + "/pool/list/")
    pool_name = admin.locator("table.table tr:has(input.action_check)").first.locator("td").nth(2).inner_text()
    _tick(admin, pool_name)
    admin.click("button.dropdown-toggle:has-text('操作')")
    admin.click(".claim_menu_item")
    with admin.expect_navigation():
        admin.click("#modal-confirm-ok")
    expect(admin.locator(".alert", has_text="已领取 1 个客户")).to_be_visible()
    screenshot(admin, "crm-claimed")

    # transfer it to 刘洋
    admin.goto(base + "/customer/list/?" + admin.locator("#crm-keyword").get_attribute("name") + "=" + pool_name)
    _tick(admin, pool_name)
    _act(admin, "transfer")
    expect(admin.locator("h4", has_text="转移")).to_be_visible()
    pick(admin, "select[name=owner]", "刘洋")  # typed: the picker asks the server
    screenshot(admin, "crm-transfer-form")
    with admin.expect_navigation():
        admin.click("#crm-action-form [type=submit]")
    expect(admin.locator(".alert", has_text="已转移 1 个客户")).to_be_visible()

    # 刘洋 (销售, scope 本人) now sees it, files it in a new group and filters by the group
    seller = new_page()
    login(seller, base, "13800000004", "demo1234")
    seller.goto(base + "/customer/list/")
    seller.click("#crm-groups button")
    seller.click("#crm-new-group")
    seller.fill("input[name=name]", "重点跟进")
    with seller.expect_navigation():
        seller.click("[type=submit]")
    # found by its name through the search box: 刘洋's other customers may fill the first page
    seller.goto(base + "/customer/list/")
    seller.fill("#crm-keyword", pool_name)
    with seller.expect_navigation():
        seller.click("#crm-keyword-form [type=submit]")
    expect(seller.locator("td", has_text=pool_name)).to_be_visible()
    _tick(seller, pool_name)
    _act(seller, "add_to_group")
    seller.select_option("select[name=group]", label="重点跟进")
    with seller.expect_navigation():
        seller.click("#crm-action-form [type=submit]")
    expect(seller.locator(".alert", has_text="已加入分组")).to_be_visible()
    seller.goto(base + "/customer/list/")
    seller.click("#crm-groups button")
    with seller.expect_navigation():
        seller.click("#crm-groups a:has-text('重点跟进')")
    expect(seller.locator("table.table tr:has(input.action_check)")).to_have_count(1)
    screenshot(seller, "crm-group-filter")
