"""An administrator sets up the organisation in the browser, as the manual describes."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e

MOBILE, PASSWORD = "13700000001", "test1234"


def _tick_and_act(page, base_url, name, action, confirm=True):
    page.goto(base_url + "/employees/list/")
    row = page.locator("tr", has_text=name)
    row.locator("input.action_check").check()
    page.click("button.dropdown-toggle:has-text('操作')")
    if confirm:
        page.click(f".{action}_menu_item")
        expect(page.locator("#modal-confirm-ok")).to_be_visible()
        with page.expect_navigation():
            page.click("#modal-confirm-ok")
        assert not page.url.endswith("#"), "the OK link followed '#' (crm_base.html stops it): a second navigation"
    else:
        with page.expect_navigation():
            page.click(f".{action}_menu_item")
    screenshot(page, f"org-after-{action}")


def _expect_state(page, base_url, name, state):
    page.goto(base_url + "/employees/list/")
    expect(page.locator("tr", has_text=name).locator(".state-dot")).to_have_attribute("title", state)


def test_admin_creates_department_and_employee_then_activates_disables_and_resigns(live_server, new_page):
    admin = new_page()
    login(admin, live_server, "admin", ADMIN_PASSWORD)
    expect(admin.locator("text=设置").first).to_be_visible()

    # 设置 → 组织架构: a department
    admin.goto(live_server + "/departments/add")
    admin.fill("input[name=name]", "测试部")
    admin.click("[type=submit]")
    expect(admin.locator("td", has_text="测试部").first).to_be_visible()
    screenshot(admin, "org-departments")

    # 新建员工: an empty name and a malformed mobile are refused on the form, nothing saved
    admin.goto(live_server + "/employees/add")
    admin.fill("input[name=first_name]", "测试员")
    admin.select_option("select[name=department]", label="测试部")
    admin.fill("input[name=mobile]", "12345")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("[type=submit]")
    screenshot(admin, "org-employee-bad-mobile")
    expect(admin.locator("text=请输入11位中国大陆手机号")).to_be_visible()
    admin.fill("input[name=mobile]", MOBILE)
    admin.fill("input[name=password]", PASSWORD)
    admin.click("[type=submit]")
    _expect_state(admin, live_server, "测试员", "未激活")
    screenshot(admin, "org-employees")

    # not activated: the employee cannot log in yet
    staff = new_page()
    login(staff, live_server, MOBILE, PASSWORD)
    expect(staff).to_have_url(re.compile("/login"))

    _tick_and_act(admin, live_server, "测试员", "activate")
    _expect_state(admin, live_server, "测试员", "激活")
    login(staff, live_server, MOBILE, PASSWORD)
    expect(staff).not_to_have_url(re.compile("/login"))
    expect(staff.locator("text=测试员").first).to_be_visible()

    # 禁用: the open session ends at once and the login is refused
    _tick_and_act(admin, live_server, "测试员", "disable")
    _expect_state(admin, live_server, "测试员", "禁用")
    staff.goto(live_server + "/profile/userinfo/")
    expect(staff).to_have_url(re.compile("/login"))
    login(staff, live_server, MOBILE, PASSWORD)
    expect(staff).to_have_url(re.compile("/login"))
    screenshot(staff, "org-disabled-login-refused")

    # 办理离职: choose where the customers go (the public pool here)
    _tick_and_act(admin, live_server, "测试员", "resign", confirm=False)
    expect(admin.locator("text=客户交接给")).to_be_visible()
    screenshot(admin, "org-resign-form")
    admin.click("#account-action-form [type=submit]")
    _expect_state(admin, live_server, "测试员", "已离职")
    screenshot(admin, "org-resigned")


def test_deleting_a_department_with_members_is_refused_in_the_browser(live_server, new_page):
    admin = new_page()
    login(admin, live_server, "admin", ADMIN_PASSWORD)
    admin.goto(live_server + "/departments/add")
    admin.fill("input[name=name]", "有人部")
    admin.click("[type=submit]")
    admin.goto(live_server + "/employees/add")
    admin.fill("input[name=first_name]", "部门成员")
    admin.select_option("select[name=department]", label="有人部")
    admin.fill("input[name=mobile]", "13700000002")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("[type=submit]")
    admin.goto(live_server + "/departments/list/")
    row = admin.locator("tr", has_text="有人部")
    row.locator("a.confirm, a[href*='/delete/']").first.click()
    with admin.expect_navigation():
        admin.click("#modal-confirm-ok")
    expect(admin.locator("text=该部门下还有员工")).to_be_visible()
    expect(admin.locator("td", has_text="有人部").first).to_be_visible()
