"""An administrator adds a 单选 field to 客户 (设置 → 自定义字段设置), and it is at once in the add form, a
list column, the custom-field filter and the exported workbook."""
import io

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, pick, screenshot

pytestmark = pytest.mark.e2e

LABEL = "客户星级"


_MOBILES = iter(range(13955550001, 13955559999))


def _add_customer(page, base_url, name, level):
    page.goto(base_url + "/customer/add")
    page.fill("input[name=company_name]", name)
    page.fill("input[name=mobile]", str(next(_MOBILES)))  # the mobile number is required
    pick(page, "select[name=owner]", "管理员")
    field = page.locator("tr", has_text=LABEL).locator("select")
    field.select_option(label=level)
    page.click("[type=submit]")
    expect(page.locator("td", has_text=name).first).to_be_visible()


def test_admin_adds_a_single_choice_field_and_staff_use_it_everywhere(live_server, new_page):
    admin = new_page()
    login(admin, live_server, "admin", ADMIN_PASSWORD)

    # 设置 → 自定义字段设置: the five modules, each with 编辑 and 预览
    admin.click("a.dropdown-toggle:has-text('设置')")
    admin.click("text=自定义字段设置")
    expect(admin.locator("#cf-modules tr")).to_have_count(5)
    expect(admin.locator("#cf-modules tr[data-module=customer]")).to_contain_text("尚未设置")
    screenshot(admin, "custom-fields-modules")

    # 编辑 客户 → 新增字段: a 单选 with three options
    admin.locator("#cf-modules tr[data-module=customer] a.cf-edit").click()
    admin.click("#cf-add")
    admin.fill("input[name=label]", LABEL)
    admin.select_option("select[name=type]", "select")
    expect(admin.locator(".cf-options")).to_be_visible()
    labels = admin.locator("input[name=option_label]")
    labels.nth(0).fill("一星")
    labels.nth(1).fill("二星")
    admin.click("#cf-option-add")
    labels.nth(2).fill("三星")
    expect(admin.locator("input[name=filterable]")).to_be_checked()
    screenshot(admin, "custom-fields-new-field")
    admin.click("#cf-save")
    expect(admin.locator("#cf-fields")).to_contain_text(LABEL)
    expect(admin.locator("#cf-fields")).to_contain_text("一星、二星、三星")
    screenshot(admin, "custom-fields-module-fields")
    admin.goto(live_server + "/custom-fields/")
    expect(admin.locator("#cf-modules tr[data-module=customer] .cf-changed")).to_contain_text("更新")

    # 预览: the add form exactly as staff get it
    admin.goto(live_server + "/custom-fields/customer/preview")
    expect(admin.locator("#cf-preview")).to_contain_text(LABEL)
    expect(admin.locator("#cf-preview input[name=company_name]")).to_be_visible()
    screenshot(admin, "custom-fields-preview")

    # the add form has it; two customers get a value each
    _add_customer(admin, live_server, "星级测试甲公司", "二星")
    _add_customer(admin, live_server, "星级测试乙公司", "三星")

    # the list shows it as a column
    admin.goto(live_server + "/customer/list/")
    expect(admin.locator("table.table th", has_text=LABEL)).to_be_visible()
    row = admin.locator("tr", has_text="星级测试甲公司")
    expect(row).to_contain_text("二星")
    screenshot(admin, "custom-fields-list-column")

    # the custom-field filter: only 二星
    admin.click("#cf-filter-toggle")
    panel = admin.locator("#cf-filter-panel")
    expect(panel).to_be_visible()
    panel.locator("select").first.select_option(label="二星")
    with admin.expect_navigation():
        admin.click("#cf-filter-apply")
    expect(admin.locator("td", has_text="星级测试甲公司")).to_be_visible()
    expect(admin.locator("td", has_text="星级测试乙公司")).to_have_count(0)
    screenshot(admin, "custom-fields-list-filtered")

    # the exported workbook (of the filtered list) has the column and the value
    admin.click("#crm-export button")
    with admin.expect_download() as download:
        admin.click("#crm-export a:has-text('Excel')")
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    rows = list(workbook.active.iter_rows(values_only=True))
    column = rows[0].index(LABEL)
    assert [(r[0], r[column]) for r in rows[1:]] == [("星级测试甲公司", "二星")]
