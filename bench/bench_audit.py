"""The audit trail's screens on a large trail, through the test client as the logged-in administrator:

    python bench/bench_audit.py                       # SQLite in a temporary directory
    python bench/bench_audit.py --db postgresql://postgres@127.0.0.1:5432/crm_bench_audit --entries 200000

Seeds ENTRIES audit entries and their record index (Core executemany: logins, exports, and
create/update/transfer entries of 2,000 customers, one in ten a bulk transfer of 50 ids) spread over a
year, then times 设置 → 审计日志 (first page, filtered by act and module, by employee and a month, the
last page), a customer's detail page with its 操作记录 tab, and an audited customer edit (PUT /api/v1/customer/<id>). Medians and p90 in milliseconds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))  # bench/benchapp.py
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-audit-"))
PASSWORD = "bench-admin-pass"
CUSTOMERS = 2000


def _timed(fn, runs):
    times = []
    status = None
    for _ in range(runs):
        start = time.perf_counter()
        status = fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.9) - 1, 0)], status


def _seed(app, entries: int) -> tuple[int, int]:
    from sqlalchemy import func, insert, select

    from app.extensions import db
    from models.audit import AuditLog, AuditLogRecord
    from models.crm import Customer
    from models.org import Employee

    rng = random.Random(7)
    with app.app_context():
        admin = db.session.scalar(select(Employee).where(Employee.username == "admin"))
        db.session.execute(insert(Customer), [
            {"company_name": f"基准客户{n}", "mobile": f"139{n:08d}", "owner_id": admin.id,
             "department_id": admin.department_id} for n in range(CUSTOMERS)])
        db.session.commit()
        first = db.session.scalar(select(Customer.id).order_by(Customer.id))
        start = dt.datetime.utcnow() - dt.timedelta(days=365)
        batch, records = [], []
        base = (db.session.scalar(select(func.max(AuditLog.id))) or 0) + 1
        for n in range(entries):
            kind = rng.random()
            row = {"id": base + n, "at": start + dt.timedelta(seconds=n * 365 * 86400 // entries), "actor_id": admin.id,
                   "actor_name": "admin", "ip": "127.0.0.1", "user_agent": "bench"}
            if kind < 0.3:
                row.update(action="login")
            elif kind < 0.4:
                row.update(action="export", module="customer", detail=json.dumps({"rows": 100, "format": "csv",
                                                                                    "filter": []}))
            elif kind < 0.9:
                pk = first + rng.randrange(CUSTOMERS)
                row.update(action=rng.choice(("create", "update")), module="customer", record_ids=str(pk),
                           changes=json.dumps({"address": [f"旧地址{n}", f"新地址{n}"]}, ensure_ascii=False))
            else:
                ids = sorted(first + rng.randrange(CUSTOMERS) for _ in range(50))
                row.update(action="transfer", module="customer", record_ids=",".join(map(str, ids)),
                           changes=json.dumps({"owner": [[admin.id], admin.id]}))
            batch.append(row)
            if row.get("record_ids"):  # what app.audit.record() writes beside the entry
                records += [{"entry_id": row["id"], "record_id": int(i), "module": "customer"}
                            for i in dict.fromkeys(row["record_ids"].split(","))]
            if len(batch) == 5000:
                db.session.execute(insert(AuditLog), batch)
                db.session.execute(insert(AuditLogRecord), records)
                batch, records = [], []
        if batch:
            db.session.execute(insert(AuditLog), batch)
            db.session.execute(insert(AuditLogRecord), records)
        db.session.commit()
        return admin.id, first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from benchapp import fresh_app

    app, dialect = fresh_app(args.db, PASSWORD)
    seeded = time.perf_counter()
    admin_id, first = _seed(app, args.entries)
    print(f"seeded {args.entries:,} entries in {time.perf_counter() - seeded:.1f} s")
    if dialect == "postgresql":
        from sqlalchemy import create_engine, text

        with create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
                              "(SELECT max(id) FROM audit_log))"))  # the ids were given explicitly
            conn.execute(text("VACUUM ANALYZE audit_log"))
            conn.execute(text("VACUUM ANALYZE audit_log_record"))

    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": PASSWORD})
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD,
                                                         "provider": "db"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    month = (dt.date.today() - dt.timedelta(days=60)).replace(day=1)
    edits = iter(range(10 ** 6))
    cases = {
        "审计日志, first page (no filter)": "/audit-log/list/",
        "审计日志, act 修改 + module 客户管理": "/audit-log/list/?action=update&module=customer",
        "审计日志, employee + one month": f"/audit-log/list/?employee={admin_id}&date_from={month}"
                                     f"&date_to={month + dt.timedelta(days=30)}",
        "审计日志, last page of 客户管理": "/audit-log/list/?module=customer&page=100000",
        "customer detail with 操作记录 tab": f"/customer/show/{first + 17}",
    }
    print(f"database: {dialect}, {args.runs} runs each after 3 warm-ups; median / p90 in ms")
    for label, url in cases.items():
        for _ in range(3):
            client.get(url)
        median, p90, status = _timed(lambda: client.get(url).status_code, args.runs)
        print(f"  {label:40s} {median:8.1f} / {p90:8.1f}  ({status})")

    tab = app.jinja_env.globals["crm_audit_entries"]
    app.jinja_env.globals["crm_audit_entries"] = lambda *a: []  # the same page without the tab's entries
    url = cases["customer detail with 操作记录 tab"]
    median, p90, status = _timed(lambda: client.get(url).status_code, args.runs)
    print(f"  {'  the same page, the tab left empty':40s} {median:8.1f} / {p90:8.1f}  ({status})")
    app.jinja_env.globals["crm_audit_entries"] = tab
    with app.app_context():
        from sqlalchemy import func, select

        from app.extensions import db
        from models.audit import AuditLogRecord
        from views.audit_log import TAB_LIMIT

        held = db.session.scalar(select(func.count()).select_from(AuditLogRecord)
                                 .where(AuditLogRecord.record_id == first + 17))
    print(f"  (that customer has {held} entries; the tab shows the newest {min(held, TAB_LIMIT)})")

    def edit():
        return client.put(f"/api/v1/customer/{first + 5}", json={"address": f"地址{next(edits)}"},
                          headers=headers).status_code

    for _ in range(3):
        edit()
    median, p90, status = _timed(edit, args.runs)
    print(f"  {'PUT /api/v1/customer/<id> (audited edit)':40s} {median:8.1f} / {p90:8.1f}  ({status})")


if __name__ == "__main__":
    main()
