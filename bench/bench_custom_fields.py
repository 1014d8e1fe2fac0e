"""Customers with 10 custom fields, through the Flask test client as logged-in users: list first page, filter
on a custom field, sort by a custom field, and the .csv / .xlsx exports with the custom columns.

    python bench/bench_custom_fields.py seed --db sqlite:////tmp/crm_bench_cf.db --customers 100000
    python bench/bench_custom_fields.py run  --db sqlite:////tmp/crm_bench_cf.db
    createdb -h 127.0.0.1 -U postgres crm_bench_cf
    python bench/bench_custom_fields.py seed --db postgresql://postgres@127.0.0.1:5432/crm_bench_cf
    python bench/bench_custom_fields.py run  --db postgresql://postgres@127.0.0.1:5432/crm_bench_cf

`seed` (bench/cf_seed.py) makes the database from the real migrations: N customers (2 % in the pool) over 20
salespeople in four departments under 基准总部, each with 10 custom values (3 单选, 整数, 金额, 日期, unique 邮箱,
是/否, 多选, 多行文本), and a department head of 基准总部 whose role has the scope 本部门及下属部门.

`run` logs in through the login form (with its CSRF token and the session cookie) as the administrator (全部)
and as that head (本部门及下属部门; at the seed's shape both see every customer outside the pool, ~98 % of N) and
times whole requests: median and p90 of --repeat runs after two warm-ups. Each export (user, format) runs in
a child process of its own, --export-runs times in a row after --warmups untimed ones, so its figures are
its own: wall time, the CPU time the process spent on the request (load-independent), the peak RSS of the
process (ru_maxrss) and its RSS after each export, which stays flat when an export keeps nothing. The rows
of each file are counted.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-cf-"))

import cf_seed  # noqa: E402

USERS = {"admin": ("admin", cf_seed.ADMIN_PASSWORD), "head": (cf_seed.HEAD_MOBILE, cf_seed.PASSWORD)}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]


def _login(app, who: str):
    """A test client holding a session cookie, logged in through the form as a person would."""
    username, password = USERS[who]
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/login/", data=data)
    assert response.status_code == 302, f"login as {who} failed: {response.status_code}"
    return client


def _field_keys(app) -> dict:
    from custom_fields import definitions

    with app.app_context():
        return {d.label: d for d in definitions("customer")}


def lists(url: str, repeat: int) -> None:
    app = cf_seed._app(url)
    fields = _field_keys(app)
    city, capital = fields["城市"], fields["注册资本"]
    cases = [
        ("list: first page", "/customer/list/"),
        ("list: filter 城市 = one of 30", f"/customer/list/?cf_{city.key}={city.options[3].id}"),
        ("list: sort by 注册资本 desc", f"/customer/list/?_oc_CustomerView=cf_{capital.key}&_od_CustomerView=desc"),
        ("list: filter 城市 + sort by 注册资本", f"/customer/list/?cf_{city.key}={city.options[3].id}"
                                           f"&_oc_CustomerView=cf_{capital.key}&_od_CustomerView=asc"),
    ]
    for who in USERS:
        client = _login(app, who)
        for name, path in cases:
            samples = []
            for attempt in range(repeat + 2):
                started = time.perf_counter()
                response = client.get(path)
                took = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code)
                if attempt >= 2:
                    samples.append(took)
            median, p90 = _stats(samples)
            print(f"  {who:5} {name:40} {median:8.1f} ms  p90 {p90:8.1f} ms  (of {repeat}, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)


def _row_count(fmt: str, body: bytes) -> int:
    if fmt == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()) - 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def export_child(url: str, who: str, fmt: str, runs: int, warmups: int) -> dict:
    """One (user, format): `warmups` exports, then `runs` timed ones, in this process. *cpu* is the CPU time
    this process spent on the request (on SQLite the queries' work included), which the machine's load does
    not inflate."""
    app = cf_seed._app(url)
    client = _login(app, who)
    path = f"/customer/export/?format={fmt}"
    start_rss = _rss_mb()
    times, cpus, rss_after, kept = [], [], [], None
    for attempt in range(runs + warmups):
        started, cpu = time.perf_counter(), _cpu()
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        # read the body as a browser would, piece by piece; the first one goes to a file, its rows are
        # counted at the end (counting loads the whole file: it must not count in the peak RSS)
        if kept is None:
            kept = tempfile.TemporaryFile()
            for piece in response.response:
                kept.write(piece)
        else:
            for piece in response.response:
                pass
        response.close()
        took, cpu = time.perf_counter() - started, _cpu() - cpu
        if attempt >= warmups:
            times.append(took)
            cpus.append(cpu)
            rss_after.append(round(_rss_mb(), 1))
        del response
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kept.seek(0)
    rows = _row_count(fmt, kept.read())
    median, p90 = _stats(times)
    return {"user": who, "format": fmt, "rows": rows, "median_s": round(median, 2), "p90_s": round(p90, 2),
            "cpu_median_s": round(statistics.median(cpus), 2),
            "runs": [round(t, 2) for t in times], "rss_start_mb": round(start_rss, 1), "rss_after_mb": rss_after,
            "peak_rss_mb": round(peak, 1),
            "load": round(os.getloadavg()[0], 1)}


def exports(url: str, runs: int, warmups: int, formats, users) -> None:
    for who in users:
        for fmt in formats:
            out = subprocess.run([sys.executable, __file__, "export-child", "--db", url, "--user", who,
                                  "--format", fmt, "--export-runs", str(runs), "--warmups", str(warmups)],
                                 capture_output=True, text=True, cwd=ROOT)
            line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-3000:]
            try:
                result = json.loads(line)
            except ValueError:
                print(f"  {who:5} export {fmt}: failed\n{line}")
                continue
            print(f"  {who:5} export {fmt:4} {result['rows']:>7,} rows  median {result['median_s']:6.2f} s  "
                  f"p90 {result['p90_s']:6.2f} s  cpu {result['cpu_median_s']:6.2f} s  runs {result['runs']}  "
                  f"RSS start {result['rss_start_mb']} MB, "
                  f"after each {result['rss_after_mb']}, peak {result['peak_rss_mb']} MB  (load {result['load']})",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("seed", "run", "lists", "exports", "export-child"))
    parser.add_argument("--db", required=True, help="sqlite:////tmp/x.db or postgresql://...")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="runs of each list case")
    parser.add_argument("--export-runs", type=int, default=3, help="timed exports per user and format")
    parser.add_argument("--warmups", type=int, default=1, help="untimed exports before the timed ones")
    parser.add_argument("--format", choices=("csv", "xlsx"), action="append")
    parser.add_argument("--user", choices=tuple(USERS), action="append")
    args = parser.parse_args()
    formats, users = args.format or ["csv", "xlsx"], args.user or list(USERS)
    if args.command == "seed":
        cf_seed.seed(args.db, args.customers)
    elif args.command == "export-child":
        print(json.dumps(export_child(args.db, users[0], formats[0], args.export_runs, args.warmups)))
    else:
        print(f"{args.db.split('://')[0]}: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.command in ("run", "lists"):
            lists(args.db, args.repeat)
        if args.command in ("run", "exports"):
            exports(args.db, args.export_runs, args.warmups, formats, users)


if __name__ == "__main__":
    main()
