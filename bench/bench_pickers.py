"""Pickers and the field-permission-aware search box on a seeded database (bench/seed.py).

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/seed.py --customers 200000
    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/bench_pickers.py

Each case is a whole request through the test client with a login session (FAB security, data scope,
field permissions, query, JSON or HTML), as a seeded salesperson (销售, 本人) and as the administrator
(全部). For the salesperson a copy of 销售 hides the mobile, so the search box searches only the names.
Median and p90 of --runs runs after two warm-ups, in milliseconds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
ADMIN_PASSWORD = "bench-admin-1"
SELLER, SELLER_PASSWORD = "17700000007", "bench-pass-1"


def _timed(fn, runs):
    for _ in range(2):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.9) - 1)]


def _hide_mobile_for(app, username):
    from app import roles as role_service
    from app.extensions import db
    from models.org import Employee

    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role("销售-隐藏手机") or role_service.copy_role(sm.find_role("销售").id, "销售-隐藏手机")
        role_service.write_matrix(role.id, {"fields": {"customer": {"mobile": "hidden"}}})
        person = db.session.query(Employee).filter_by(username=username).one()
        person.roles = [role]
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    _hide_mobile_for(app, SELLER)
    results = {}
    for who, (login, password) in {"销售 (本人, 手机隐藏)": (SELLER, SELLER_PASSWORD),
                                   "管理员 (全部)": ("admin", ADMIN_PASSWORD)}.items():
        client = app.test_client()
        assert client.post("/login/", data={"username": login, "password": password}).status_code == 302

        def get(url):
            def run():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
            return run

        cases = {
            "contact picker: customers, q=客户00012": get("/contact/lookup/customer/?q=客户00012"),
            "contact picker: customers, no q": get("/contact/lookup/customer/"),
            "owner picker: employees, q=员工": get("/customer/lookup/owner/?q=员工"),
            "customer list: search box 联系人12": get("/customer/list/?_flt_0_company_name=联系人12"),
            "contact list with its filter pickers": get("/contact/list/"),
        }
        for name, fn in cases.items():
            median, p90 = _timed(fn, args.runs)
            results[(who, name)] = (median, p90)
            print(f"{who:22} {name:42} median {median:7.1f} ms   p90 {p90:7.1f} ms", flush=True)


if __name__ == "__main__":
    main()
