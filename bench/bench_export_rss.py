"""The server's resident memory after consecutive exports, with and without run.py's malloc arena cap.

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/seed.py --customers 100000
    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/bench_export_rss.py [--exports 20] [--search 客户001]

For each setting it starts `python run.py` (waitress, 8 threads) as its own process — once with
MALLOC_ARENA_MAX unset (run.py caps glibc's malloc arenas at 2) and once with MALLOC_ARENA_MAX=0 (glibc's
default: up to 8 arenas per core) — logs in over HTTP as the administrator (bearer token), runs --exports
.xlsx exports of the customers whose name contains --search one after the other, and reads the server's
VmRSS from /proc after start-up and after each export.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import prison

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "bench-admin-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait(base: str, process, timeout: float = 120) -> None:
    started = time.time()
    while time.time() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"run.py exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("run.py did not answer /health")


def run(setting: str, exports: int, search: str) -> dict:
    env = {**os.environ, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    env.pop("MALLOC_ARENA_MAX", None)
    if setting == "glibc default":
        env["MALLOC_ARENA_MAX"] = "0"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "run.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait(base, process)
        login = urllib.request.Request(base + "/api/v1/security/login", method="POST",
                                       data=json.dumps({"username": "admin", "password": ADMIN_PASSWORD,
                                                        "provider": "db"}).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=30) as answer:
            token = json.load(answer)["access_token"]
        q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": search}]})
        url = f"{base}/api/v1/customer/export?format=xlsx&q={urllib.parse.quote(q)}"
        after_start = _rss_mb(process.pid)
        samples, seconds, size = [], [], 0
        for _ in range(exports):
            started = time.perf_counter()
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=600) as answer:
                size = len(answer.read())
            seconds.append(time.perf_counter() - started)
            samples.append(_rss_mb(process.pid))
        return {"setting": setting, "rss_after_start_mb": round(after_start), "rss_after_exports_mb": round(samples[-1]),
                "rss_peak_mb": round(max(samples)), "rss_after_each": [round(s) for s in samples],
                "export_s_median": round(statistics.median(seconds), 2), "bytes": size,
                "load": round(os.getloadavg()[0], 2)}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exports", type=int, default=20)
    parser.add_argument("--search", default="客户001")
    parser.add_argument("--only", choices=["capped", "glibc default"])
    args = parser.parse_args()
    print(f"database: {os.environ.get('DATABASE_URL', 'default sqlite')}; load average {os.getloadavg()[0]:.2f}")
    for setting in [args.only] if args.only else ["capped", "glibc default"]:
        print(json.dumps(run(setting, args.exports, args.search), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
