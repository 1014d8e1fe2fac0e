"""Customer list latency under the data scope 本部门及下属部门 (department_tree).

    python bench/bench_scope.py                     # SQLite and PostgreSQL, 1,000,000 customers
    python bench/bench_scope.py --db sqlite --customers 100000 --runs 9

Each back end gets its own database, made by the real migrations (`flask crm init`): a SQLite file
/tmp/crm_bench_scope.db, and the PostgreSQL database crm_bench_scope (createdb on 127.0.0.1 as postgres;
never the suite's `test`). Seeded once (Core executemany on SQLite, COPY on PostgreSQL; never ORM objects):
2,000 employees in a 5-level department tree (1 / 4 / 16 / 64 / 256 departments, each with a head who
manages its members and reports to the parent's head) and the customers spread over them, 5 % in the pool.

For a department head at each level, with a role whose scope is department_tree, it times
- query:   what the generated customer API runs (FAB's datamodel.query with the scope filter: the count
           and the first page of 50, newest first);
- api:     the whole GET /api/v1/customer/ request (token, FAB security, query, JSON);
- screen:  the whole GET /customer/list/ request (session, FAB security, query, HTML);
median ms of --runs runs after two warm-ups. `--explain` prints the plans.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQLITE_PATH = "/tmp/crm_bench_scope.db"
PG_NAME = "crm_bench_scope"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"
PASSWORD = "bench-pass-1"
BRANCHING, LEVELS = 4, 5
BATCH = 50_000


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "CRM_INSTANCE_DIR": tempfile.mkdtemp(prefix="crm-bench-scope-"),
            "CRM_ADMIN_PASSWORD": PASSWORD, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SECRET_KEY": "bench-scope-" + "k" * 40}


def prepare(backend: str, reseed: bool) -> str:
    """Create the database when missing (or when --reseed) and run the migrations; return its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{SQLITE_PATH}"
        if reseed:
            for suffix in ("", "-wal", "-shm"):
                Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
    else:
        url = PG_URL
        exists = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                                 f"SELECT 1 FROM pg_database WHERE datname = '{PG_NAME}'"],
                                capture_output=True, text=True, check=True).stdout.strip() == "1"
        if exists and reseed:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
            exists = False
        if not exists:
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "init"], cwd=ROOT, env=_env(url),
                   check=True, capture_output=True)
    return url


# ---------------------------------------------------------------- seeding (inside the child process)

def _tree():
    """[(id, parent_id, level, path)] for a full tree: 1 + 4 + 16 + 64 + 256 departments."""
    rows, frontier, next_id = [], [(None, "/")], 1
    for level in range(1, LEVELS + 1):
        children = []
        for parent_id, parent_path in frontier:
            for _ in range(1 if level == 1 else BRANCHING):
                path = f"{parent_path}{next_id}/"
                rows.append((next_id, parent_id, level, path))
                children.append((next_id, path))
                next_id += 1
        frontier = children
    return rows


def seed(customers: int, employees: int) -> None:
    import datetime as dt

    from sqlalchemy import bindparam, func, insert, select, text
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from models.choices import Choice
    from models.crm import Customer
    from models.org import Department, Employee

    if db.session.scalar(select(func.count()).select_from(Customer)) >= customers * 0.9:
        return
    started = time.perf_counter()
    rng = random.Random(20261127)
    tree = _tree()
    now = dt.datetime(2026, 11, 1)
    db.session.execute(insert(Department), [dict(id=i, parent_id=p, name=f"部门{i}", path=path, sort_order=0,
                                                 created_at=now, updated_at=now) for i, p, _lvl, path in tree])
    first_id = (db.session.scalar(select(func.max(Employee.id))) or 0) + 1
    heads = {dept_id: first_id + n for n, (dept_id, *_rest) in enumerate(tree)}
    parent_of = {i: p for i, p, _lvl, _path in tree}
    leaves = [i for i, _p, lvl, _path in tree if lvl == LEVELS]
    password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    people = []  # (id, department, manager)
    for dept_id, head in heads.items():
        people.append((head, dept_id, heads.get(parent_of[dept_id])))
    for n in range(employees - len(heads)):
        dept_id = leaves[n % len(leaves)]
        people.append((first_id + len(heads) + n, dept_id, heads[dept_id]))
    db.session.execute(insert(Employee.__table__), [dict(
        id=pid, first_name=f"员工{pid}", last_name="", username=f"199{pid:08d}", mobile=f"199{pid:08d}",
        email=f"e{pid}@bench.invalid", password=password, active=True, state="active", department_id=dept,
        manager_id=None, created_on=now, changed_on=now) for pid, dept, _m in people])
    db.session.execute(Employee.__table__.update().where(Employee.__table__.c.id == bindparam("pid"))
                       .values(manager_id=bindparam("mid")),
                       [dict(pid=pid, mid=m) for pid, _d, m in people if m is not None])
    choices = {kind: list(db.session.scalars(select(Choice.id).where(Choice.kind == kind)))
               for kind in ("customer_status", "customer_level", "customer_source")}
    department_of = {pid: dept for pid, dept, _m in people}
    owners = [pid for pid, _d, _m in people]
    columns = ("id", "company_name", "contact_name", "mobile", "status_id", "level_id", "source_id", "owner_id",
               "department_id", "created_by_id", "created_at", "updated_at")

    def rows():
        for i in range(1, customers + 1):
            owner = rng.choice(owners) if rng.random() >= 0.05 else None
            created = now - dt.timedelta(minutes=customers - i)
            yield (i, f"客户{i:07d}有限公司", f"联系人{i % 997}", f"13{i:09d}", rng.choice(choices["customer_status"]),
                   rng.choice(choices["customer_level"]), rng.choice(choices["customer_source"]), owner,
                   department_of.get(owner), owner, created, created)

    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY customer ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        for table in ("department", "ab_user", "customer"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        batch = []
        for row in rows():
            batch.append(dict(zip(columns, row)))
            if len(batch) == BATCH:
                db.session.execute(insert(Customer.__table__), batch)
                batch = []
        if batch:
            db.session.execute(insert(Customer.__table__), batch)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"  seeded {len(tree)} departments, {len(people)} employees, {customers:,} customers "
          f"in {time.perf_counter() - started:.0f} s", flush=True)


# ---------------------------------------------------------------- measuring (inside the child process)

def _median_ms(fn, runs: int) -> float:
    for _ in range(2):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _viewers():
    """A department head per tree level, holding a customer role with the scope department_tree."""
    from flask import current_app
    from sqlalchemy import func, select

    from app import roles as role_service
    from app.extensions import db
    from models.crm import Customer
    from models.org import Department, Employee

    sm = current_app.appbuilder.sm
    role = sm.find_role("部门经理-本部门及下属部门")
    if role is None:
        role = role_service.create_role("部门经理-本部门及下属部门")
        role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "data_scope": "department_tree"})
    viewers = []
    for level in range(1, LEVELS + 1):
        # the first department of the level, and its head (the lowest employee id there)
        dept = db.session.scalar(select(Department).where(
            func.length(Department.path) - func.length(func.replace(Department.path, "/", "")) == level + 1)
            .order_by(Department.id).limit(1))
        head = db.session.scalar(select(Employee).where(Employee.department_id == dept.id).order_by(Employee.id))
        head.roles = [role]
        db.session.commit()
        subtree = select(Employee.id).join(Department, Employee.department_id == Department.id).where(
            Department.path.startswith(dept.path))
        visible = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id.in_(subtree)))
        viewers.append((level, head.id, head.username, visible))
    return viewers


def measure(app, runs: int, explain: bool) -> list[tuple]:
    """Every request in its own app context, as in production (no outer context sharing g or the session)."""
    from flask import g

    from app.extensions import db
    from models.org import Employee

    api = next(v for v in app.appbuilder.baseviews if getattr(v, "resource_name", None) == "customer")
    client = app.test_client()
    with app.app_context():
        viewers = _viewers()
    # the generated lists may stop counting early (views/datamodel.py: "10,000+")
    cap = getattr(api.datamodel, "count_cap", None)
    results = []
    for level, user_id, login, visible in viewers:
        counted = visible if cap is None else min(visible, cap + 1)
        def query():
            with app.app_context(), app.test_request_context("/api/v1/customer/"):
                g.user = db.session.get(Employee, user_id)
                filters = api._handle_filters_args({})
                count, rows = api.datamodel.query(filters, "id", "desc", page=0, page_size=50,
                                                  select_columns=api.list_select_columns,
                                                  outer_default_load=api.list_outer_default_load)
                assert count == counted and len(rows) == min(50, visible), (count, visible)

        token = client.post("/api/v1/security/login", json={"username": login, "password": PASSWORD,
                                                            "provider": "db"}).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def api_request():
            body = client.get("/api/v1/customer/", headers=headers).get_json()
            assert body["count"] == counted, body

        screen = app.test_client()
        screen.post("/login/", data={"username": login, "password": PASSWORD})

        def screen_request():
            assert screen.get("/customer/list/").status_code == 200

        results.append((level, visible, _median_ms(query, runs), _median_ms(api_request, runs),
                        _median_ms(screen_request, runs)))
        print(f"  level {level}: {visible:>9,} visible  query {results[-1][2]:8.1f} ms  api {results[-1][3]:8.1f} ms"
              f"  screen {results[-1][4]:8.1f} ms", flush=True)
        if explain and level in (1, LEVELS):
            _explain(app, api, user_id)
    return results


def _explain(app, api, user_id) -> None:
    """The plans of the page and the (capped) count, as the database runs them; long id lists shortened."""
    import re

    from flask import g
    from sqlalchemy import func, literal, select, text

    from app.extensions import db
    from models.crm import Customer
    from models.org import Employee
    from views.query_filters import scope_predicate

    with app.app_context(), app.test_request_context("/api/v1/customer/"):
        g.user = db.session.get(Employee, user_id)
        predicate = scope_predicate(api.spec)
        dialect = db.engine.dialect
        cap = getattr(api.datamodel, "count_cap", None)
        matches = select(literal(1)).select_from(Customer).where(predicate)
        matches = matches.limit(cap + 1) if cap else matches
        for name, stmt in (("page", select(Customer.id).where(predicate).order_by(Customer.id.desc()).limit(50)),
                           ("count", select(func.count()).select_from(matches.subquery()))):
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = [" | ".join(str(c) for c in row) for row in db.session.execute(text(prefix + sql))]
            short = lambda line: re.sub(r"(\d+, ?){6,}(\d+)", r"<ids>, \2", line)  # noqa: E731
            print(f"    {name}: {short(sql)}\n      " + "\n      ".join(short(p) for p in plan), flush=True)


def child(args) -> None:
    os.environ["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # the screen login posts from the test client
    with app.app_context():
        seed(args.customers, args.employees)
    results = measure(app, args.runs, args.explain)
    backend = "PostgreSQL" if os.environ["DATABASE_URL"].startswith("postgres") else "SQLite"
    for level, visible, q, a, s in results:
        print(f"| {backend} | {level} | {visible:,} | {q:.1f} | {a:.1f} | {s:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    for backend in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        print(f"{backend}: preparing", flush=True)
        url = prepare(backend, args.reseed)
        command = [sys.executable, __file__, "--child", "--customers", str(args.customers), "--employees",
                   str(args.employees), "--runs", str(args.runs)] + (["--explain"] if args.explain else [])
        with subprocess.Popen(command, cwd=ROOT, env=_env(url), stdout=subprocess.PIPE, text=True) as child_process:
            for line in child_process.stdout:
                if line.startswith("| "):
                    rows.append(line.rstrip())  # the table comes last, after every back end
                else:
                    print(line, end="", flush=True)
        if child_process.returncode:
            sys.exit(child_process.returncode)
    print("\n| database | tree level of the viewer | customers in scope | query ms | API request ms "
          "| screen request ms |\n|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
