"""Seeding for bench/bench_custom_fields.py: N customers (2 % in the pool) with 10 custom values each, in a
department tree (基准总部 and four departments under it) with a department head whose role has the data scope
本部门及下属部门 (department_tree) and may view and export customers.

The schema comes from the real migrations, the 10 fields from custom_fields.service. Rows are loaded with
executemany (SQLite) or COPY (PostgreSQL), secondary indexes and foreign keys set aside during the load and
put back with their own definitions read from the database, then ANALYZE (PostgreSQL: VACUUM ANALYZE).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import random
import time

BATCH = 50_000
EMPLOYEES = 20
ADMIN_PASSWORD = "bench-admin-1"
PASSWORD = "bench-pass-1"
HEAD_MOBILE = "16600009999"  # the department head: 基准总部, scope 本部门及下属部门
HEAD_ROLE = "部门经理-本部门及下属部门"
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
    from app import roles as role_service
    from app.cli import prepare_database
    from app.extensions import db
    from custom_fields import definitions, service
    from models.crm import Customer

    app = _app(url)
    with app.app_context():
        prepare_database(ADMIN_PASSWORD)
        if db.session.scalar(select(func.count()).select_from(Customer)):
            print("customers already present; nothing seeded")
            return
        sales = app.appbuilder.sm.find_role("销售")
        top = org.create_department("基准总部")
        teams = [org.create_department(f"基准{n}部", parent_id=top.id).id for n in "一二三四"]
        people = [org.create_employee(name=f"基准{i:02d}", mobile=f"1660000{i:04d}", password=PASSWORD,
                                      department_id=teams[i % len(teams)], role_ids=[sales.id]).id
                  for i in range(EMPLOYEES)]
        head_role = role_service.create_role(HEAD_ROLE)
        role_service.write_matrix(head_role.id, {"modules": {"customer": ["view", "export"]},
                                                 "data_scope": "department_tree"})
        head = org.create_employee(name="基准经理", mobile=HEAD_MOBILE, password=PASSWORD, department_id=top.id,
                                   role_ids=[head_role.id])
        org.activate_employees(people + [head.id])
        team_of = {person: teams[i % len(teams)] for i, person in enumerate(people)}
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
        rng = random.Random(7)
        now = dt.datetime(2024, 6, 1)
        value_id = 0
        for start in range(1, customers + 1, BATCH):
            stop = min(start + BATCH, customers + 1)
            people_rows, value_rows = [], []
            for i in range(start, stop):
                owner = None if rng.random() < 0.02 else people[i % EMPLOYEES]
                people_rows.append((i, f"客户{i}有限公司", f"联系人{i}", str(13_000_000_000 + i), owner,
                                    team_of.get(owner), now, now))
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
