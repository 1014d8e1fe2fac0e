"""What the browser shows a new user (issue 8): the column chooser, the app's own confirmation dialog in
Chinese (a list's delete, a role's delete), and an error page in the app's layout."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e


def _no_native_dialogs(page):
    seen = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    return seen


def test_column_chooser_lists_the_columns_and_hides_one(demo, new_page):
    page = new_page()
    login(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(demo + "/customer/list/")
    page.click("#crm-columns button")
    menu = page.locator(".crm-column-chooser")
    expect(menu).to_be_visible()
    names = [n.strip() for n in menu.locator("label").all_inner_texts()]
    assert names[:4] == ["公司名称", "联系人", "手机号", "客户状态"], names
    assert "负责人" in names and "创建时间" in names
    screenshot(page, "ux-column-chooser")
    header = page.locator("table.crm-list-table thead th", has_text="手机号")
    expect(header).to_be_visible()
    menu.locator("label", has_text="手机号").locator("input").uncheck()
    expect(header).to_be_hidden()
    first_cell = page.locator("table.crm-list-table tbody tr").first.locator("td").nth(4)
    expect(first_cell).to_be_hidden()
    page.reload()  # remembered in this browser
    expect(page.locator("table.crm-list-table thead th", has_text="手机号")).to_be_hidden()
    page.click("#crm-columns button")
    page.locator(".crm-column-chooser label", has_text="手机号").locator("input").check()
    expect(page.locator("table.crm-list-table thead th", has_text="手机号")).to_be_visible()


def test_delete_asks_in_chinese_in_the_app_dialog(demo, new_page):
    page = new_page()
    native = _no_native_dialogs(page)
    login(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(demo + "/customer/list/")
    first = page.locator("table.crm-list-table tbody tr").first
    name = first.locator("td").nth(2).inner_text().strip()
    first.locator("a[href*='/customer/delete/'], a:has(i.fa-trash)").first.click()
    modal = page.locator("#modal-confirm")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-body")).to_have_text("确定要删除这条记录吗？")
    expect(modal.locator("button[data-dismiss=modal]")).to_have_text("取消")
    expect(modal.locator("#modal-confirm-ok")).to_have_text("确定")
    screenshot(page, "ux-delete-confirm")
    modal.locator("button[data-dismiss=modal]").click()
    expect(modal).to_be_hidden()
    assert name in page.locator("table.crm-list-table").inner_text()
    assert native == []


def test_role_delete_uses_the_app_dialog(demo, new_page):
    page = new_page()
    native = _no_native_dialogs(page)
    login(page, demo, "admin", ADMIN_PASSWORD)
    token = page.request.post(demo + "/api/v1/security/login", data={
        "username": "admin", "password": ADMIN_PASSWORD, "provider": "db"}).json()["access_token"]
    made = page.request.post(demo + "/api/v1/role/", data={"name": "临时角色", "kind": "customer"},
                             headers={"Authorization": f"Bearer {token}"})
    assert made.status == 201, made.text()
    page.goto(demo + "/roles/list/")
    row = page.locator("tr", has_text="临时角色")
    row.locator("button.role-delete").click()
    modal = page.locator("#modal-confirm")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-text")).to_contain_text("临时角色")
    screenshot(page, "ux-role-delete-confirm")
    with page.expect_navigation():
        modal.locator("#modal-confirm-ok").click()
    expect(page.locator("tr", has_text="临时角色")).to_have_count(0)
    assert native == []


def test_error_page_is_chinese_in_the_layout(demo, new_page):
    page = new_page()
    login(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(demo + "/customer/list/")
    response = page.goto(demo + "/customer/show/987654321")
    assert response.status == 404
    expect(page.locator("#crm-error-title")).to_have_text("页面不存在")
    expect(page.locator(".navbar")).to_be_visible()
    assert "Not Found" not in page.content()
    screenshot(page, "ux-error-404")
    page.click("#crm-error-back")
    page.wait_for_url("**/customer/list/")


def test_filter_panel_reads_in_plain_chinese(demo, new_page):
    page = new_page()
    native = _no_native_dialogs(page)
    login(page, demo, "admin", ADMIN_PASSWORD)
    page.goto(demo + "/customer/list/")
    # 操作 with nothing ticked: FAB's alert, in Chinese
    page.click("button.dropdown-toggle:has-text('操作')")
    page.locator(".transfer_menu_item").click()
    expect(page.locator("#modal-alert .modal-text")).to_have_text("请先勾选记录")
    expect(page.locator("#modal-alert button")).to_have_text("确定")
    page.locator("#modal-alert button").click()
    expect(page.locator("#modal-alert")).to_be_hidden()
    page.locator("a:has-text('搜索')").last.click()
    for column in ("status", "owner"):
        page.locator("#filter_form button.dropdown-toggle").click()
        page.locator(f"#filter_form a.filter[name={column}]").click()
    operators = page.locator("#filter_form select.filter-op").first.locator("option").all_inner_texts()
    assert operators == ["等于", "不等于"], operators
    statuses = page.locator("#filter_form select[name$=_status] option").all_inner_texts()
    assert statuses == ["请选择", "潜在客户", "意向客户", "成交客户", "流失客户"], statuses
    expect(page.locator("#filter_form")).not_to_contain_text("__None")
    page.locator("#filter_form .select2-selection__clear").first.click()  # cleared: a Chinese placeholder
    page.keyboard.press("Escape")
    expect(page.locator("#filter_form")).not_to_contain_text("Select a State")
    expect(page.locator("#filter_form .select2-selection__placeholder").first).to_have_text("请选择")
    screenshot(page, "ux-filter-panel")
    assert native == []
