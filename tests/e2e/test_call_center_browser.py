"""呼叫中心 in the browser: an administrator binds a seat on the PC (选择 → 更换绑定 → 获取验证码 → the code
from the outbox → the employee → 确定), and the salesperson works from a 375×667 phone: log in, a group,
a customer, 拨打电话 (the device provider's tel: link), the outcome, the follow-up, then sees it on the PC."""
import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, ROOT, SERVER_ENV, login, pick, screenshot

pytestmark = pytest.mark.e2e

SETUP = r"""
from app import create_app, groups, organisation as org
from app.extensions import db
from models.crm import Customer
from app.customers import record_creation
app = create_app()
with app.app_context():
    role = app.appbuilder.sm.find_role("销售")
    dept = org.create_department("电销一部")
    seller = org.create_employee(name="小李", mobile="13600001111", password="seller-pass-1", department_id=dept.id,
                                 role_ids=[role.id])
    org.activate_employees([seller.id])
    customer = Customer(company_name="浦东测试公司", contact_name="王经理", mobile="13911110001",
                        owner_id=seller.id, department_id=dept.id)
    db.session.add(customer)
    db.session.flush()
    record_creation(customer, seller)
    db.session.commit()
    group = groups.create_group("重点客户", seller)
    groups.add_to_group(group.id, [customer.id], seller)
    print(seller.id, customer.id)
"""


@pytest.fixture(scope="module")
def people(live_server):
    env = {**os.environ, **SERVER_ENV}
    out = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    seller_id, customer_id = out.stdout.split()[-2:]
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "seat", "add", "--number", "21201",
                    "--name", "坐席账号1", "--days", "3142"], cwd=ROOT, env=env, check=True, capture_output=True)
    return {"base": live_server, "seller": int(seller_id), "customer": int(customer_id)}


def test_admin_binds_a_seat_with_the_sms_code(people, new_page):
    base = people["base"]
    admin = new_page()
    login(admin, base, "admin", ADMIN_PASSWORD)
    admin.goto(base + "/seat/list/")
    row = admin.locator("tr", has_text="21201")
    expect(row).to_contain_text("剩余3141天")
    screenshot(admin, "seat-list")
    with admin.expect_navigation():
        row.locator(".crm-seat-choose").click()
    expect(admin.locator("#crm-seat-info")).to_contain_text("坐席账号1")
    admin.fill("#mobile", "13977776666")
    with admin.expect_navigation():
        admin.click("#crm-send-code")
    expect(admin.locator("body")).to_contain_text("验证码已发送")
    outbox = new_page()
    login(outbox, base, "admin", ADMIN_PASSWORD)
    outbox.goto(base + "/sms_message/list/")
    code = re.search(r"验证码为 (\d{6})", outbox.locator("table.table-bordered").inner_text()).group(1)
    screenshot(outbox, "sms-outbox")
    admin.fill("#code", code)
    pick(admin, "#employee", "小李")  # typed: the picker asks /seat/lookup/employee/
    screenshot(admin, "seat-binding-form")
    with admin.expect_navigation():
        admin.click("#crm-bind-confirm")
    row = admin.locator("tr", has_text="21201")
    expect(row).to_contain_text("13977776666")
    expect(row).to_contain_text("小李")
    screenshot(admin, "seat-list-bound")
    admin.goto(base + "/employees/list/")
    expect(admin.locator("tr", has_text="小李")).to_contain_text("21201")


def test_salesperson_calls_from_the_phone_and_the_follow_up_shows_on_the_pc(people, browser):
    base = people["base"]
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    try:
        phone = context.new_page()
        phone.goto(base + "/m/")
        phone.fill("#m-username", "13600001111")
        phone.fill("#m-password", "seller-pass-1")
        with phone.expect_navigation():
            phone.click("#m-login-submit")
        expect(phone.locator("#m-groups")).to_contain_text("重点客户")
        screenshot(phone, "mobile-groups")
        with phone.expect_navigation():
            phone.click(".m-group:has-text('重点客户')")
        with phone.expect_navigation():
            phone.click(".m-customer:has-text('浦东测试公司')")
        expect(phone.locator("#m-customer-phone")).to_have_text("13911110001")
        screenshot(phone, "mobile-customer")
        with phone.expect_navigation():
            phone.click("#m-dial")
        expect(phone.locator("#m-tel")).to_have_attribute("href", "tel:13911110001")
        expect(phone.locator("#m-call-state")).to_have_text("已拨出")
        screenshot(phone, "mobile-calling")
        phone.select_option("#outcome-disposition", "answered")
        phone.fill("#outcome-talk_seconds", "45")
        with phone.expect_navigation():
            phone.click("#m-outcome-save")
        expect(phone.locator("#m-call-disposition")).to_have_text("接通")
        expect(phone.locator("#followup-content")).to_contain_text("通话 45 秒")
        phone.fill("#followup-content", "电话沟通：接通，客户同意下周面谈")
        with phone.expect_navigation():
            phone.click("#m-followup-save")
        expect(phone.locator("#m-customer-followups")).to_contain_text("客户同意下周面谈")
        expect(phone.locator("#m-customer-calls")).to_contain_text("接通")
        screenshot(phone, "mobile-after-call")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is wider than the phone: {width}px"
        phone.goto(base + "/m/dialpad")
        for key in "021":
            phone.click(f".m-key[data-key='{key}']")
        expect(phone.locator("#m-number")).to_have_value("021")
        screenshot(phone, "mobile-dialpad")
    finally:
        context.close()
    pc = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = pc.new_page()
        login(page, base, "13600001111", "seller-pass-1")
        page.goto(base + f"/customer/show/{people['customer']}")
        expect(page.locator("body")).to_contain_text("客户同意下周面谈")
        expect(page.locator("#crm-dial")).to_be_visible()
        screenshot(page, "pc-customer-after-mobile-call")
        page.goto(base + "/call/list/")
        expect(page.locator("table.table-bordered")).to_contain_text("浦东测试公司")
        screenshot(page, "pc-call-records")
        page.goto(base + "/customer/show/%d" % people["customer"])
        with page.expect_navigation():
            page.click("#crm-dial")
        expect(page.locator("#crm-dial-qr svg")).to_be_visible()
        screenshot(page, "pc-dialing-qr")
    finally:
        pc.close()
