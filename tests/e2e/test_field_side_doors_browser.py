"""In the browser: a list's relationship filter is a search-as-you-type picker within the scope, and a
pool customer's detail shows its contacts and follow-up history but not its money."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e

SELLER = ("13800000004", "demo1234")  # 刘洋, 销售 (本人)


def test_the_customer_filter_is_a_scoped_picker(demo, new_page):
    page = new_page()
    login(page, demo, *SELLER)
    mine = page.request.get(demo + "/api/v1/customer/?q=(page_size:100)").json()
    my_ids = {row["id"] for row in mine["result"]}
    page.goto(demo + "/contact/list/")
    page.click("a.accordion-toggle")  # 搜索
    page.click("#filter_form button.dropdown-toggle")
    page.click("#filter_form a.filter[name=customer]")
    page.click("#filter_form select.crm-record-select + .select2 .select2-selection")
    page.keyboard.type("公司")
    options = page.locator(".select2-results__option", has_text="公司")
    expect(options.first).to_be_visible()
    screenshot(page, "crm-filter-picker")
    found = page.request.get(demo + "/contact/lookup/customer/?q=公司").json()["results"]
    assert found
    for row in found:  # each one the seller's own or in the pool (its contacts are the pool's too)
        assert row["id"] in my_ids or page.request.get(demo + f"/api/v1/pool/{row['id']}").status == 200, row
    options.first.click()
    with page.expect_navigation():
        page.click("#filter_form [type=submit]")
    assert "_flt_0_customer=" in page.url


def test_a_pool_customer_shows_contacts_and_history_not_money(demo, new_page):
    admin = new_page()
    login(admin, demo, "admin", ADMIN_PASSWORD)
    # the API with the page's session cookie, as the screens' scripts call it: with the page's CSRF token
    admin.goto(demo + "/customer/add")
    token = {"X-CSRFToken": admin.locator("input[name=csrf_token]").first.input_value()}
    api = admin.request
    created = api.post(demo + "/api/v1/customer/", data={"company_name": "浏览器公海客户", "mobile": "13912340000"},
                       headers=token)
    assert created.status == 201, created.text()
    pk = created.json()["id"]
    assert api.post(demo + "/api/v1/contact/", data={"customer": pk, "name": "公海里的联系人"}, headers=token).status == 201
    assert api.post(demo + "/api/v1/followup/", data={"customer": pk, "content": "上次谈到报价"}, headers=token
                    ).status == 201
    assert api.post(demo + "/api/v1/contract/", data={"customer": pk, "number": "HT-E2E-1", "name": "不可见合同"},
                    headers=token).status == 201
    assert api.post(demo + "/api/v1/customer/release", data={"ids": [pk], "reason": "演示"}, headers=token
                    ).status == 200
    page = new_page()
    login(page, demo, *SELLER)
    page.goto(demo + f"/pool/show/{pk}")
    expect(page.locator("#crm-pool-followups")).to_contain_text("上次谈到报价")
    expect(page.locator("body")).to_contain_text("公海里的联系人")
    expect(page.locator("body")).not_to_contain_text("不可见合同")
    screenshot(page, "crm-pool-detail-history")
    page.goto(demo + "/contract/list/")
    expect(page.locator("body")).not_to_contain_text("HT-E2E-1")
