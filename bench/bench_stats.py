"""Data-center latency on 5,000,000 call records, 1,000,000 customers and 2,000,000 follow-ups.

    python bench/bench_stats.py                      # SQLite and PostgreSQL
    python bench/bench_stats.py --db sqlite --runs 9
    python bench/bench_stats.py --db postgresql --drop   # drop the PostgreSQL database afterwards

Each back end gets its own database made by the real migrations (`flask crm init`): the SQLite file
/tmp/crm_bench_stats.db and the PostgreSQL database bench_stats (never the suite's `test`). Seeded once with
raw executemany (SQLite) / COPY (PostgreSQL), the secondary indexes dropped during the load and built after
it (as a bulk load is done), then ANALYZE / VACUUM ANALYZE:
2,000 employees in 10 departments of 200 under one head office; over the 12 local months Dec 2025 - Nov 2026,
5,000,000 calls (40 % connected), 1,000,000 customers (5 % in the pool) with their owner history (creates,
100,000 claims, 100,000 returns), 2,000,000 follow-ups (half with a next follow-up date), 100,000
opportunities, 50,000 contracts, 30,000 invoices, spread evenly over the employees.

Timed: the whole HTTP request through Flask's test client as a logged-in user — the API
`GET /api/v1/stats/<page>?from=2026-10-01&to=2026-10-31` (bearer token) and the screen `/stats/<page>/`
(session) — for a department head (a role with every 数据分析 right and the scope 本部门及下属部门: 200 people)
and for the administrator (全部: the whole company). Median and p90 ms of --runs runs after one warm-up.
"""
from __future__ import annotations

import argparse
import datetime as dt
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
SQLITE_PATH = "/tmp/crm_bench_stats.db"
PG_NAME = "bench_stats"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"
PASSWORD = "bench-pass-1"
DEPARTMENTS, PER_DEPARTMENT = 10, 200
SCALE = float(os.environ.get("BENCH_STATS_SCALE", "1"))  # 0.01 for a quick trial of the script
CALLS, CUSTOMERS, FOLLOWUPS = int(5_000_000 * SCALE), int(1_000_000 * SCALE), int(2_000_000 * SCALE)
YEAR_START = dt.datetime(2025, 11, 30, 16, 0)  # 2025-12-01 00:00 Asia/Shanghai, in UTC
YEAR_SECONDS = 365 * 86400
MONTH = ("2026-10-01", "2026-10-31")
BULK_TABLES = ("call_record", "customer", "owner_history", "followup", "opportunity", "contract", "invoice")
BATCH = 50_000


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "CRM_INSTANCE_DIR": tempfile.mkdtemp(prefix="crm-bench-stats-"),
            "CRM_ADMIN_PASSWORD": PASSWORD, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SECRET_KEY": "bench-stats-" + "k" * 40}


def _psql(sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


def prepare(backend: str, reseed: bool) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{SQLITE_PATH}"
        if reseed:
            for suffix in ("", "-wal", "-shm"):
                Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
    else:
        url = PG_URL
        exists = _psql(f"SELECT 1 FROM pg_database WHERE datname = '{PG_NAME}'") == "1"
        if exists and reseed:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
            exists = False
        if not exists:
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "init"], cwd=ROOT, env=_env(url),
                   check=True, capture_output=True)
    return url


def _instant(rng) -> dt.datetime:
    return YEAR_START + dt.timedelta(seconds=rng.randrange(YEAR_SECONDS))


def _load(table: str, columns: tuple, rows, dialect: str) -> None:
    """Rows into a table through the driver itself (COPY / executemany), never ORM objects."""
    from app.extensions import db

    raw = db.engine.raw_connection()
    try:
        if dialect == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor = raw.cursor()
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows:
                batch.append(tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v for v in row))
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()


def seed() -> None:
    from flask_appbuilder import Model
    from sqlalchemy import func, insert, select, text
    from werkzeug.security import generate_password_hash

    from app import roles as role_service
    from app.extensions import db
    from app.permissions import ANALYSIS
    from models.call import CallRecord
    from models.choices import Choice
    from models.org import Department, Employee

    if (db.session.scalar(select(func.count()).select_from(CallRecord)) or 0) >= CALLS:
        return
    started = time.perf_counter()
    dialect = db.engine.dialect.name
    rng = random.Random(20261129)
    now = dt.datetime(2026, 11, 1)
    db.session.execute(insert(Department), [dict(id=1, parent_id=None, name="总公司", path="/1/", sort_order=0)] + [
        dict(id=1 + d, parent_id=1, name=f"销售{d}部", path=f"/1/{1 + d}/", sort_order=d)
        for d in range(1, DEPARTMENTS + 1)])
    first = (db.session.scalar(select(func.max(Employee.id))) or 0) + 1
    password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    people = [(first + n, 2 + n // PER_DEPARTMENT) for n in range(DEPARTMENTS * PER_DEPARTMENT)]
    db.session.execute(insert(Employee.__table__), [dict(
        id=pid, first_name=f"员工{pid:04d}", last_name="", username=f"199{pid:08d}", mobile=f"199{pid:08d}",
        email=f"e{pid}@bench.invalid", password=password, active=True, state="active", department_id=dept,
        created_on=now, changed_on=now) for pid, dept in people])
    role = role_service.create_role("部门经理-统计")
    role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "analysis": list(ANALYSIS),
                                        "data_scope": "department_tree"})
    db.session.get(Employee, people[0][0]).roles = [role]
    db.session.commit()
    choices = {kind: list(db.session.scalars(select(Choice.id).where(Choice.kind == kind)))
               for kind in ("customer_status", "customer_source", "opportunity_stage")}
    department_of = dict(people)
    owners = [pid for pid, _d in people]

    # bulk load: the secondary indexes go and come back afterwards
    indexes = [index for name in BULK_TABLES for index in Model.metadata.tables[name].indexes]
    with db.engine.begin() as conn:
        for index in indexes:
            conn.execute(text(f"DROP INDEX IF EXISTS {index.name}"))

    def calls():
        for i in range(1, CALLS + 1):
            owner = rng.choice(owners)
            answered = rng.random() < 0.4
            yield (i, "bench", f"c{i}", owner, department_of[owner], "device", "outbound", "ended",
                   "answered" if answered else rng.choice(("busy", "no_answer", "cancelled")), _instant(rng), 5,
                   rng.randrange(5, 600) if answered else 0)

    _load("call_record", ("id", "provider", "provider_call_id", "owner_id", "department_id", "mode", "direction",
                          "state", "disposition", "created_at", "ring_seconds", "talk_seconds"), calls(), dialect)
    print(f"  calls loaded ({time.perf_counter() - started:.0f} s)", flush=True)
    customer_owner = {}

    def customers():
        for i in range(1, CUSTOMERS + 1):
            owner = rng.choice(owners) if rng.random() >= 0.05 else None
            customer_owner[i] = owner
            created = _instant(rng)
            yield (i, f"客户{i:07d}有限公司", f"13{i:09d}", rng.choice(choices["customer_status"]),
                   rng.choice(choices["customer_source"]), owner, department_of.get(owner), created, created)

    _load("customer", ("id", "company_name", "mobile", "status_id", "source_id", "owner_id", "department_id",
                       "created_at", "updated_at"), customers(), dialect)

    def history():
        for i in range(1, CUSTOMERS + 1):
            yield (i, None, customer_owner[i], "create", YEAR_START)
        for _ in range(int(100_000 * SCALE)):
            yield (rng.randrange(1, CUSTOMERS + 1), None, rng.choice(owners), "claim", _instant(rng))
            yield (rng.randrange(1, CUSTOMERS + 1), rng.choice(owners), None, "release", _instant(rng))

    _load("owner_history", ("customer_id", "from_owner_id", "to_owner_id", "action", "at"), history(), dialect)

    def followups():
        for i in range(1, FOLLOWUPS + 1):
            owner = rng.choice(owners)
            at = _instant(rng)
            yield (i, rng.randrange(1, CUSTOMERS + 1), owner, department_of[owner],
                   rng.choice(("call", "call", "visit", "wechat", "other")), "跟进", at,
                   at + dt.timedelta(days=3) if rng.random() < 0.5 else None)

    _load("followup", ("id", "customer_id", "owner_id", "department_id", "way", "content", "followed_at",
                       "next_followup_at"), followups(), dialect)
    print(f"  customers and follow-ups loaded ({time.perf_counter() - started:.0f} s)", flush=True)

    def opportunities():
        for i in range(1, int(100_000 * SCALE) + 1):
            owner = rng.choice(owners)
            created = _instant(rng)
            yield (i, rng.randrange(1, CUSTOMERS + 1), f"商机{i}", rng.randrange(1000, 100000),
                   rng.choice(choices["opportunity_stage"]), owner, department_of[owner], created, created)

    _load("opportunity", ("id", "customer_id", "name", "amount", "stage_id", "owner_id", "department_id",
                          "created_at", "updated_at"), opportunities(), dialect)

    def contracts():
        for i in range(1, int(50_000 * SCALE) + 1):
            owner = rng.choice(owners)
            yield (i, rng.randrange(1, CUSTOMERS + 1), f"HT{i:06d}", f"合同{i}", rng.randrange(1000, 100000),
                   _instant(rng).date(), owner, department_of[owner])

    _load("contract", ("id", "customer_id", "number", "name", "amount", "signed_on", "owner_id", "department_id"),
          contracts(), dialect)

    def invoices():
        for i in range(1, int(30_000 * SCALE) + 1):
            owner = rng.choice(owners)
            yield (i, i, rng.randrange(1, CUSTOMERS + 1), f"FP{i:06d}", rng.randrange(100, 50000),
                   _instant(rng).date(), owner, department_of[owner])

    _load("invoice", ("id", "contract_id", "customer_id", "number", "amount", "issued_on", "owner_id",
                      "department_id"), invoices(), dialect)
    print(f"  sales loaded ({time.perf_counter() - started:.0f} s); building indexes", flush=True)
    for index in indexes:
        index.create(bind=db.engine)
    if dialect == "postgresql":
        for table in BULK_TABLES + ("department", "ab_user"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)


def _timed(fn, runs: int) -> tuple[float, float, float]:
    """Median and p90 wall ms, and the median CPU ms of this process (on SQLite the whole request, queries
    included: what the request costs whatever else the shared machine is doing)."""
    fn()
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    return (statistics.median(times), times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))],
            statistics.median(cpu))


def measure(app, runs: int, pages) -> list[tuple]:
    from sqlalchemy import select

    from app.extensions import db
    from models.org import Employee

    with app.app_context():
        head = db.session.scalar(select(Employee).where(Employee.department_id == 2).order_by(Employee.id))
        viewers = [("department head (200 people)", head.username), ("administrator (company)", "admin")]
    results = []
    query = f"from={MONTH[0]}&to={MONTH[1]}"
    for label, login in viewers:
        client = app.test_client()
        answer = client.post("/api/v1/security/login", json={"username": login, "password": PASSWORD,
                                                               "provider": "db"})
        headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
        screen = app.test_client()
        screen.post("/login/", data={"username": login, "password": PASSWORD})
        for page in pages:
            def api_call():
                response = client.get(f"/api/v1/stats/{page}?{query}", headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
                return response
            rows = len(api_call().get_json()["table"])
            api = _timed(api_call, runs)

            def screen_call():
                response = screen.get(f"/stats/{page}/?{query}")
                assert response.status_code == 200, response.status_code
            shown = _timed(screen_call, runs)
            results.append((label, page, rows, *api, *shown))
            print(f"  {label:30} {page:22} rows {rows:5}  API {api[0]:7.1f} / p90 {api[1]:7.1f} (cpu {api[2]:6.1f})  "
                  f"screen {shown[0]:7.1f} / p90 {shown[1]:7.1f} (cpu {shown[2]:6.1f}) ms  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    return results


def run(backend: str, runs: int, reseed: bool, pages, drop: bool) -> None:
    url = prepare(backend, reseed)
    os.environ.update(_env(url))
    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # the screen login posts from the test client
    with app.app_context():
        seed()
    print(f"{backend}: load average {os.getloadavg()[0]:.2f} / {os.cpu_count()} CPUs", flush=True)
    measure(app, runs, pages)
    print(f"{backend}: load average after {os.getloadavg()[0]:.2f}", flush=True)
    if drop and backend == "postgresql":
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)


def main() -> None:
    from app.stats import PAGES

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database afterwards")
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    if args.db == "both":  # one process per back end: the settings are read once per process
        for backend in ("sqlite", "postgresql"):
            subprocess.run([sys.executable, __file__, "--db", backend, "--runs", str(args.runs), "--pages",
                            args.pages] + ["--reseed"] * args.reseed + ["--drop"] * args.drop, check=True)
        return
    run(args.db, args.runs, args.reseed, args.pages.split(","), args.drop)


if __name__ == "__main__":
    main()
