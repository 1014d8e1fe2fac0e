"""Sessions in the browser: an employee logs in after 重置密码, changes their own password on 个人资料 (the
other browser is logged out, this one continues), and a cookie copied before logout is refused after it."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, goto, login, screenshot

pytestmark = pytest.mark.e2e

MOBILE, FIRST, RESET, CHANGED = "13700000031", "first-pass1", "reset-pass2", "changed-pass3"


def _act(page, base_url, name, action, confirm=True):
    goto(page, base_url + "/employees/list/")
    page.locator("tr", has_text=name).locator("input.action_check").check()
    page.click("button.dropdown-toggle:has-text('操作')")
    if confirm:
        page.click(f".{action}_menu_item")
        expect(page.locator("#modal-confirm-ok")).to_be_visible()
        with page.expect_navigation():
            page.click("#modal-confirm-ok")
        assert not page.url.endswith("#"), "the OK link followed '#' (crm_base.html stops it): a second navigation"
        page.wait_for_load_state("networkidle")  # the redirected list has loaded: the next goto cannot abort it
    else:  # the action opens its form page: wait for that navigation, or the next goto aborts it
        with page.expect_navigation():
            page.click(f".{action}_menu_item")
        page.wait_for_load_state()


def test_login_after_a_reset_then_change_own_password_and_logout(live_server, new_page, browser):
    admin = new_page()
    login(admin, live_server, "admin", ADMIN_PASSWORD)
    admin.goto(live_server + "/departments/add")
    admin.fill("input[name=name]", "会话部")
    with admin.expect_navigation():  # the save finishes before the next page is asked for
        admin.click("[type=submit]")
    admin.goto(live_server + "/employees/add")
    admin.fill("input[name=first_name]", "会话员")
    admin.select_option("select[name=department]", label="会话部")
    admin.select_option("select[name=roles]", label="销售（客户管理角色）")
    admin.fill("input[name=mobile]", MOBILE)
    admin.fill("input[name=password]", FIRST)
    with admin.expect_navigation():
        admin.click("[type=submit]")
    _act(admin, live_server, "会话员", "activate")

    # 重置密码 by the administrator, then the employee logs in through the form and stays in
    _act(admin, live_server, "会话员", "reset_password", confirm=False)
    admin.fill("input[name=password]", RESET)
    admin.click("#account-action-form [type=submit]")
    expect(admin.locator("text=密码已重置").first).to_be_visible()
    staff = new_page()
    login(staff, live_server, MOBILE, RESET)
    expect(staff).not_to_have_url(re.compile("/login"))
    staff.goto(live_server + "/customer/list/")
    expect(staff).to_have_url(re.compile("/customer/list/"))

    # a second browser of the same employee
    other = new_page()
    login(other, live_server, MOBILE, RESET)
    expect(other).not_to_have_url(re.compile("/login"))

    # 个人资料 → 修改密码
    staff.goto(live_server + "/profile/userinfo/")
    screenshot(staff, "sessions-profile")
    staff.click("text=修改密码")
    expect(staff).to_have_url(re.compile("/resetmypassword/form"))
    staff.fill("input[name=old_password]", "wrong-pass")
    staff.fill("input[name=password]", CHANGED)
    staff.fill("input[name=conf_password]", CHANGED)
    staff.click("[type=submit]")
    expect(staff.locator("text=当前密码不正确")).to_be_visible()
    screenshot(staff, "sessions-change-password-wrong-old")
    staff.fill("input[name=old_password]", RESET)
    staff.fill("input[name=password]", CHANGED)
    staff.fill("input[name=conf_password]", CHANGED)
    staff.click("[type=submit]")
    expect(staff.locator("text=密码已修改").first).to_be_visible()
    expect(staff).to_have_url(re.compile("/profile/userinfo/"))
    screenshot(staff, "sessions-password-changed")
    other.goto(live_server + "/customer/list/")
    expect(other).to_have_url(re.compile("/login"))  # the other browser was logged out

    # logout: a copy of the cookie taken before it does not work after it
    cookies = staff.context.cookies()
    staff.goto(live_server + "/logout/")
    staff.goto(live_server + "/customer/list/")
    expect(staff).to_have_url(re.compile("/login"))
    thief = browser.new_context()
    try:
        thief.add_cookies(cookies)
        page = thief.new_page()
        page.goto(live_server + "/customer/list/")
        expect(page).to_have_url(re.compile("/login"))
    finally:
        thief.close()
    login(staff, live_server, MOBILE, CHANGED)
    expect(staff).not_to_have_url(re.compile("/login"))
