"""What the session, export and pool fixes cost, through HTTP against a real server (run.py, waitress).

    python bench/bench_sessions.py                       # SQLite and PostgreSQL
    python bench/bench_sessions.py --db sqlite --runs 60
    python bench/bench_sessions.py --pg-url postgresql://postgres@127.0.0.1:5432/<db>

Each back end starts from an empty database made by the real migrations (`flask crm init`): a fresh SQLite
file, and the PostgreSQL database given by --pg-url (its public schema is dropped first: never point it at
data you keep). Seeded: a salesperson, 1,000 of their customers, 40 customers in the pool. It times
- screen:  GET /customer/list/ as the salesperson logged in through the form (the server-side session check
           included), median and p90 of --runs requests;
- export:  120 CSV exports in a row by the administrator (GET /api/v1/customer/export?format=csv,
           1,000 rows each) on a server whose pool is 5 + 10 connections; all must answer 200, median and p90;
- claim:   20 parallel POST /api/v1/pool/claim under a daily limit of 3: wall time of the burst, p90 of a
           request, and how many got through (must be 3);
- password: POST /api/v1/me/password (scrypt off: pbkdf2:sha256:1000, as the tests), median.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-pass-1"
MOBILE = "13900000001"


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "CRM_INSTANCE_DIR": tempfile.mkdtemp(prefix="crm-bench-sess-"),
            "CRM_ADMIN_PASSWORD": PASSWORD, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SECRET_KEY": "bench-sessions-" + "k" * 40}


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _seed(env: dict) -> None:
    code = f"""
from app import create_app
from app import organisation as org
from app.extensions import db
from models.crm import Customer, PoolRules
app = create_app()
with app.app_context():
    dept = org.create_department("基准部", None)
    role = app.appbuilder.sm.find_role("销售")
    seller = org.create_employee(name="基准销售", mobile="{MOBILE}", password="{PASSWORD}",
                                 department_id=dept.id, role_ids=[role.id])
    org.activate_employees([seller.id])
    db.session.add_all([Customer(company_name=f"客户{{i}}", mobile=str(13800000000 + i),
                                 owner_id=seller.id if i < 1000 else None,
                                 department_id=dept.id if i < 1000 else None) for i in range(1040)])
    db.session.add(PoolRules(daily_claim_limit=3, reclaim_cooldown_days=0, max_owned=0, auto_release_days=0))
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)


def _serve(env: dict):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "run.py", "--port", str(port), "--threads", "24"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return server, url
        except Exception:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start")


def _json(url, method, path, body=None, token=None):
    request = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _token(url, username=MOBILE):
    status, body = _json(url, "POST", "/api/v1/security/login",
                         {"username": username, "password": PASSWORD, "provider": "db"})
    assert status == 200, body
    return json.loads(body)["access_token"]


def _form_login(url):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url + "/login/").read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"username": MOBILE, "password": PASSWORD, "csrf_token": match.group(1) if match else ""}
    opener.open(url + "/login/", data=urllib.parse.urlencode(data).encode()).read()
    return opener


def _stats(samples):
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(0.9 * (len(samples) - 1))] * 1000


def run(url_db: str, runs: int) -> dict:
    _reset(url_db)
    env = _env(url_db)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "init"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    _seed(env)
    server, url = _serve(env)
    result = {}
    try:
        browser = _form_login(url)
        times = []
        for i in range(runs + 2):
            start = time.perf_counter()
            response = browser.open(url + "/customer/list/")
            response.read()
            assert "/login" not in response.geturl()
            if i >= 2:
                times.append(time.perf_counter() - start)
        result["screen"] = _stats(times)

        token, admin = _token(url), _token(url, "admin")
        times = []
        for _ in range(120):
            start = time.perf_counter()
            status, body = _json(url, "GET", "/api/v1/customer/export?format=csv", token=admin)
            assert status == 200 and body.count(b"\n") == 1001, (status, body.count(b"\n"))
            times.append(time.perf_counter() - start)
        result["export"] = _stats(times)

        status, body = _json(url, "GET", "/api/v1/pool/?q=(page_size:100)", token=token)
        pooled = [row["id"] for row in json.loads(body)["result"]][:20]
        barrier = threading.Barrier(len(pooled))

        def claim(pk):
            barrier.wait()
            start = time.perf_counter()
            status, _ = _json(url, "POST", "/api/v1/pool/claim", {"ids": [pk]}, token)
            return status, time.perf_counter() - start

        start = time.perf_counter()
        with ThreadPoolExecutor(len(pooled)) as pool:
            answers = list(pool.map(claim, pooled))
        wall = time.perf_counter() - start
        result["claim"] = (wall * 1000, _stats([t for _, t in answers])[1], sum(s == 200 for s, _ in answers))

        times, current = [], PASSWORD
        for n in range(5):
            new = f"bench-new-{n}"
            start = time.perf_counter()
            status, body = _json(url, "POST", "/api/v1/me/password", {"old_password": current, "new_password": new},
                                 token)
            times.append(time.perf_counter() - start)
            assert status == 200, body
            token, current = json.loads(body)["access_token"], new
        result["password"] = _stats(times)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test_h1"))
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    targets = []
    if args.db in ("sqlite", "both"):
        targets.append(("SQLite", f"sqlite:///{tempfile.mkdtemp(prefix='crm-bench-sess-')}/bench.db"))
    if args.db in ("postgresql", "both"):
        targets.append(("PostgreSQL", args.pg_url))
    for name, url in targets:
        r = run(url, args.runs)
        print(f"{name}: screen median {r['screen'][0]:.1f} ms p90 {r['screen'][1]:.1f} ms | "
              f"120 CSV exports median {r['export'][0]:.1f} ms p90 {r['export'][1]:.1f} ms | "
              f"20 parallel claims {r['claim'][0]:.0f} ms wall, p90 {r['claim'][1]:.0f} ms, {r['claim'][2]} through | "
              f"change password median {r['password'][0]:.1f} ms p90 {r['password'][1]:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
