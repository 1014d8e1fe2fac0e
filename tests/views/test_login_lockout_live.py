"""The lockout counters under truly parallel requests: a real server (run.py, waitress, one thread and one
database transaction per request) on the test run's database, SQLite or PostgreSQL. Requests come from
different loopback addresses (127.0.x.y) where a test needs them to. Time passes by moving the rows' times
back by the window, as if it had elapsed."""
from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from models.audit import AuditLog
from models.auth import LoginThrottle
from tests import factories as f
from tests.live import parallel, running_server

FREE, MOST = 5, 8  # the server's per-address rule in this module


@pytest.fixture(scope="module")
def server(app):
    env = {**os.environ, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
           "LOGIN_IP_FREE_FAILURES": str(FREE), "LOGIN_IP_MAX_DELAY_SECONDS": str(MOST)}
    log_path = Path(tempfile.mkdtemp(prefix="crm-live-")) / "server.log"
    with running_server(env, log_path, args=("--threads", "32")) as url:
        yield url


def login(url, username, password, source="127.0.0.1"):
    """POST /api/v1/security/login from the loopback address `source`: (status, body, headers)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    try:
        conn.request("POST", "/api/v1/security/login", json.dumps(
            {"username": username, "password": password, "provider": "db"}), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}"), dict(response.getheaders())
    finally:
        conn.close()


def throttle_row(app, kind, key):
    with app.app_context():
        found = db.session.scalar(select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key))
        db.session.expunge_all()
        db.session.remove()
        return found


def let_time_pass(app, kind, key, seconds):
    """As if `seconds` had passed for this row: its window and its lock move back."""
    with app.app_context():
        db.session.execute(update(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key).values(
            window_start=LoginThrottle.window_start - seconds, locked_until=LoginThrottle.locked_until - seconds))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def person(app):
    with app.app_context():
        employee = f.employee("并发锁")
        username = employee.username
        db.session.remove()
    return username


def test_parallel_wrong_passwords_count_exactly_the_limit_and_the_lock_holds_then_lifts(app, server, person):
    limit, window = app.config["LOGIN_LOCKOUT_FAILURES"], app.config["LOGIN_LOCKOUT_MINUTES"] * 60
    attempts = 3 * limit
    results = parallel([lambda n=n: login(server, person, "wrong-pass", f"127.0.1.{n + 1}")
                           for n in range(attempts)])
    assert {status for status, _, _ in results} == {401}
    locked = [body["message"] for _, body, _ in results if "已被锁定" in body["message"]]
    assert len(locked) == attempts - (limit - 1)  # the 10th failure locks; the ones after it do not count
    assert throttle_row(app, "login", person).failures == limit
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "login_failed", AuditLog.actor_name == person)) == attempts
        db.session.remove()
    # the right password is refused, on the API and on the form, with the reason and the time left
    status, body, _ = login(server, person, f.PASSWORD, "127.0.2.1")
    assert status == 401 and "已被锁定" in body["message"] and f"{window // 60:.0f} 分钟后再试" in body["message"]
    page = form_login(server, person, f.PASSWORD)
    assert "已被锁定" in page and f"{window // 60:.0f} 分钟后再试" in page
    let_time_pass(app, "login", person, window - 60)  # a minute left: still locked
    status, body, _ = login(server, person, f.PASSWORD, "127.0.2.2")
    assert status == 401 and "1 分钟后再试" in body["message"]
    let_time_pass(app, "login", person, 61)
    status, body, _ = login(server, person, f.PASSWORD, "127.0.2.3")
    assert status == 200 and body["access_token"]
    assert throttle_row(app, "login", person) is None


def test_parallel_failures_from_one_address_are_each_counted_once_and_then_it_waits(app, server):
    source, attempts = "127.0.3.1", 4 * FREE
    results = parallel([lambda n=n: login(server, f"1390000{n:04d}", "wrong-pass", source)
                           for n in range(attempts)])
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {401, 429}
    row = throttle_row(app, "ip", source)
    assert row.failures == statuses.count(401) > FREE  # a 429 is answered before any check and never counts
    assert 1 <= row.delay <= MOST
    status, body, headers = login(server, "13900009999", "wrong-pass", source)
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= row.delay
    assert f"请在 {headers['Retry-After']} 秒后重试" in body["message"]
    assert throttle_row(app, "ip", source).failures == row.failures
    # the wait over, the next failure doubles it (up to the cap)
    let_time_pass(app, "ip", source, MOST + 1)
    assert login(server, "13900009999", "wrong-pass", source)[0] == 401
    assert throttle_row(app, "ip", source).delay == min(MOST, row.delay * 2)
    # other addresses are not affected
    assert login(server, "13900009999", "wrong-pass", "127.0.3.2")[0] == 401


def test_parallel_successful_logins_never_count(app, server, person):
    results = parallel([lambda: login(server, person, f.PASSWORD) for _ in range(3 * FREE)])
    assert [status for status, _, _ in results] == [200] * (3 * FREE)
    assert throttle_row(app, "ip", "127.0.0.1") is None and throttle_row(app, "login", person) is None


def form_login(url, username, password) -> str:
    """The login form as a browser sends it: its page, the CSRF token, the session cookie; the page after."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url + "/login/", timeout=60).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
    return opener.open(url + "/login/", data=data, timeout=60).read().decode()
