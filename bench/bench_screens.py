"""The screens a new user opens first, as the logged-in administrator, and a second `crm init`.

    DATABASE_URL=sqlite:////tmp/crm-demo/crm.db CRM_INSTANCE_DIR=/tmp/crm-demo python bench/bench_screens.py

Run it against a database made by `crm init` + `crm demo-data` (300 customers, 15 employees). Each case is
the whole request through the test client (session login, FAB security, data scope, query, template):
median and p90 of --runs runs after two warm-ups, in ms. `crm init` runs in a child process each time
(the migrations are already applied: it syncs permissions and roles).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = [
    ("customer list (with its filter panel)", "/customer/list/"),
    ("customer add form", "/customer/add"),
    ("employee list", "/employees/list/"),
    ("404 error page", "/customer/show/987654321"),
]


def _stats(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(round(0.9 * len(samples))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--password", default=os.environ.get("CRM_ADMIN_PASSWORD", "admin123"))
    parser.add_argument("--init-runs", type=int, default=5)
    args = parser.parse_args()

    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": args.password})
    assert client.get("/customer/list/").status_code == 200, "log in failed: pass --password"
    for label, url in CASES:
        for _ in range(2):
            client.get(url)
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        median, p90 = _stats(samples)
        print(f"{label:40s} median {median:7.1f} ms   p90 {p90:7.1f} ms")

    samples = []
    for _ in range(args.init_runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "init"], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        samples.append((time.perf_counter() - started) * 1000)
    median, p90 = _stats(samples)
    warnings = (done.stdout + done.stderr).count("Refused to delete permission view")
    print(f"{'crm init (second and later runs)':40s} median {median:7.1f} ms   p90 {p90:7.1f} ms   "
          f"'Refused to delete' warnings: {warnings}")


if __name__ == "__main__":
    main()
