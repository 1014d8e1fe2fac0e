"""Customer list (screen and API) and export on a seeded database (bench/seed.py).

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/bench_lists.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench python bench/bench_lists.py

Each case goes through the whole request (login session or token, FAB security, data scope,
query, rendering), with the app in this process; the figure is the median of --runs runs after
two warm-ups. The export runs in a child process so its peak memory is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import prison

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
sys.path.insert(1, str(Path(__file__).resolve().parent))  # bench/benchapp.py

from benchapp import timed  # noqa: E402

ADMIN_PASSWORD = "bench-admin-1"


def lists(runs: int, settle: bool = False) -> dict:
    from app import create_app, heap
    from models.choices import Choice
    from app.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    if settle:
        heap.settle()  # as run.py does after building the app
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                        "provider": "db"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        status = db.session.query(Choice).filter_by(kind="customer_status", name="意向客户").one().id
    phone = "13000543210"
    kw = "_flt_0_company_name"

    def screen(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, response.status_code
        return run

    def api(q):
        url = "/api/v1/customer/" + (f"?q={prison.dumps(q)}" if q else "")

        def run():
            response = client.get(url, headers=headers)
            assert response.status_code == 200, response.get_json()
        return run

    name = "123456有限"  # one company name, found by substring
    name_filter = {"filters": [{"col": "company_name", "opr": "kw_customer", "value": name}]}
    kw_filter = {"filters": [{"col": "company_name", "opr": "kw_customer", "value": phone}]}
    status_filter = {"filters": [{"col": "status", "opr": "rel_o_m", "value": status}]}
    cases = {
        "screen: first page": screen("/customer/list/"),
        "screen: search by mobile": screen(f"/customer/list/?{kw}={phone}"),
        "screen: filter status": screen(f"/customer/list/?_flt_0_status={status}"),
        "screen: search by name": screen(f"/customer/list/?{kw}={name}"),
        "screen: sort 最后跟进 desc": screen("/customer/list/?_oc_CustomerView=last_followup_at&_od_CustomerView=desc"),
        "screen: sort 最后跟进 asc": screen("/customer/list/?_oc_CustomerView=last_followup_at&_od_CustomerView=asc"),
        "api: first page": api(None),
        "api: search by mobile": api(kw_filter),
        "api: filter status": api(status_filter),
        "api: search by name": api(name_filter),
        "api: search 有限公司 (all rows)": api({"filters": [{"col": "company_name", "opr": "kw_customer",
                                                        "value": "有限公司"}]}),
        "api: sort 最后跟进 desc": api({"order_column": "last_followup_at", "order_direction": "desc"}),
        "api: sort 最后跟进 asc": api({"order_column": "last_followup_at", "order_direction": "asc"}),
    }
    return {label: tuple(round(v, 1) for v in timed(fn, runs)) for label, fn in cases.items()}


def export_once(fmt: str) -> dict:
    from app import create_app

    app = create_app()
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                        "provider": "db"}).get_json()["access_token"]
    q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": "130000"}]})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(f"/api/v1/customer/export?format={fmt}&q={q}",
                          headers={"Authorization": f"Bearer {token}"})
    size = len(response.data) if fmt == "xlsx" else sum(len(chunk) for chunk in response.response)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": fmt, "seconds": round(took, 1), "bytes": size, "peak_rss_mb": round(peak / 1024),
            "rss_before_mb": round(before / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--export-only", choices=["xlsx", "csv"])
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--settle", action="store_true", help="freeze the start-up heap first, as run.py does")
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(export_once(args.export_only)))
        return
    print(f"database: {os.environ.get('DATABASE_URL', 'default sqlite')}")
    print(f"load average: {os.getloadavg()[0]:.2f}; settle: {args.settle}")
    for name, (median, p90) in lists(args.runs, args.settle).items():
        print(f"  {name:28s} {median:8.1f} ms  p90 {p90:8.1f} ms (of {args.runs})")
    if not args.skip_export:
        for fmt in ("xlsx", "csv"):
            out = subprocess.run([sys.executable, __file__, "--export-only", fmt], capture_output=True, text=True,
                                 env=os.environ, cwd=ROOT)
            line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-2000:]
            print(f"  export {fmt}: {line}")


if __name__ == "__main__":
    main()
