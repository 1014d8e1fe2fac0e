"""Issue 11 in the browser: the 负责人 picker of the add-customer form is typed, not listed. A manager (张伟,
销售主管: 本人及下属) types a name, the picker asks the server, offers only the active employees in his scope,
and the customer is saved with the one he picked."""
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, pick, screenshot, type_in_picker

pytestmark = pytest.mark.e2e


def _typed(page, text):
    """Type into the open picker and wait for the server's answer to the whole text."""
    with page.expect_response(lambda r: "/lookup/owner/" in r.url and quote(text) in r.url) as answer:
        type_in_picker(page, text)
    assert answer.value.status == 200
    return [row["text"] for row in answer.value.json()["results"]]


def test_typing_into_the_owner_picker_and_saving(demo, new_page):
    page = new_page()
    login(page, demo, "13800000003", "demo1234")  # 张伟: 刘洋, 陈静 and the disabled 杨帆 report to him
    page.goto(demo + "/customer/add")
    owner = page.locator("select[name=owner]")
    # the page holds no staff list: only the preselected owner, the one adding
    expect(owner.locator("option:checked")).to_have_text("张伟")
    assert not [t for t in owner.locator("option").all_inner_texts() if t.strip() not in ("", "张伟")]
    page.fill("input[name=company_name]", "选人测试有限公司")
    page.fill("input[name=mobile]", "13966600011")

    page.click("select[name=owner] + .select2 .select2-selection")
    assert _typed(page, "黄磊") == []  # another team: not offered even when named
    page.keyboard.press("Escape")
    page.click("select[name=owner] + .select2 .select2-selection")
    assert _typed(page, "杨帆") == []  # in his team, but disabled
    page.keyboard.press("Escape")
    pick(page, "select[name=owner]", "陈")
    expect(page.locator("select[name=owner] + .select2 .select2-selection__rendered")).to_contain_text("陈静")
    screenshot(page, "owner-picker-typed")
    with page.expect_navigation():
        page.click("form [type=submit]")
    page.goto(demo + "/customer/list/?_flt_0_company_name=" + quote("选人测试"))
    row = page.locator("table.crm-list-table tbody tr", has_text="选人测试有限公司")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("陈静")
