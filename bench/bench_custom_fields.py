"""Custom fields on 1,000,000 customers with 10 custom values each: filter + first page + count, and sort.

    python bench/bench_custom_fields.py seed --db sqlite:////tmp/crm_bench_cf.db
    python bench/bench_custom_fields.py run  --db sqlite:////tmp/crm_bench_cf.db
    createdb -h 127.0.0.1 -U postgres crm_bench_cf
    python bench/bench_custom_fields.py seed --db postgresql://postgres@127.0.0.1:5432/crm_bench_cf
    python bench/bench_custom_fields.py run  --db postgresql://postgres@127.0.0.1:5432/crm_bench_cf

The schema comes from the real migrations, the 10 fields from custom_fields.service, and the timings from
the functions the list screen and the API call (custom_fields.query.page, custom_fields.values.load) with
the real data-scope filter of the customer screen. Rows are loaded with executemany (SQLite) or COPY
(PostgreSQL), secondary indexes and foreign keys set aside during the load and put back with their own
definitions read from the database (shared/research/perf.md §3), then ANALYZE.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-cf-"))
BATCH = 50_000
EMPLOYEES = 20
FIELDS = [  # label, type, extra
    ("城市", "select", {"options": [f"城市{i:02d}" for i in range(30)]}),
    ("客户等级", "select", {"options": ["A", "B", "C", "D", "E"]}),
    ("行业", "select", {"options": [f"行业{i:02d}" for i in range(12)]}),
    ("员工人数", "integer", {}),
    ("注册资本", "money", {}),
    ("成立日期", "date", {}),
    ("邮箱", "email", {"unique": True}),
    ("是否VIP", "boolean", {}),
    ("标签", "multiselect", {"options": [f"标签{i}" for i in range(8)]}),
    ("客户备注", "textarea", {}),
]


def _app(url):
    os.environ["DATABASE_URL"] = url
    from app import create_app

    return create_app()


def _values(rng, i, defs):
    """The 10 values of customer i, as {field: (column, stored)}."""
    city, level, industry, employees, capital, founded, email, vip, tags, note = defs
    picked = sorted(rng.sample(tags.options, rng.randint(1, 3)), key=lambda o: o.id)
    return [
        (city.id, "option_id", city.options[rng.randrange(30)].id),
        (level.id, "option_id", level.options[rng.randrange(5)].id),
        (industry.id, "option_id", industry.options[rng.randrange(12)].id),
        (employees.id, "value_number", rng.randint(1, 5000)),
        (capital.id, "value_number", f"{rng.randint(10, 100_000) * 1000}.00"),
        (founded.id, "value_date", dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(12_000))),
        (email.id, "value_text", f"c{i}@example{i % 100}.com"),
        (vip.id, "value_bool", rng.random() < 0.1),
        (tags.id, "value_text", "," + ",".join(str(o.id) for o in picked) + ","),
        (note.id, "value_long", f"第{i}号客户的备注"),
    ]


VALUE_COLUMNS = ("id", "record_id", "field_id", "value_text", "value_long", "value_number", "value_date",
                 "value_bool", "option_id", "unique_value")


def seed(url: str, customers: int) -> None:
    from sqlalchemy import func, select

    from app import organisation as org
    from app.cli import prepare_database
    from app.extensions import db
    from custom_fields import definitions, service
    from models.crm import Customer

    app = _app(url)
    with app.app_context():
        prepare_database("bench-admin-1")
        if db.session.scalar(select(func.count()).select_from(Customer)):
            print("customers already present; nothing seeded")
            return
        sales = app.appbuilder.sm.find_role("销售")
        dept = org.create_department("基准测试部")
        people = [org.create_employee(name=f"基准{i:02d}", mobile=f"1660000{i:04d}", password="bench-pass-1",
                                      department_id=dept.id, role_ids=[sales.id]).id for i in range(EMPLOYEES)]
        org.activate_employees(people)
        for label, kind, extra in FIELDS:
            service.create_field("customer", {"label": label, "type": kind, "filterable": kind != "textarea",
                                              "list_default": True, **extra})
        defs = definitions("customer")
        db.session.commit()  # no open transaction may hold a lock on custom_field while keys are set aside
        started = time.perf_counter()
        engine = db.engine
        dialect = engine.dialect.name
        with engine.begin() as conn:
            saved = _set_aside(conn, dialect)
        dept_id = dept.id
        rng = random.Random(7)
        now = dt.datetime(2024, 6, 1)
        value_id = 0
        for start in range(1, customers + 1, BATCH):
            stop = min(start + BATCH, customers + 1)
            people_rows, value_rows = [], []
            for i in range(start, stop):
                owner = None if rng.random() < 0.02 else people[i % EMPLOYEES]
                people_rows.append((i, f"客户{i}有限公司", f"联系人{i}", str(13_000_000_000 + i), owner,
                                    dept_id if owner else None, now, now))
                for field_id, column, stored in _values(rng, i, defs):
                    value_id += 1
                    row = dict.fromkeys(VALUE_COLUMNS)
                    row.update(id=value_id, record_id=i, field_id=field_id)
                    row[column] = stored
                    if field_id == defs[6].id:
                        row["unique_value"] = stored
                    value_rows.append(tuple(row[c] for c in VALUE_COLUMNS))
            _load(engine, dialect, people_rows, value_rows)
            print(f"  {stop - 1:>9,} customers  {time.perf_counter() - started:7.1f} s", flush=True)
        with engine.begin() as conn:
            _put_back(conn, dialect, saved)
        print(f"indexes and keys back  {time.perf_counter() - started:7.1f} s", flush=True)
        db.session.remove()  # an open snapshot would keep VACUUM from marking pages all-visible
        _analyze(engine, dialect)
        print(f"seeded {customers:,} customers and {value_id:,} values in {time.perf_counter() - started:.1f} s")


def _set_aside(conn, dialect):
    """Drop the value table's secondary indexes (and on PG its foreign keys) for the load."""
    from sqlalchemy import text

    if dialect == "sqlite":
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type='index' AND "
                                 "tbl_name='customer_field_value' AND sql IS NOT NULL")).all()
        for name, _sql in rows:
            conn.execute(text(f'DROP INDEX "{name}"'))
        return [sql for _name, sql in rows]
    indexes = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename='customer_field_value' "
                                "AND indexname NOT IN (SELECT conname FROM pg_constraint)")).all()
    keys = conn.execute(text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conrelid='customer_field_value'::regclass AND contype='f'")).all()
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    for name, _ in keys:
        conn.execute(text(f'ALTER TABLE customer_field_value DROP CONSTRAINT "{name}"'))
    return [sql for _, sql in indexes] + [f'ALTER TABLE customer_field_value ADD CONSTRAINT "{name}" {definition}'
                                         for name, definition in keys]


def _put_back(conn, dialect, statements):
    from sqlalchemy import text

    for statement in statements:
        conn.execute(text(statement))
    if dialect == "postgresql":
        for table in ("customer", "customer_field_value"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def _load(engine, dialect, people_rows, value_rows):
    customer_columns = "id, company_name, contact_name, mobile, owner_id, department_id, created_at, updated_at"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect == "sqlite":
            cursor.executemany(f"INSERT INTO customer ({customer_columns}) VALUES (?,?,?,?,?,?,?,?)", people_rows)
            cursor.executemany(f"INSERT INTO customer_field_value ({', '.join(VALUE_COLUMNS)}) "
                               f"VALUES ({','.join('?' * len(VALUE_COLUMNS))})", value_rows)
        else:
            with cursor.copy(f"COPY customer ({customer_columns}) FROM STDIN") as copy:
                copy.write(_copy_text(people_rows))
            with cursor.copy(f"COPY customer_field_value ({', '.join(VALUE_COLUMNS)}) FROM STDIN") as copy:
                copy.write(_copy_text(value_rows))
        raw.commit()
    finally:
        raw.close()


def _copy_text(rows) -> bytes:
    out = io.StringIO()
    for row in rows:
        out.write("\t".join("\\N" if v is None else ("t" if v is True else "f" if v is False else str(v))
                            for v in row))
        out.write("\n")
    return out.getvalue().encode()


def _analyze(engine, dialect):
    from sqlalchemy import text

    if dialect == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# ---------------------------------------------------------------- measuring


def run(url: str, repeat: int, explain: bool) -> None:
    from flask import g

    from app.extensions import db
    from custom_fields import definitions, query, values
    from models.org import Employee

    app = _app(url)
    view = next(v for v in app.appbuilder.baseviews if getattr(getattr(v, "spec", None), "key", None) == "customer")
    with app.test_request_context("/customer/list/"):
        admin = db.session.query(Employee).filter_by(username="admin").one()
        seller = db.session.query(Employee).filter(Employee.username.like("1660000%")).order_by(Employee.id).first()
        defs = {d.label: d for d in definitions("customer")}
        city, level, email = defs["城市"], defs["客户等级"], defs["邮箱"]
        one_city = [(city, {"eq": city.options[3].id})]
        cases = [
            ("filter 城市 = one of 30 (3.3 %)", admin, one_city, None, ""),
            ("filter 客户等级 = A (20 %)", admin, [(level, {"eq": level.options[0].id})], None, ""),
            ("filter 员工人数 between 100 and 300 (4 %)", admin, [(defs["员工人数"], {"gte": 100, "lte": 300})],
             None, ""),
            ("filter 邮箱 = one address (1 row)", admin, [(email, {"eq": "c4242@example42.com"})], None, ""),
            ("filter 标签 includes one of 8 (25 %)", admin, [(defs["标签"], {"has": defs["标签"].options[2].id})],
             None, ""),
            ("filter 城市, scope 本人 (1/20 of customers)", seller, one_city, None, ""),
            ("sort by 注册资本 desc", admin, [], defs["注册资本"], "desc"),
            ("sort by 成立日期 asc", admin, [], defs["成立日期"], "asc"),
            ("filter 城市 + sort by 员工人数 asc", admin, one_city, defs["员工人数"], "asc"),
        ]
        cap = getattr(view.datamodel, "count_cap", None)  # as query.page() counts for the screen
        print(f"{db.engine.dialect.name}, median of {repeat} warm runs, ms; counts through the records stop at "
              f"{cap}")
        print(f"{'case':48} {'count':>9} {'count ms':>9} {'page ms':>8} {'values ms':>9} {'total ms':>9} "
              f"{'naive ms':>9}")
        for name, user, raw_conditions, sort, direction in cases:
            g.user = user
            conditions = [query.condition(d, bounds) for d, bounds in raw_conditions]
            joined = view._filters.get_joined_filters(view._base_filters)
            timings, naive = [], []
            for attempt in range(repeat + 2):
                t0 = time.perf_counter()
                total = query.count(view.datamodel.obj, "customer", joined, conditions, cap)
                t1 = time.perf_counter()
                _, items = _page_only(query, view, joined, conditions, sort, direction, total)
                t2 = time.perf_counter()
                values.load("customer", [i.id for i in items])
                t3 = time.perf_counter()
                naive_count, naive_items = _naive_page(query, view, joined, conditions, sort, direction)
                values.load("customer", [i.id for i in naive_items])
                t4 = time.perf_counter()
                assert naive_count == total or (cap and naive_count > cap and total > cap), (naive_count, total)
                assert len(naive_items) == len(items)
                db.session.rollback()
                if attempt >= 2:
                    timings.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
                    naive.append(t4 - t3)
            med = [statistics.median(t[k] for t in timings) * 1000 for k in range(4)]
            print(f"{name:48} {total:>9,} {med[0]:>9.1f} {med[1]:>8.1f} {med[2]:>9.1f} {med[3]:>9.1f} "
                  f"{statistics.median(naive) * 1000:>9.1f}", flush=True)
            if explain:
                _explain(view, joined, conditions, sort, direction)


def _naive_page(query, view, joined, conditions, sort, direction):
    """The textbook EAV shape, for comparison: a join per condition counted through the records, the page
    ordered by the record's id, a sort as an outer join ordered with NULLS LAST."""
    from sqlalchemy import and_, func

    from custom_fields.models import CustomerFieldValue

    model = view.datamodel.obj
    filtered, _driver = query._filtered(model, "customer", joined, conditions)
    total = filtered.enable_eagerloads(False).with_entities(func.count(model.id)).order_by(None).scalar()
    if sort is None:
        return total, filtered.order_by(model.id.desc()).limit(50).all()
    holder = aliased_value = CustomerFieldValue.__table__.alias("naive_sort")
    column = aliased_value.c[sort.field_type.column]
    page = filtered.outerjoin(holder, and_(holder.c.record_id == model.id, holder.c.field_id == sort.id)) \
        .order_by((column.desc() if direction == "desc" else column.asc()).nulls_last(), model.id).limit(50)
    return total, page.all()


def _page_only(query, view, joined, conditions, sort, direction, total):
    """query.page() in two timed halves: its count (above) and the page, which the count helps shape."""
    return None, query.items(view.datamodel, "customer", joined, conditions, "", direction or "desc", 0, 50,
                             sort=sort, total=total)


def _explain(view, joined, conditions, sort, direction):
    from sqlalchemy import event

    from app.extensions import db
    from custom_fields import query

    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        cap = getattr(view.datamodel, "count_cap", None)
        total = query.count(view.datamodel.obj, "customer", joined, conditions, cap)
        _page_only(query, view, joined, conditions, sort, direction, total)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    raw = engine.raw_connection()
    try:
        for statement, parameters in statements:
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            print("    " + statement.replace("\n", " ")[:300])
            for row in cursor.fetchall():
                print("      ", " | ".join(str(c) for c in row))
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("seed", "run"))
    parser.add_argument("--db", required=True, help="sqlite:////tmp/x.db or postgresql://...")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--explain", action="store_true", help="print the query plans too")
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.db, args.customers)
    else:
        run(args.db, args.repeat, args.explain)


if __name__ == "__main__":
    main()
