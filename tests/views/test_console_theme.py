"""控制台's page frame: the CRM's brand linking back to the CRM, its local stylesheet and script, the signed-in
employee, Chinese labels, an index listing the console's lists, and times without microseconds."""
import re

from tests.conftest import web_login


def test_the_console_frame_is_the_crms(client):
    web_login(client)
    page = client.get("/console/console_login_log/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert re.search(r'<a class="navbar-brand" href="/" id="crm-console-brand"[^>]*>CRM</a>', body)
    assert 'href="/static/css/console.css"' in body and 'src="/static/js/console.js"' in body
    assert "返回CRM" in body and "管理员" in body and "登录记录" in body and "添加筛选器" in body
    assert "<title>登录记录 - 控制台 - CRM</title>" in body
    assert not re.search(r'(href|src)="(https?:)?//', body)  # nothing from another site
    # the login just made is listed with a time to the second
    times = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", body)
    assert times and all(fraction == "" for fraction in times)


def test_the_console_index_lists_its_pages(client):
    web_login(client)
    body = client.get("/console/").get_data(as_text=True)
    assert "供运维人员查看的只读列表" in body
    links = re.findall(r'<a class="list-group-item[^"]*" href="(/console/[^"]+)">([^<]+)</a>', body)
    assert [name for _, name in links] == ["审计日志", "登录记录", "导入记录", "通话事件", "短信发件箱", "负责人变更记录",
                                           "自定义字段定义"]
    for url, _ in links:
        assert client.get(url).status_code == 200, url
