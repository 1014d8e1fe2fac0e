"""CRM → 客户 → 导入 in the browser, as the manual shows it: download the template, choose 跳过, choose the
file and a 负责人, 确定 → a progress bar → the summary with 【点击下载错误数据】; then a file with its own
header goes through the mapping step; 导入记录 lists both and undoes one."""
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, pick, screenshot

pytestmark = pytest.mark.e2e


def _xlsx(header, rows) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for c, name in enumerate(header):
        sheet.write_string(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def test_the_import_dialog_with_progress_download_mapping_and_records(live_server, new_page, tmp_path):
    base = live_server
    page = new_page()
    login(page, base, "admin", ADMIN_PASSWORD)
    page.goto(base + "/customer/list/")
    page.click("#crm-import-open")
    dialog = page.locator("#crm-import")
    expect(dialog).to_be_visible()
    with page.expect_download() as template:
        page.click("#crm-import-template")
    template_path = tmp_path / "template.xlsx"
    template.value.save_as(template_path)
    from python_calamine import CalamineWorkbook

    header = CalamineWorkbook.from_path(str(template_path)).get_sheet_by_index(0).to_python()[0]
    assert header[:4] == ["公司名称", "联系人", "*手机号", "客户状态"]
    assert template.value.suggested_filename.endswith(".xlsx")

    rows = [[f"浏览器导入{i}", "张三", f"1520000{i:04d}", "潜在客户"] for i in range(1, 1501)]
    rows += [["导入演示2", None, "15200000001"], ["导入演示4", None, None]]
    data = tmp_path / "客户.xlsx"
    data.write_bytes(_xlsx(header, rows))
    page.check("input[name=duplicate][value=skip]")
    page.set_input_files("#crm-import-file", str(data))
    pick(page, "#crm-import-owner", "管理员")  # typed: the employees in scope, asked as one types
    screenshot(page, "import-dialog")
    page.click("#crm-import-submit")
    expect(page.locator("#crm-import-progress .progress-bar")).to_be_visible()
    expect(page.locator("#crm-import-summary")).to_contain_text("导入完成", timeout=60_000)
    expect(page.locator("#crm-import-progress .progress-bar")).to_have_text("100%")
    expect(page.locator("#crm-import-counts")).to_contain_text("已跳过 1")
    expect(page.locator("#crm-import-counts")).to_contain_text("失败 1")
    screenshot(page, "import-progress-done")
    with page.expect_download() as errors:
        page.click("#crm-import-errors")
    errors_path = tmp_path / "errors.xlsx"
    errors.value.save_as(errors_path)
    sheet = CalamineWorkbook.from_path(str(errors_path)).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "错误原因(导入时需删除本列)"
    assert [r[0] for r in sheet[1:]] == ["手机号与第 2 行重复，跳过", "*手机号不能为空"]

    # a spreadsheet of one's own: the header differs, the dialog offers the mapping step
    own = tmp_path / "我的客户.xlsx"
    own.write_bytes(_xlsx(["姓名", "公司", "电话"], [["李四", "映射公司", "15300000001"]]))
    page.set_input_files("#crm-import-file", str(own))
    page.click("#crm-import-submit")
    expect(page.locator("#crm-import-mapping")).to_be_visible()
    expect(page.locator("#crm-import-mapping-note")).to_contain_text("表头与模板不一致")
    row = page.locator("#crm-import-mapping tr[data-column='电话'] select")
    expect(row).to_have_value("*手机号")
    page.locator("#crm-import-mapping tr[data-column='姓名'] select").select_option("联系人")
    screenshot(page, "import-mapping")
    page.click("#crm-import-submit")
    expect(page.locator("#crm-import-summary")).to_contain_text("导入完成", timeout=60_000)

    page.click("#crm-import-records")
    expect(page.locator("#crm-import-jobs")).to_contain_text("我的客户.xlsx")
    expect(page.locator("#crm-import-jobs")).to_contain_text("客户.xlsx")
    screenshot(page, "import-records")
    page.on("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("tr", has_text="我的客户.xlsx").locator(".crm-import-undo").click()
    expect(page.locator("tr", has_text="我的客户.xlsx")).to_contain_text("已删除 1 条记录")
    page.goto(base + "/customer/list/")
    page.fill("#crm-keyword", "15300000001")
    with page.expect_navigation():
        page.click("#crm-keyword-form [type=submit]")
    expect(page.locator("table.table tr:has(input.action_check)")).to_have_count(0)
    page.fill("#crm-keyword", "15200000001")
    with page.expect_navigation():
        page.click("#crm-keyword-form [type=submit]")
    expect(page.locator("table.table tr:has(input.action_check)")).to_have_count(1)
