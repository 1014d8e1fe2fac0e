"""呼叫中心 → 通话记录 at 5,000,000 call records: the first page, and the list filtered by employee and date.

    python bench/bench_calls.py                          # SQLite and PostgreSQL, 5,000,000 calls
    python bench/bench_calls.py --db sqlite --calls 200000 --runs 9
    python bench/bench_calls.py --drop                   # drop the PostgreSQL bench database afterwards

Each back end gets its own database made by the real migrations (`flask crm init`): the SQLite file
/tmp/crm_bench_calls.db and the PostgreSQL database bench_calls (never the suite's `test`). Seeded once
(Core executemany on SQLite, COPY on PostgreSQL): 200 employees in 10 departments, 20,000 customers and the
calls spread over the last 365 days (newest last, as they arrive), 60 % connected.

Timed, through the test client as a logged-in user (session cookie or token, FAB security, the data scope,
the query, the HTML or JSON), median and p90 ms of --runs runs after two warm-ups:
- screen first page      GET /call/list/                                   (administrator, scope 全部)
- screen employee + date GET /call/list/?_flt_0_owner=..&_flt_1_created_at=..&_flt_2_created_at=..
- API first page         GET /api/v1/call/                                 (administrator)
- API employee + date    GET /api/v1/call/?q=(filters: owner, created_at > , created_at <)
- salesperson first page GET /call/list/ as a salesperson (scope 本人)
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
SQLITE_PATH = os.environ.get("BENCH_CALLS_SQLITE", "/tmp/crm_bench_calls.db")
PG_NAME = "bench_calls"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"
PASSWORD = "bench-pass-1"
BATCH = 50_000
EMPLOYEES, DEPARTMENTS, CUSTOMERS = 200, 10, 20_000
NOW = dt.datetime(2026, 11, 29, 12, 0)


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "CRM_INSTANCE_DIR": tempfile.mkdtemp(prefix="crm-bench-calls-"),
            "CRM_ADMIN_PASSWORD": PASSWORD, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SECRET_KEY": "bench-calls-" + "k" * 40}


def _psql(sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", sql], capture_output=True,
                          text=True, check=True).stdout.strip()


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


# ---------------------------------------------------------------- seeding (inside the child process)

def seed(calls: int) -> None:
    from sqlalchemy import func, insert, select, text
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from models.call import CallRecord
    from models.crm import Customer
    from models.org import Department, Employee

    if db.session.scalar(select(func.count()).select_from(CallRecord)) >= calls * 0.99:
        return
    started = time.perf_counter()
    rng = random.Random(20261129)
    db.session.execute(insert(Department), [dict(id=i, parent_id=None, name=f"电销{i}部", path=f"/{i}/",
                                                 sort_order=0, created_at=NOW, updated_at=NOW)
                                            for i in range(1, DEPARTMENTS + 1)])
    first = (db.session.scalar(select(func.max(Employee.id))) or 0) + 1
    password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    people = [(first + n, 1 + n % DEPARTMENTS) for n in range(EMPLOYEES)]
    db.session.execute(insert(Employee.__table__), [dict(
        id=pid, first_name=f"坐席员{pid}", last_name="", username=f"198{pid:08d}", mobile=f"198{pid:08d}",
        email=f"c{pid}@bench.invalid", password=password, active=True, state="active", department_id=dept,
        created_on=NOW, changed_on=NOW) for pid, dept in people])
    db.session.execute(insert(Customer.__table__), [dict(
        id=i, company_name=f"客户{i:06d}有限公司", mobile=f"137{i:08d}", owner_id=people[i % EMPLOYEES][0],
        department_id=people[i % EMPLOYEES][1], created_at=NOW, updated_at=NOW) for i in range(1, CUSTOMERS + 1)])
    db.session.commit()
    dispositions = ["answered"] * 6 + ["busy", "no_answer", "no_answer", "failed"]
    span = 365 * 86400
    columns = ("id", "provider", "provider_call_id", "customer_id", "customer_number", "agent_number", "mode",
               "direction", "state", "disposition", "created_at", "ended_at", "ring_seconds", "talk_seconds",
               "owner_id", "department_id")

    def rows():
        for i in range(1, calls + 1):
            owner, dept = people[rng.randrange(EMPLOYEES)]
            customer = rng.randrange(1, CUSTOMERS + 1)
            created = NOW - dt.timedelta(seconds=span * (calls - i) / calls)
            disposition = rng.choice(dispositions)
            talk = rng.randrange(5, 600) if disposition == "answered" else 0
            yield (i, "device", f"bench-{i}", customer, f"137{customer:08d}", f"198{owner:08d}", "device", "outbound",
                   "ended", disposition, created, created + dt.timedelta(seconds=talk + 10), rng.randrange(0, 30),
                   talk, owner, dept)

    engine = db.engine
    table = CallRecord.__table__
    # the list's indexes are built after the rows are in (faster than keeping them up row by row)
    secondary = [index for index in table.indexes if not index.unique]
    with engine.begin() as conn:
        for index in secondary:
            index.drop(conn)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY call_record ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            sql = f"INSERT INTO call_record ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows():
                batch.append(row[:10] + (row[10].isoformat(" "), row[11].isoformat(" ")) + row[12:])
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    raw.commit()
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
            raw.commit()
        finally:
            raw.close()
    print(f"  rows in after {time.perf_counter() - started:.0f} s; building the indexes", flush=True)
    with engine.begin() as conn:
        for index in secondary:
            index.create(conn)
        if engine.dialect.name != "postgresql":
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # the steady state autovacuum keeps: statistics, and a visibility map so counts are index-only scans
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE call_record"))
    print(f"  seeded {calls:,} calls in {time.perf_counter() - started:.0f} s", flush=True)


# ---------------------------------------------------------------- measuring

def _timed(fn, runs: int) -> tuple[float, float, float, float]:
    """Wall-clock median and p90, and the CPU time this process spent on the request (median): on the shared
    machine other work steals the CPU, so the wall clock grows with the load and the CPU time does not (the
    database's own work is in the wall clock only for PostgreSQL, which runs in its own process)."""
    for _ in range(2):
        fn()
    samples, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    samples.sort()
    p90 = samples[min(len(samples) - 1, int(round(0.9 * (len(samples) - 1))))]
    return statistics.median(samples), p90, statistics.median(cpu), os.getloadavg()[0]


def measure(app, runs: int) -> list[tuple[str, float, float]]:
    import prison
    from sqlalchemy import select

    from app.extensions import db
    from models.org import Employee

    with app.app_context():
        employee = db.session.scalar(select(Employee).where(Employee.username.like("198%")).order_by(Employee.id))
        employee_id, employee_login = employee.id, employee.username
        seller_role = app.appbuilder.sm.find_role("销售")
        employee.roles = [seller_role]
        db.session.commit()
    since, until = NOW - dt.timedelta(days=30), NOW
    admin = app.test_client()
    admin.post("/login/", data={"username": "admin", "password": PASSWORD})
    token = admin.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD,
                                                       "provider": "db"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    seller = app.test_client()
    seller.post("/login/", data={"username": employee_login, "password": PASSWORD})
    window = (f"_flt_0_owner={employee_id}&_flt_1_created_at={since:%Y-%m-%d %H:%M:%S}"
              f"&_flt_2_created_at={until:%Y-%m-%d %H:%M:%S}")
    q = prison.dumps({"filters": [{"col": "owner", "opr": "rel_o_m", "value": employee_id},
                                  {"col": "created_at", "opr": "gt", "value": since.isoformat()},
                                  {"col": "created_at", "opr": "lt", "value": until.isoformat()}]})

    def screen(client, url, expect):
        def run():
            response = client.get(url)
            assert response.status_code == 200 and expect in response.get_data(as_text=True), url
        return run

    def api(url):
        def run():
            response = admin.get(url, headers=headers)
            body = response.get_json()
            assert response.status_code == 200 and body["result"], body
        return run

    cases = [
        ("screen: first page (administrator)", screen(admin, "/call/list/", "crm-record-count")),
        ("screen: one employee, last 30 days", screen(admin, "/call/list/?" + window.replace(" ", "%20"),
                                                      f"坐席员{employee_id}")),
        ("API: first page (administrator)", api("/api/v1/call/")),
        ("API: one employee, last 30 days", api("/api/v1/call/?q=" + q)),
        ("screen: first page (salesperson, scope 本人)", screen(seller, "/call/list/", f"坐席员{employee_id}")),
    ]
    results = []
    for name, fn in cases:
        median, p90, cpu, load = _timed(fn, runs)
        results.append((name, median, p90, cpu, load))
        print(f"  {name:48s} median {median:7.1f} ms  p90 {p90:7.1f} ms  cpu {cpu:6.1f} ms  load {load:.1f}",
              flush=True)
    return results


def child(args) -> None:
    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # the screen login posts from the test client
    with app.app_context():
        seed(args.calls)
    backend = "PostgreSQL" if os.environ["DATABASE_URL"].startswith("postgres") else "SQLite"
    for name, median, p90, cpu, load in measure(app, args.runs):
        print(f"| {backend} | {name} | {median:.1f} | {p90:.1f} | {cpu:.1f} | {load:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--drop", action="store_true", help="drop the bench databases when done")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.environ["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
        child(args)
        return
    rows = []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    for backend in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        print(f"{backend}: preparing", flush=True)
        url = prepare(backend, args.reseed)
        command = [sys.executable, __file__, "--child", "--calls", str(args.calls), "--runs", str(args.runs)]
        with subprocess.Popen(command, cwd=ROOT, env=_env(url), stdout=subprocess.PIPE, text=True) as process:
            for line in process.stdout:
                (rows.append(line.rstrip()) if line.startswith("| ") else print(line, end="", flush=True))
        if process.returncode:
            sys.exit(process.returncode)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("\n| database | request | median ms | p90 ms | CPU ms (median) | load |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.drop:
        for suffix in ("", "-wal", "-shm"):
            Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
        if args.db in ("postgresql", "both"):
            subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)


if __name__ == "__main__":
    main()
