"""Security headers on every kind of response (screens, the JSON API, static files, error pages), a script
nonce that changes per request and covers every script of the main screens, and no inline handler or
javascript: link left in their HTML (a browser would block it: tests/e2e/test_csp_browser.py shows that)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.extensions import db
from tests import factories as f
from tests.conftest import web_login


def _nonce(response) -> str:
    csp = response.headers["Content-Security-Policy"]
    match = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})'", csp)
    assert match, csp
    return match.group(1)


def assert_secure_headers(response, nonce=True):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";"))
    assert directives.get("default-src") == "'self'", csp
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"  # FAB's style="" attributes; no nonce there
    assert "http" not in csp  # no CDN or other origin anywhere
    if nonce:
        _nonce(response)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain http (127.0.0.1): no HSTS, no redirect


@pytest.fixture
def seller(app):
    with app.app_context():
        login = f.employee("头部销售").username
        db.session.remove()
    return login


def test_html_screens_carry_the_headers_and_a_fresh_nonce_each_time(client):
    login_page = client.get("/login/")
    assert login_page.status_code == 200
    assert_secure_headers(login_page)
    web_login(client)
    first, second = client.get("/customer/list/"), client.get("/customer/list/")
    assert first.status_code == second.status_code == 200
    assert_secure_headers(first)
    assert _nonce(first) != _nonce(second)
    assert f'nonce="{_nonce(first)}"' in first.get_data(as_text=True)
    assert _nonce(second) not in first.get_data(as_text=True)


def test_the_json_api_carries_the_headers(client, admin_headers):
    response = client.get("/api/v1/customer/", headers=admin_headers)
    assert response.status_code == 200 and response.is_json
    assert_secure_headers(response, nonce=False)
    refused = client.get("/api/v1/customer/")  # no token
    assert refused.status_code == 401
    assert_secure_headers(refused, nonce=False)


@pytest.mark.parametrize("url", ["/static/js/console.js", "/static/css/console.css",
                                 "/static/vendor/echarts/echarts.min.js", "/static/appbuilder/js/ab.js",
                                 "/console/static/admin/js/helpers.js"])
def test_static_files_carry_the_headers(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert_secure_headers(response, nonce=False)
    response.close()


def test_error_pages_carry_the_headers_and_their_scripts_the_nonce(app, client, seller, monkeypatch):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    assert_secure_headers(missing)
    api_missing = client.get("/api/v1/no_such_thing/")
    assert api_missing.status_code == 404 and api_missing.is_json
    assert_secure_headers(api_missing, nonce=False)
    wrong_method = client.post("/health")
    assert wrong_method.status_code == 405
    assert_secure_headers(wrong_method, nonce=False)

    web_login(client, seller, f.PASSWORD)
    forbidden = client.get("/console/")  # a salesperson has no 控制台 right
    assert forbidden.status_code == 403 and "没有权限" in forbidden.get_data(as_text=True)
    assert_secure_headers(forbidden)
    check_page_scripts(forbidden)

    # a real unhandled error inside a view, answered by the 500 page as in production (exceptions not propagated)
    def broken_view():
        raise RuntimeError("the health check broke")

    monkeypatch.setitem(app.view_functions, "health", broken_view)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    failed = client.get("/health")
    assert failed.status_code == 500 and "服务器错误" in failed.get_data(as_text=True)
    assert_secure_headers(failed)
    check_page_scripts(failed)


def test_a_page_refused_before_any_view_still_names_its_nonce(app, client, monkeypatch):
    """413 from the request guard (a before_request) renders the error page: its scripts carry the nonce the
    header names, though the nonce was made while rendering."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    web_login(client)
    too_large = client.post("/customer/add", data={"company_name": "x" * 5000})
    assert too_large.status_code == 413
    assert_secure_headers(too_large)
    check_page_scripts(too_large)


# ---------------------------------------------------------------- the HTML of the main screens


class _Inline(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: scripts without the nonce, on* handlers,
    javascript: URLs."""

    def __init__(self, nonce, void_links_ok=False):
        super().__init__(convert_charrefs=True)
        self.nonce, self.scripts, self.problems, self.void_links_ok = nonce, 0, [], void_links_ok

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("type", "text/javascript") in ("text/javascript", "module"):
            # (a data block such as <script type="application/json"> is never run, so the CSP leaves it alone)
            self.scripts += 1
            if attrs.get("nonce") != self.nonce:
                self.problems.append(f"<script> without the nonce: {attrs}")
            if attrs.get("src", "").startswith(("http:", "https:", "//")):
                self.problems.append(f"a foreign script: {attrs['src']}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> inline handler")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:") and not (self.void_links_ok and value == "javascript:void(0)"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "link" and (attrs.get("href") or "").startswith(("http:", "https:", "//")):
            self.problems.append(f"a foreign stylesheet: {attrs['href']}")


def check_page_scripts(response) -> int:
    # Flask-Admin's own templates write href="javascript:void(0)" on tabs, menus and disabled pages; the console's
    # static/js/console.js turns them into "#" before anything can be clicked (the browser test checks the DOM)
    parser = _Inline(_nonce(response), void_links_ok=response.request.path.startswith("/console/"))
    parser.feed(response.get_data(as_text=True))
    assert parser.problems == [], (response.request.path, parser.problems)
    return parser.scripts


def _menu_urls(client):
    menu = client.get("/api/v1/menu/").get_json()["result"]
    return [item["url"] for category in menu for item in category.get("childs", []) if item.get("url")]


def test_no_inline_script_without_the_nonce_on_the_main_screens(app, client):
    with app.app_context():
        customer = f.customer(f.admin(), "头部测试公司", mobile="13912345678")
        pk = customer.id
        db.session.remove()
    web_login(client)
    urls = _menu_urls(client) + [
        "/", f"/customer/show/{pk}", f"/customer/edit/{pk}", "/customer/add", "/contact/add", "/employees/add",
        "/departments/add", "/profile/userinfo/", "/swagger/v1", "/custom-fields/customer/preview",
        "/stats/department_calls/?from=2026-03-01&to=2026-03-31", "/no-such-page",
        "/console/", "/console/console_audit_log/", "/console/console_login_log/", "/console/console_sms/",
        "/console/console_custom_field/", "/console/console_owner_history/",
    ]
    assert len(urls) >= 30
    scripts = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert_secure_headers(response)
        scripts += check_page_scripts(response)
    assert scripts > 100  # FAB's, ours, ECharts', Swagger UI's and Flask-Admin's scripts were all looked at


def test_no_inline_script_without_the_nonce_on_the_mobile_site(app, client):
    with app.app_context():
        person = f.employee("头部手机")
        f.customer(person, "手机头部公司", mobile="13912340000")
        login = person.username
        db.session.remove()
    login_page = client.get("/m/login")
    check_page_scripts(login_page)
    assert_secure_headers(login_page)
    client.post("/m/login", data={"username": login, "password": f.PASSWORD})
    for url in ("/m/", "/m/customers", "/m/dialpad", "/m/calls"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_secure_headers(response)
        check_page_scripts(response)
