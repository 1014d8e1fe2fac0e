"""Per-request cost of the customer API's first page, and paging by cursor vs by page number.

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/seed.py --customers 100000
    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/bench_api_page.py [--runs 200] [--profile admin|lead]

Two callers, each with a bearer token through the test client (FAB security, data scope, field permissions,
query, JSON — the whole request): the administrator (全部) and a 销售主管 (本人及下属, 20 subordinates; made on the
first run). Median and p90 ms of --runs requests after 20 warm-ups. `--profile WHO` runs cProfile over the
runs and prints the --top most expensive functions (--sort). `--pages N` also walks N pages of the
administrator's list by cursor and by page number (page index N-1 is what a deep offset costs).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import prison

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
ADMIN_PASSWORD = "bench-admin-1"
LEAD_MOBILE, LEAD_PASSWORD = "17799990001", "bench-pass-1"


def _lead(app) -> None:
    """A 销售主管 (scope 本人及下属) managing 20 of the seeded salespeople; made once."""
    from sqlalchemy import select, update

    from app import organisation as org
    from app.extensions import db
    from models.org import Department, Employee

    with app.app_context():
        if db.session.scalar(select(Employee.id).where(Employee.mobile == LEAD_MOBILE)):
            return
        role = app.appbuilder.sm.find_role("销售主管")
        # bench/seed.py's departments (a tree since the scale benchmark; 销售1部 in the flat seed of before)
        dept = db.session.scalar(select(Department.id).where(Department.name == "销售1部")) or db.session.scalar(
            select(Employee.department_id).where(Employee.department_id.is_not(None)).order_by(Employee.id.desc())
            .limit(1))
        lead = org.create_employee(name="主管", mobile=LEAD_MOBILE, password=LEAD_PASSWORD, department_id=dept,
                                   role_ids=[role.id])
        org.activate_employees([lead.id])
        team = db.session.scalars(select(Employee.id).where(Employee.mobile.like("1770000%"))
                                  .order_by(Employee.id).limit(20)).all() or db.session.scalars(
            select(Employee.id).where(Employee.department_id == dept, Employee.id != lead.id)
            .order_by(Employee.id).limit(20)).all()
        db.session.execute(update(Employee).where(Employee.id.in_(team)).values(manager_id=lead.id))
        db.session.commit()


def _token(client, username, password) -> dict:
    answer = client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                         "provider": "db"})
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def _timed(fn, runs, warm=20, profile=None):
    for _ in range(warm):
        fn()
    samples, cpu = [], []
    if profile is not None:
        profile.enable()
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    if profile is not None:
        profile.disable()
    samples.sort()
    return (round(statistics.median(samples), 2), round(samples[max(0, round(len(samples) * 0.9) - 1)], 2),
            round(statistics.median(cpu), 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--profile", choices=["admin", "lead"])
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--dump", help="also write the profile to this file (pstats)")
    parser.add_argument("--pages", type=int, default=0)
    parser.add_argument("--settle", action="store_true", help="freeze the start-up heap first, as run.py does")
    args = parser.parse_args()

    from app import create_app, heap

    app = create_app()
    _lead(app)
    if args.settle:
        heap.settle()
    client = app.test_client()
    callers = {"admin": _token(client, "admin", ADMIN_PASSWORD), "lead": _token(client, LEAD_MOBILE, LEAD_PASSWORD)}
    print(f"database: {os.environ.get('DATABASE_URL', 'default sqlite')}")
    print(f"load average: {os.getloadavg()[0]:.2f}")

    def first_page(headers):
        def run():
            response = client.get("/api/v1/customer/", headers=headers)
            assert response.status_code == 200, response.get_json()
        return run

    for who, headers in callers.items():
        profile = cProfile.Profile() if args.profile == who else None
        median, p90, cpu = _timed(first_page(headers), args.runs, profile=profile)
        print(f"  api first page as {who:5s} {median:7.2f} ms  p90 {p90:7.2f} ms  cpu {cpu:6.2f} ms "
              f"(of {args.runs}; load {os.getloadavg()[0]:.2f})")
        if profile is not None:
            if args.dump:
                profile.dump_stats(args.dump)
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)

    if args.pages:
        headers = callers["admin"]
        started = time.perf_counter()
        cursor, seen = None, 0
        for _ in range(args.pages):
            url = "/api/v1/customer/" + (f"?cursor={cursor}" if cursor else "")
            body = client.get(url, headers=headers).get_json()
            seen += len(body["ids"])
            cursor = body.get("next_cursor")
        by_cursor = (time.perf_counter() - started) * 1000
        last = f"/api/v1/customer/?q={prison.dumps({'page': args.pages - 1, 'page_size': 50})}"
        median, p90, _cpu = _timed(lambda: client.get(last, headers=headers), 9, warm=1)
        deep = f"/api/v1/customer/?cursor={cursor}" if cursor else None
        print(f"  {args.pages} pages by cursor: {by_cursor:.0f} ms ({seen} rows); page {args.pages - 1} by number "
              f"{median:.1f} ms (p90 {p90:.1f})")
        if deep:
            median, p90, _cpu = _timed(lambda: client.get(deep, headers=headers), 9, warm=1)
            print(f"  page {args.pages} by cursor {median:.1f} ms (p90 {p90:.1f})")


if __name__ == "__main__":
    main()
