"""What a person sees when the input is wrong: the form comes back with the reason in Chinese under the
field, and a broken address gives a page in the app's layout with a way back — never a 500."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e


def test_a_too_long_name_and_a_fullwidth_duplicate_mobile_are_refused_on_the_form(live_server, new_page):
    page = new_page()
    login(page, live_server, "admin", ADMIN_PASSWORD)
    page.goto(live_server + "/customer/add")
    page.fill("input[name=company_name]", "全角号码客户")
    page.fill("input[name=mobile]", "13７０００８８５９９")
    with page.expect_navigation():
        page.click("form [type=submit]")
    found = ""
    for screen in ("customer", "pool"):  # the owner on 请选择 puts it in the pool; the creator's list otherwise
        page.goto(live_server + f"/{screen}/list/?_flt_0_company_name=13700088599")
        found += page.locator("body").inner_text()
    assert "全角号码客户" in found and "13700088599" in found  # stored as ASCII digits, found by them

    page.goto(live_server + "/customer/add")
    # the column's length reaches the form (the browser stops typing at it; the server refuses past it)
    expect(page.locator("input[name=company_name]")).to_have_attribute("maxlength", "128")
    page.fill("input[name=company_name]", "长" * 129)
    page.fill("input[name=mobile]", "１３７０００８８５９９")  # the same number, typed in fullwidth
    with page.expect_navigation():
        page.click("form [type=submit]")
    errors = page.locator(".alert-danger, .help-block.text-danger")
    expect(errors.first).to_be_visible()
    text = " ".join(errors.all_inner_texts())
    assert "存在" in text, text  # the mobile, typed in fullwidth, is found already taken
    screenshot(page, "bad-input-form")

    page.goto(live_server + "/customer/list/?psize_CustomerView=abc")
    expect(page.locator("#crm-refusal")).to_contain_text("每页条数")
    expect(page.locator("#crm-refusal a", has_text="返回")).to_be_visible()
    expect(page.locator(".navbar")).to_be_visible()  # in the app's layout
    screenshot(page, "bad-input-refusal-page")
