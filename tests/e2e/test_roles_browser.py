"""An administrator sets up a role in 设置 → 角色权限, as the manual describes, and an employee holding it
sees the change on their next page."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e

MOBILE, PASSWORD = "13700000077", "test1234"


def _employee_with_role(page, base_url, role_name):
    """An active employee holding `role_name`, made through the REST API with the admin's token."""
    token = page.request.post(base_url + "/api/v1/security/login",
                              data={"username": "admin", "password": ADMIN_PASSWORD, "provider": "db"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    roles = page.request.get(base_url + "/api/v1/role/?q=(page_size:100)", headers=headers).json()
    role_id = next(r["id"] for r in roles["result"] if r["name"] == role_name)
    department = page.request.post(base_url + "/api/v1/department/", data={"name": "电销部"}, headers=headers).json()
    employee = page.request.post(base_url + "/api/v1/employee/", headers=headers, data={
        "name": "电销员", "mobile": MOBILE, "password": PASSWORD, "department": department["id"], "roles": [role_id]})
    assert employee.ok, employee.text()
    assert page.request.post(f"{base_url}/api/v1/employee/{employee.json()['id']}/activate", headers=headers).ok


def test_admin_unticks_add_customer_and_the_employee_loses_button_and_url(live_server, new_page):
    admin = new_page()
    login(admin, live_server, "admin", ADMIN_PASSWORD)

    # 设置 → 角色权限: the two tabs; copy the built-in 销售 role
    admin.click("text=设置")
    admin.click("a:has-text('角色权限')")
    expect(admin.locator("#role-kinds")).to_contain_text("客户管理角色")
    expect(admin.locator("#role-kinds")).to_contain_text("呼叫中心角色")
    screenshot(admin, "roles-list")
    admin.locator("tr[data-role='销售'] .role-copy").click()
    admin.fill("input[name=name]", "电销")
    admin.click("#role-form [type=submit]")
    expect(admin.locator("#role-title")).to_have_text("电销")
    cell = admin.locator("input[value='customer:add']")
    expect(cell).to_be_checked()

    # the shortcuts: "select column" ticks every 导出 cell, and clears them again
    export_column = admin.locator("input.select-column[data-action='export']")
    export_column.check()
    expect(admin.locator("input.cell[data-action='export']:not(:checked)")).to_have_count(0)
    export_column.uncheck()
    expect(admin.locator("input.cell[data-action='export']:checked")).to_have_count(0)
    row = admin.locator("input.select-row[data-module='invoice']")
    row.check()
    expect(admin.locator("input.cell[data-module='invoice']:not(:checked)")).to_have_count(0)
    row.uncheck()
    admin.locator("input.cell[data-module='invoice'][data-action='view']").check()

    # an employee holding the role can add customers
    _employee_with_role(admin, live_server, "电销")
    staff = new_page()
    login(staff, live_server, MOBILE, PASSWORD)
    staff.goto(live_server + "/customer/list/")
    expect(staff.locator("a[href*='/customer/add']").first).to_be_visible()
    screenshot(staff, "roles-employee-before")

    # the administrator unticks 客户管理 → 新建 and saves
    cell.uncheck()
    screenshot(admin, "roles-matrix")
    admin.click("#role-save")
    expect(admin.locator(".alert-success")).to_contain_text("角色权限已保存")
    expect(admin.locator("input[value='customer:add']")).not_to_be_checked()
    expect(admin.locator("input[value='customer:view']")).to_be_checked()

    # the employee's next page: no 新建 button, and the URL is refused
    staff.reload()
    expect(staff.locator("#crm-keyword")).to_be_visible()
    expect(staff.locator("a[href*='/customer/add']")).to_have_count(0)
    screenshot(staff, "roles-employee-after")
    response = staff.goto(live_server + "/customer/add")
    assert response.status == 403 or re.search("/login", staff.url)
