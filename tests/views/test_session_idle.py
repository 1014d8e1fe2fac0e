"""The session cookie's flags (HttpOnly, SameSite=Lax, Secure over https) and the idle timeout of web sessions:
through the login forms with their CSRF token (as in production), then a time travel of the session's last
request (login_session.last_seen_at moved into the past, as if the browser had been left alone)."""
from __future__ import annotations

import datetime as dt
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from app.extensions import db
from models.auth import LoginSession
from models.mixins import utcnow
from tests import factories as f
from tests.conftest import api_login, token_of
from tests.views.test_sessions import employee, form_login, logged_in  # noqa: F401 (fixtures)


def _session_cookie(response) -> SimpleCookie:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            cookie = SimpleCookie()
            cookie.load(header)
            return cookie["session"]
    raise AssertionError("no session cookie set")


def _flags(response) -> set:
    cookie = _session_cookie(response)
    return {name for name in ("httponly", "secure") if cookie[name]} | {f"samesite={cookie['samesite']}"}


def test_the_session_cookie_is_httponly_and_lax_and_not_secure_over_http(csrf):
    client = csrf.test_client()
    response = client.get("/login/")
    assert _flags(response) == {"httponly", "samesite=Lax"}


def test_the_session_cookie_is_secure_over_https(csrf, employee):
    client = csrf.test_client()
    page = client.get("/login/", base_url="https://crm.example.com")
    assert _flags(page) == {"httponly", "secure", "samesite=Lax"}
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("setting, scheme, secure", [
    ("auto", "http", False), ("auto", "https", True), ("1", "http", True), ("0", "https", False)])
def test_the_secure_flag_follows_the_setting(csrf, monkeypatch, setting, scheme, secure):
    monkeypatch.setitem(csrf.config, "SESSION_COOKIE_SECURE", setting)
    response = csrf.test_client().get("/login/", base_url=f"{scheme}://localhost")
    assert ("secure" in _flags(response)) is secure


def test_preferred_https_scheme_makes_the_cookie_secure_even_behind_a_plain_http_hop(csrf, monkeypatch):
    monkeypatch.setitem(csrf.config, "PREFERRED_URL_SCHEME", "https")
    assert "secure" in _flags(csrf.test_client().get("/login/"))


def test_behind_a_trusted_proxy_a_forwarded_https_request_gets_a_secure_cookie(csrf, monkeypatch):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "crm.example.com"}
    client = csrf.test_client()
    assert "secure" not in _flags(client.get("/login/", headers=forwarded))  # no trusted proxy: a client's claim
    monkeypatch.setitem(csrf.config, "PROXY_COUNT", 1)
    assert "secure" in _flags(client.get("/login/", headers=forwarded))


def test_behind_a_trusted_proxy_the_audit_trail_keeps_the_clients_address(csrf, employee, monkeypatch):
    from models.audit import AuditLog

    monkeypatch.setitem(csrf.config, "PROXY_COUNT", 1)
    client = csrf.test_client()
    token = token_of(client, "/login/")
    # over https Flask-WTF also wants the same-origin Referer a browser sends (Referrer-Policy keeps it)
    response = client.post("/login/", data={"username": employee["login"], "password": f.PASSWORD,
                                            "csrf_token": token},
                           headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                                    "Referer": "https://localhost/login/"})
    assert response.status_code == 302
    with csrf.app_context():
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "login")
                                   .order_by(AuditLog.id.desc())).scalars().first()
        assert entry.ip == "203.0.113.7"


def _travel(employee_id: int, minutes: float) -> None:
    """Time travel: the employee's sessions were last used `minutes` ago."""
    db.session.execute(LoginSession.__table__.update().where(LoginSession.employee_id == employee_id)
                       .values(last_seen_at=utcnow() - dt.timedelta(minutes=minutes)))
    db.session.commit()


def _sessions_of(employee_id: int) -> list:
    return db.session.execute(select(LoginSession).where(LoginSession.employee_id == employee_id)).scalars().all()


def test_an_idle_session_ends_and_the_login_page_says_why(csrf, employee):
    client = csrf.test_client()
    form_login(client, employee["login"], f.PASSWORD)
    assert logged_in(client)
    with csrf.app_context():
        assert len(_sessions_of(employee["id"])) == 1
        _travel(employee["id"], 121)  # the default SESSION_IDLE_MINUTES is 120
    response = client.get("/customer/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert "next=" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    body = page.get_data(as_text=True)
    assert "您已超过 120 分钟未操作，已自动退出，请重新登录。" in body
    assert "拒绝访问" not in body and "Access is Denied" not in body  # one message, not FAB's as well
    with csrf.app_context():
        assert _sessions_of(employee["id"]) == []  # ended on the server: a copy of the cookie is void too
    assert not logged_in(client)
    form_login(client, employee["login"], f.PASSWORD)  # logging in again works at once
    assert logged_in(client)


def test_a_session_in_use_stays_and_its_last_request_is_stamped(csrf, employee):
    client = csrf.test_client()
    form_login(client, employee["login"], f.PASSWORD)
    with csrf.app_context():
        _travel(employee["id"], 119)
    assert logged_in(client)  # still within the 120 minutes
    with csrf.app_context():
        (row,) = _sessions_of(employee["id"])
        assert utcnow() - row.last_seen_at < dt.timedelta(minutes=1)  # the request moved it to now
        _travel(employee["id"], 0.5)
        before = _sessions_of(employee["id"])[0].last_seen_at
    assert logged_in(client)
    with csrf.app_context():  # stamped at most once a minute, not on every request
        assert _sessions_of(employee["id"])[0].last_seen_at == before


def test_the_idle_limit_is_a_setting_and_zero_turns_it_off(csrf, employee, monkeypatch):
    client = csrf.test_client()
    form_login(client, employee["login"], f.PASSWORD)
    monkeypatch.setitem(csrf.config, "SESSION_IDLE_MINUTES", 0)
    with csrf.app_context():
        _travel(employee["id"], 60 * 24)
    assert logged_in(client)
    monkeypatch.setitem(csrf.config, "SESSION_IDLE_MINUTES", 30)
    with csrf.app_context():
        _travel(employee["id"], 31)
    response = client.get("/customer/list/", follow_redirects=True)
    assert "您已超过 30 分钟未操作" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_an_idle_session_on_the_mobile_site_goes_to_the_mobile_login(csrf, employee):
    client = csrf.test_client()
    token = token_of(client, "/m/login")
    client.post("/m/login", data={"username": employee["login"], "password": f.PASSWORD, "csrf_token": token})
    assert client.get("/m/customers").status_code == 200
    with csrf.app_context():
        _travel(employee["id"], 121)
    response = client.get("/m/customers")
    assert response.status_code == 302 and "/m/login" in response.headers["Location"]
    assert "您已超过 120 分钟未操作" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_api_tokens_are_not_web_sessions_and_do_not_idle_out(csrf, employee):
    client = csrf.test_client()
    tokens = api_login(client, employee["login"], f.PASSWORD).get_json()
    form_login(client, employee["login"], f.PASSWORD)
    with csrf.app_context():
        _travel(employee["id"], 121)
    api = csrf.test_client().get("/api/v1/customer/", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert api.status_code == 200
    # the idle browser session used against the API is refused with the API's 401, not sent to a page
    assert client.get("/api/v1/customer/").status_code == 401
