"""Every screen in the menus opens, for the administrator and for a salesperson (what they may see)."""
from app.extensions import db
from tests import factories as f
from tests.conftest import web_login


def _menu_urls(client):
    menu = client.get("/api/v1/menu/").get_json()["result"]
    urls = []
    for category in menu:
        for item in category.get("childs", []):
            if item.get("url"):
                urls.append(item["url"])
    return urls


def test_every_menu_screen_opens_for_the_administrator(client, app):
    with app.app_context():
        customer = f.customer(f.admin(), "菜单测试公司")
        pk = customer.id
        db.session.remove()
    web_login(client)
    urls = _menu_urls(client)
    assert len(urls) >= 14, urls
    for url in urls + [f"/customer/show/{pk}", f"/customer/edit/{pk}", "/customer/add", "/contact/add",
                       "/opportunity/add", "/contract/add", "/invoice/add", "/followup/add", "/product/add",
                       "/employees/add", "/departments/add", "/profile/userinfo/", "/swagger/v1"]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_a_salesperson_sees_the_crm_menu_but_not_the_settings(client, app):
    with app.app_context():
        login = f.employee("菜单销售").username
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    urls = _menu_urls(client)
    assert "/customer/list/" in urls and "/pool/list/" in urls
    assert not any(u.startswith(("/employees", "/roles", "/options", "/custom-fields")) for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/employees/list/", follow_redirects=False).status_code in (302, 403)
