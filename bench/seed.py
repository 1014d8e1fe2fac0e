"""Seed a benchmark database with N customers (default 1,000,000) spread over employees and the pool.

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/seed.py --customers 1000000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench python bench/seed.py

The schema comes from the real migrations (`crm init`); rows go in with Core executemany (SQLite)
or COPY (PostgreSQL), in batches, never as ORM objects (shared/research/perf.md §3).

The organisation is a department tree (总公司 → 4 大区 → 16 部 → 64 组, 85 departments) with --employees
employees (default 2,000): each department has a head who manages its members and reports to the parent
department's head; the rest sit in the 组. Everyone holds 销售 (scope 本人) except two viewers the
benchmarks log in as (bench/bench_scale.py), password PASSWORD:
- SUBORDINATES_LOGIN, head of a 部 with the built-in 销售主管 (本人及下属): ~6 % of the employees below them;
- DEPARTMENT_TREE_LOGIN, head of a 大区 with 销售主管-本部门及下属部门 (本部门及下属部门): a quarter of them.
`admin` has password ADMIN_PASSWORD.
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
BRANCHING, LEVELS = 4, 4  # 1 + 4 + 16 + 64 departments
PASSWORD = "bench-pass-1"
ADMIN_PASSWORD = "bench-admin-1"
SUBORDINATES_LOGIN = "17800000001"
DEPARTMENT_TREE_LOGIN = "17800000002"
TREE_ROLE = "销售主管-本部门及下属部门"


def _tree():
    """[(key, parent_key, level, name)] of a full tree, parents first."""
    rows, frontier, key = [], [None], 0
    names = {1: "总公司", 2: "大区", 3: "部", 4: "组"}
    for level in range(1, LEVELS + 1):
        children = []
        for parent_key in frontier:
            for n in range(1 if level == 1 else BRANCHING):
                key += 1
                name = names[level] if level == 1 else f"{names[level]}{key}"
                rows.append((key, parent_key, level, name))
                children.append(key)
        frontier = children
    return rows


def seed_organisation(employees: int) -> list[tuple[int, int]]:
    """The department tree, the employees (active, with their managers) and the two viewers' roles.
    Returns [(employee id, department id)] of everyone who may own customers."""
    from flask import current_app
    from flask_appbuilder.security.sqla.models import assoc_user_role
    from sqlalchemy import bindparam, func, insert, select
    from werkzeug.security import generate_password_hash

    from app import organisation as org
    from app import roles as role_service
    from app.extensions import db
    from models.org import Employee

    sm = current_app.appbuilder.sm
    sales, lead = sm.find_role("销售"), sm.find_role("销售主管")
    tree_role = sm.find_role(TREE_ROLE)
    if tree_role is None:
        tree_role = role_service.copy_role(lead.id, TREE_ROLE)
        role_service.write_matrix(tree_role.id, {"data_scope": "department_tree"})
    dept_id, level_of, parent_of = {}, {}, {}
    for key, parent_key, level, name in _tree():
        dept_id[key] = org.create_department(name, dept_id.get(parent_key)).id
        level_of[dept_id[key]], parent_of[dept_id[key]] = level, dept_id.get(parent_key)
    now = dt.datetime(2026, 11, 1)
    password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    first = (db.session.scalar(select(func.max(Employee.id))) or 0) + 1
    departments = list(dept_id.values())
    heads = {d: first + n for n, d in enumerate(departments)}
    leaves = [d for d in departments if level_of[d] == LEVELS]
    people = [(heads[d], d, heads.get(parent_of[d])) for d in departments]
    for n in range(max(employees - len(heads), 0)):
        leaf = leaves[n % len(leaves)]
        people.append((first + len(heads) + n, leaf, heads[leaf]))
    sub_viewer = heads[next(d for d in departments if level_of[d] == 3)]
    tree_viewer = heads[next(d for d in departments if level_of[d] == 2)]
    logins = {sub_viewer: SUBORDINATES_LOGIN, tree_viewer: DEPARTMENT_TREE_LOGIN}
    db.session.execute(insert(Employee.__table__), [dict(
        id=pid, first_name=f"员工{pid:04d}", last_name="", username=logins.get(pid, f"177{pid:08d}"),
        mobile=logins.get(pid, f"177{pid:08d}"), email=f"e{pid}@bench.invalid", password=password, active=True,
        state="active", department_id=dept, manager_id=None, created_on=now, changed_on=now)
        for pid, dept, _m in people])
    db.session.execute(Employee.__table__.update().where(Employee.__table__.c.id == bindparam("pid"))
                       .values(manager_id=bindparam("mid")),
                       [dict(pid=pid, mid=m) for pid, _d, m in people if m is not None])
    role_of = {sub_viewer: lead.id, tree_viewer: tree_role.id}
    db.session.execute(insert(assoc_user_role), [dict(user_id=pid, role_id=role_of.get(pid, sales.id))
                                                 for pid, _d, _m in people])
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        db.session.execute(text("SELECT setval(pg_get_serial_sequence('ab_user', 'id'), (SELECT max(id) FROM ab_user))"))
    db.session.commit()
    return [(pid, dept) for pid, dept, _m in people]


def seed(customers: int, employees: int, pool_share: float, seed_value: int = 7) -> dict:
    from sqlalchemy import func, select, text

    from app import create_app
    from app.cli import prepare_database
    from app.extensions import db
    from models.choices import Choice
    from models.crm import Customer

    app = create_app()
    with app.app_context():
        prepare_database(ADMIN_PASSWORD)
        if db.session.scalar(select(func.count()).select_from(Customer)):
            print("customers already present; nothing seeded")
            return {}
        rng = random.Random(seed_value)
        started = time.perf_counter()
        people = seed_organisation(employees)
        statuses = [c.id for c in db.session.scalars(select(Choice).where(Choice.kind == "customer_status"))]
        levels = [c.id for c in db.session.scalars(select(Choice).where(Choice.kind == "customer_level"))]
        sources = [c.id for c in db.session.scalars(select(Choice).where(Choice.kind == "customer_source"))]
        now = dt.datetime(2026, 11, 1)
        columns = ["company_name", "contact_name", "mobile", "status_id", "level_id", "source_id", "owner_id",
                   "department_id", "created_by_id", "created_at", "updated_at", "last_followup_at"]

        def rows(start, stop):
            for i in range(start, stop):
                owner, dept = (None, None) if rng.random() < pool_share else rng.choice(people)
                created = now - dt.timedelta(minutes=i % 500_000)
                yield (f"客户{i:07d}有限公司", f"联系人{i % 9973}", f"13{i:09d}", rng.choice(statuses),
                       rng.choice(levels), rng.choice(sources), owner, dept, owner, created, created,
                       created + dt.timedelta(days=1, minutes=i % 7919) if i % 3 else None)

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
            if stop % 100_000 == 0 or stop == customers:
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
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--pool-share", type=float, default=0.1)
    args = parser.parse_args()
    seed(args.customers, args.employees, args.pool_share)


if __name__ == "__main__":
    main()
