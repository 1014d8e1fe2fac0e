"""Seed a benchmark database with N customers (default 1,000,000) spread over employees and the pool.

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/seed.py --customers 1000000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench python bench/seed.py

The schema comes from the real migrations (`crm init`); rows go in with Core executemany (SQLite)
or COPY (PostgreSQL), in batches, never as ORM objects (shared/research/perf.md §3).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")

BATCH = 20_000


def seed(customers: int, employees: int, pool_share: float, seed_value: int = 7) -> dict:
    from sqlalchemy import func, select, text

    from app import create_app
    from app import organisation as org
    from app.cli import prepare_database
    from app.extensions import db
    from models.choices import Choice
    from models.crm import Customer

    app = create_app()
    with app.app_context():
        prepare_database("bench-admin-1")
        if db.session.scalar(select(func.count()).select_from(Customer)):
            print("customers already present; nothing seeded")
            return {}
        rng = random.Random(seed_value)
        sm = app.appbuilder.sm
        sales = sm.find_role("销售")
        top = org.create_department("总公司")
        departments = [org.create_department(f"销售{i}部", top.id) for i in range(1, 11)]
        people = []
        started = time.perf_counter()
        for i in range(employees):
            dept = departments[i % len(departments)]
            person = org.create_employee(name=f"员工{i:04d}", mobile=f"1770000{i:04d}", password="bench-pass-1",
                                         department_id=dept.id, role_ids=[sales.id])
            people.append((person.id, dept.id))
        org.activate_employees([p for p, _ in people])
        statuses = [c.id for c in db.session.scalars(select(Choice).where(Choice.kind == "customer_status"))]
        levels = [c.id for c in db.session.scalars(select(Choice).where(Choice.kind == "customer_level"))]
        sources = [c.id for c in db.session.scalars(select(Choice).where(Choice.kind == "customer_source"))]
        now = dt.datetime(2026, 11, 1)
        columns = ["company_name", "contact_name", "mobile", "status_id", "level_id", "source_id", "owner_id",
                   "department_id", "created_at", "updated_at", "last_followup_at"]

        def rows(start, stop):
            for i in range(start, stop):
                owner, dept = (None, None) if rng.random() < pool_share else rng.choice(people)
                created = now - dt.timedelta(minutes=i % 500_000)
                yield (f"客户{i:07d}有限公司", f"联系人{i % 9973}", f"13{i:09d}", rng.choice(statuses),
                       rng.choice(levels), rng.choice(sources), owner, dept, created, created,
                       created + dt.timedelta(days=1) if i % 3 else None)

        engine = db.engine
        for start in range(0, customers, BATCH):
            stop = min(start + BATCH, customers)
            if engine.dialect.name == "postgresql":
                raw = engine.raw_connection()
                try:
                    with raw.cursor() as cursor:
                        with cursor.copy(f"COPY customer ({', '.join(columns)}) FROM STDIN") as copy:
                            for row in rows(start, stop):
                                copy.write_row(row)
                    raw.commit()
                finally:
                    raw.close()
            else:
                with engine.begin() as conn:
                    conn.execute(Customer.__table__.insert(), [dict(zip(columns, r)) for r in rows(start, stop)])
            print(f"  {stop:,} customers", flush=True)
        # the steady state autovacuum keeps in production: statistics and the visibility map
        # (PostgreSQL's index-only scans, and so its counts, depend on it)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
        took = time.perf_counter() - started
        total = db.session.scalar(select(func.count()).select_from(Customer))
        print(f"seeded {total:,} customers, {len(people)} employees in {took:.0f} s")
        return {"customers": total, "employees": len(people)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--pool-share", type=float, default=0.1)
    args = parser.parse_args()
    seed(args.customers, args.employees, args.pool_share)


if __name__ == "__main__":
    main()
