"""What the input checks cost, through the test client as the logged-in administrator (SQLite or PostgreSQL):

    python bench/bench_bad_input.py                 # SQLite in a temporary directory
    python bench/bench_bad_input.py --db postgresql://postgres@127.0.0.1:5432/crm_bench_input

1. A valid customer POST and a filtered list GET, with the request guard (app/request_guard.py) and the
   column checks (app/inputs.py) in place and with the guard switched off: the guard's overhead.
2. How fast the refusals come back: a 65 MB body (413 before the body is read), `q` nested 5,000 deep,
   a 1,000,000-character company name, an id past 2^63.
Medians and p90 in milliseconds; the database is made by the real migrations.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))  # bench/benchapp.py
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-input-"))
PASSWORD = "bench-admin-pass"


def _timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        status = fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    from benchapp import fresh_app

    app, dialect = fresh_app(args.db, PASSWORD)
    from app import request_guard
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD,
                                                         "provider": "db"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10 ** 6))

    def post_customer():
        n = next(counter)
        return client.post("/api/v1/customer/", headers=headers, json={
            "company_name": f"基准客户{n}", "contact_name": "张三", "mobile": f"1390000{n:04d}",
            "address": "杭州市西湖区" * 5, "note": "备注" * 200}).status_code

    def list_customers():
        return client.get("/api/v1/customer/?q=(filters:!((col:company_name,opr:kw_customer,value:'1390000')),"
                          "page:0,page_size:20)", headers=headers).status_code

    refusals = {
        "65 MB body -> 413": lambda: client.post("/api/v1/customer/", headers=headers,
                                                 data=b"{" + b" " * (65 * 1024 * 1024) + b"}",
                                                 content_type="application/json").status_code,
        "q nested 5,000 deep -> 400": lambda: client.get("/api/v1/customer/?q=" + "(a:" * 5000 + ")" * 5000,
                                                         headers=headers).status_code,
        "company name of 1,000,000 characters -> 400": lambda: client.post(
            "/api/v1/customer/", headers=headers, json={"company_name": "x" * 10 ** 6}).status_code,
        "id past 2^63 -> 404": lambda: client.get(f"/api/v1/customer/{2 ** 64}", headers=headers).status_code,
    }

    for _ in range(10):  # warm-up: first requests fill caches and the connection pool
        post_customer(), list_customers()
    print(f"database: {dialect}, {args.runs} runs each after 10 warm-ups; median / p90 in ms")
    guards = app.before_request_funcs[None]
    unguarded = [f for f in guards if f is not request_guard.guard_request]
    for label, fn in (("POST a valid customer", post_customer), ("GET a filtered list", list_customers)):
        times = {"on": [], "off": []}
        for run in range(2 * args.runs):  # alternate, so drift on a shared machine hits both alike
            key = "on" if run % 2 == 0 else "off"
            app.before_request_funcs[None] = guards if key == "on" else unguarded
            times[key].append(_timed(fn, 1)[0])
        app.before_request_funcs[None] = guards
        for key in ("on", "off"):
            ordered = sorted(times[key])
            print(f"  {label:45s} guard {key:3s}: {statistics.median(ordered):7.1f} / "
                  f"{ordered[int(len(ordered) * 0.9) - 1]:7.1f}")
    for label, fn in refusals.items():
        median, p90, status = _timed(fn, max(5, args.runs // 5))
        print(f"  {label:45s}          {median:7.1f} / {p90:7.1f}  ({status})")


if __name__ == "__main__":
    main()
