"""What the login protection costs, through the test client's POST /api/v1/security/login (SQLite or PostgreSQL):

    python bench/bench_login.py                     # SQLite in a temporary directory
    python bench/bench_login.py --db postgresql://postgres@127.0.0.1:5432/crm_bench_login
    CRM_CODE_ROOT=/path/to/other/checkout python bench/bench_login.py   # the same cases on another tree

1. a right password (one read of the lockout row), 2. a wrong password (the atomic upserts of the account and
the address rows; a new login name each time, from a new address each time so nothing waits),
3. the right password on a locked account, 4. a login from an address that must wait (429 before any view).
Medians and p90 in milliseconds; the database is made by the real migrations; pbkdf2 with 1,000 rounds as in
the tests, so the hash does not hide the rest.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("CRM_CODE_ROOT") or str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))  # bench/benchapp.py
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-login-"))
PASSWORD = "bench-admin-pass"


def _timed(fn, runs):
    times, statuses = [], set()
    for _ in range(runs):
        start = time.perf_counter()
        statuses.add(fn())
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    from werkzeug.security import generate_password_hash

    from benchapp import fresh_app

    def cheap_fake_hash(app):
        # FAB hashes a fixed password for an unknown login (to take as long as a known one): the same cheap method
        app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"] = generate_password_hash("x", "pbkdf2:sha256:1000")

    app, dialect = fresh_app(args.db, PASSWORD, cheap_fake_hash)
    client = app.test_client()
    counter = iter(range(10 ** 6))

    def login(username, password, address):
        return client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                           "provider": "db"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    def right():
        return login("admin", PASSWORD, "10.0.0.1")

    def wrong():
        n = next(counter)
        return login(f"1390{n:07d}", "wrong-pass", f"10.1.{n // 250}.{n % 250 + 1}")

    print(f"{dialect}, {args.runs} runs each; load average {os.getloadavg()[0]:.1f}")

    def report(cases):
        for _name, fn in cases:  # warm-up
            fn()
        for name, fn in cases:
            median, p90, statuses = _timed(fn, args.runs)
            print(f"{name:34s} median {median:6.1f} ms   p90 {p90:6.1f} ms   {sorted(statuses)}")

    report([("right password", right), ("wrong password", wrong)])
    if "LOGIN_IP_FREE_FAILURES" in app.config:  # the protection of this tree
        for n in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
            login("admin", "wrong-pass", f"10.2.0.{n + 1}")
        for _ in range(app.config["LOGIN_IP_FREE_FAILURES"]):
            login(f"1391{next(counter):07d}", "wrong-pass", "10.3.0.1")
        for step in range(8):  # the lockout's clock moves on past each wait: 1, 2, 4 … 60 s
            app.config["LOGIN_CLOCK_OFFSET_SECONDS"] = 61 * step
            login(f"1391{next(counter):07d}", "wrong-pass", "10.3.0.1")
        locked = iter(range(10 ** 6))
        report([("right password, account locked",
                 lambda n=None: login("admin", PASSWORD, "10.4.{0}.{1}".format(*divmod(next(locked), 250)))),
                ("address waiting (429)", lambda: login("admin", PASSWORD, "10.3.0.1"))])

if __name__ == "__main__":
    main()
