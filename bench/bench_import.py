"""Import speed: N customer rows with 10 custom fields, uploaded through the REST API as a logged-in
administrator (Flask test client), into a database that already holds 1,000,000 customers with 10 custom
values each (bench/bench_custom_fields.py seed). Upload to done, the job's counts, peak RSS, and the ratio to
a bare read (calamine) + bulk insert (executemany / COPY) of the same file in the same run.

    python bench/bench_custom_fields.py seed --db sqlite:////tmp/bench-import/crm.db
    python bench/bench_import.py --db sqlite:////tmp/bench-import/crm.db --rows 100000
    createdb -h 127.0.0.1 -U postgres bench_import
    python bench/bench_custom_fields.py seed --db postgresql://postgres@127.0.0.1:5432/bench_import
    python bench/bench_import.py --db postgresql://postgres@127.0.0.1:5432/bench_import --rows 100000

The file is made in a child process and the baseline runs in another, so the peak RSS printed is the
import's own process (the app, the upload, the job). Every imported customer is deleted again at the end
(the database stays at its 1,000,000).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-import-"))
ADMIN_PASSWORD = "bench-admin-1"
HEADER = ["公司名称", "联系人", "*手机号", "客户状态", "客户级别", "客户来源", "地址", "备注",
          "城市", "客户等级", "行业", "员工人数", "注册资本", "成立日期", "邮箱", "是否VIP", "标签", "客户备注"]


def make_file(path: str, rows: int, seed: int = 11) -> None:
    """An Excel-like workbook (shared strings, XlsxWriter): 2 % in-file repeats, 1 % numbers already in the
    database, a few bad numbers and unknown statuses."""
    import xlsxwriter

    rng = random.Random(seed)
    if path.endswith(".csv"):  # the same rows as CSV (UTF-8 with BOM, as Excel saves "CSV UTF-8")
        import csv

        class Sheet:
            def __init__(self, handle):
                self.writer, self.row, self.cells = csv.writer(handle), 0, [""] * len(HEADER)

            def write(self, r, c, value, *_):
                if r != self.row:
                    self.writer.writerow(self.cells)
                    self.row, self.cells = r, [""] * len(HEADER)
                self.cells[c] = value.strftime("%Y-%m-%d") if isinstance(value, dt.datetime) else value

            write_string = write_number = write_datetime = write

        handle = open(path, "w", encoding="utf-8-sig", newline="")
        sheet, date = Sheet(handle), None
        handle.write(",".join(HEADER) + "\r\n")
        sheet.row = 1
        book = None
    else:
        book = xlsxwriter.Workbook(path, {"constant_memory": True})
        sheet = book.add_worksheet()
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        for c, name in enumerate(HEADER):
            sheet.write_string(0, c, name)
    statuses = ["潜在客户", "意向客户", "成交客户"]
    for r in range(1, rows + 1):
        roll = rng.random()
        if roll < 0.02 and r > 10:
            mobile = str(15_000_000_000 + rng.randrange(1, r))  # an earlier row's number
        elif roll < 0.03:
            mobile = str(13_000_000_000 + rng.randrange(1, 1_000_000))  # already in the database
        elif roll < 0.031:
            mobile = "1234"
        else:
            mobile = str(15_000_000_000 + r)
        cells = [f"导入公司{r}", f"联系人{r}", mobile, statuses[r % 3] if roll > 0.001 else "不存在", None, None,
                 f"地址{r % 1000}号", None,
                 f"城市{r % 30:02d}", "ABCDE"[r % 5], f"行业{r % 12:02d}", r % 500 + 1, round(r * 1.5, 2),
                 dt.datetime(2000, 1, 1) + dt.timedelta(days=r % 8000), f"im{r}@example.com",
                 "是" if r % 2 else "否", f"标签{r % 8}、标签{(r + 3) % 8}", "备注" if r % 7 == 0 else None]
        for c, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, date)
            else:
                sheet.write_number(r, c, value)
    if book is None:
        sheet.writer.writerow(sheet.cells)
        handle.close()
    else:
        book.close()


def baseline(url: str, path: str) -> dict:
    """A bare read + bulk insert of the same rows (customers and their 10 values), rolled back: the floor."""
    os.environ["DATABASE_URL"] = url
    from python_calamine import CalamineWorkbook
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from custom_fields.definitions import definitions
    from custom_fields.models import VALUE_MODELS
    from models.crm import Customer

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        if path.endswith(".csv"):
            import csv

            with open(path, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))[1:]
        else:
            rows = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()[1:]
        read = time.perf_counter() - started
        defs = definitions("customer")
        table = Customer.__table__
        values = VALUE_MODELS["customer"].__table__
        connection = db.session.connection()
        start_id = (db.session.scalar(select(func.max(Customer.id))) or 0) + 10_000_000
        now = dt.datetime.now()
        customers, value_rows = [], []
        for i, row in enumerate(rows):
            pk = start_id + i
            customers.append((pk, row[0], row[1], f"19{i:09d}", now, now))
            for n, definition in enumerate(defs):
                value_rows.append((pk, definition.id, str(row[8 + n])[:200] if row[8 + n] not in (None, "") else "x"))
        if connection.dialect.name == "postgresql":
            raw = connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                with cursor.copy("COPY customer (id, company_name, contact_name, mobile, created_at, updated_at) "
                                 "FROM STDIN") as copy:
                    for item in customers:
                        copy.write_row(item)
                with cursor.copy("COPY customer_field_value (record_id, field_id, value_text) FROM STDIN") as copy:
                    for item in value_rows:
                        copy.write_row(item)
        else:
            connection.execute(table.insert(), [dict(zip(("id", "company_name", "contact_name", "mobile",
                                                          "created_at", "updated_at"), c)) for c in customers])
            connection.execute(values.insert(), [dict(zip(("record_id", "field_id", "value_text"), v))
                                                 for v in value_rows])
        took = time.perf_counter() - started
        db.session.rollback()
    return {"read": read, "total": took}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(url: str, path: str, timeout: float) -> dict:
    os.environ["DATABASE_URL"] = url
    from sqlalchemy import delete, func, select

    from app import create_app
    from app.cli import ensure_admin
    from app.extensions import db
    from models.crm import Customer
    from models.jobs import ImportJob

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    if os.path.getsize(path) > app.config["IMPORT_MAX_BYTES"]:  # the 1,000,000-row file: raise the limits
        app.config.update(IMPORT_MAX_BYTES=1024 ** 3, MAX_CONTENT_LENGTH=1024 ** 3)
    with app.app_context():
        ensure_admin(ADMIN_PASSWORD)
        before = db.session.scalar(select(func.count()).select_from(Customer))
        db.session.remove()
    client = app.test_client()
    login = client.post("/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                        "provider": "db"})
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    rss_before = _rss_mb()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        response = client.post("/api/v1/customer/import", data={"file": (handle, os.path.basename(path)),
                                                                "duplicate": "skip"},
                               headers=headers, content_type="multipart/form-data")
    accepted = time.perf_counter() - started
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]
    while True:
        job = client.get(f"/api/v1/import_job/{job_id}", headers=headers).get_json()
        if job["status"] in ("done", "failed"):
            break
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"timeout: {job}")
        time.sleep(0.5)  # as the dialog polls
    took = time.perf_counter() - started
    result = {"seconds": took, "accepted_after": accepted, "job": job, "rss_before_mb": rss_before,
              "peak_rss_mb": _rss_mb(), "customers_before": before}
    with app.app_context():  # back to the seeded state
        db.session.execute(delete(Customer).where(Customer.import_job_id == job_id))
        db.session.execute(delete(ImportJob).where(ImportJob.id == job_id))
        db.session.commit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", help="reuse a generated file")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare read + insert (1M rows)")
    parser.add_argument("--child", choices=("make", "baseline", "import"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "make":
        make_file(args.file, args.rows)
        return
    if args.child == "baseline":
        print(json.dumps(baseline(args.db, args.file)))
        return
    if args.child == "import":
        print(json.dumps(run_import(args.db, args.file, args.timeout)))
        return
    parser_path = args.file or os.path.join(tempfile.gettempdir(), f"bench-import-{args.rows}.xlsx")
    path = parser_path
    if not os.path.exists(path):
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--db", args.db, "--rows", str(args.rows), "--file", path,
                        "--child", "make"], check=True)
        print(f"made {path} ({os.path.getsize(path) / 1e6:.1f} MB, {args.rows:,} rows) in {time.perf_counter() - t:.0f} s")
    load = os.getloadavg()
    out = subprocess.run([sys.executable, __file__, "--db", args.db, "--file", path, "--timeout", str(args.timeout),
                          "--child", "import"], check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    floor = None
    if not args.no_baseline:
        out = subprocess.run([sys.executable, __file__, "--db", args.db, "--file", path, "--child", "baseline"],
                             check=True, capture_output=True, text=True).stdout
        floor = json.loads(out.strip().splitlines()[-1])
    job = result["job"]
    dialect = "PostgreSQL" if args.db.startswith("postgres") else "SQLite"
    print(f"{dialect}: {args.rows:,} rows into {result['customers_before']:,} customers")
    print(f"  upload to done   {result['seconds']:.1f} s (202 after {result['accepted_after']:.2f} s)")
    print(f"  counts           imported {job['imported']:,}  skipped {job['skipped']:,}  failed {job['failed']:,}"
          f"  (total {job['total']:,}, status {job['status']})")
    print(f"  peak RSS         {result['peak_rss_mb']:.0f} MB (app booted: {result['rss_before_mb']:.0f} MB)")
    if floor:
        print(f"  bare read + bulk insert  {floor['total']:.1f} s (read {floor['read']:.1f} s)  ->  ratio "
              f"{result['seconds'] / floor['total']:.2f}")
    print(f"  load average at start    {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores, shared)")


if __name__ == "__main__":
    main()
