"""Imports through RQ workers on Redis (a real `flask crm worker` subprocess), and a worker killed mid-job:
the job ends cleanly failed, its counters match what was written, no chunk is half-written."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from models.crm import Customer
from models.jobs import ImportJob
from tests.importing.helpers import run, upload, xlsx

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")  # a DB of our own on the shared server


def _redis_or_skip():
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and is unreachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not running at {REDIS_URL}")


@pytest.fixture
def rq(app):
    _redis_or_skip()
    queue = f"crm-import-test-{uuid.uuid4().hex[:8]}"  # no other process takes our jobs
    saved = {k: app.config.get(k) for k in ("REDIS_URL", "IMPORT_QUEUE", "IMPORT_STALE_SECONDS")}
    app.config.update(REDIS_URL=REDIS_URL, IMPORT_QUEUE=queue)
    workers = []

    def start(*args, **env):
        environment = {**os.environ, "REDIS_URL": REDIS_URL, "IMPORT_QUEUE": queue, **env}
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "crm", "worker", *args],
                                   cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        workers.append(process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    app.config.update(saved)
    from redis import Redis
    from rq import Queue

    Queue(queue, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def test_an_import_through_rq(app, client, admin_headers, rq):
    rq()
    rows = [[f"队列{i}", None, f"1390000{i:04d}"] for i in range(30)] + [["坏", None, "1"]]
    job = run(client, xlsx(rows), admin_headers)
    assert (job["status"], job["imported"], job["failed"]) == ("done", 30, 1), job
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 30


def test_a_worker_killed_mid_job_leaves_no_half_chunk_and_no_stuck_job(app, client, admin_headers, rq):
    worker = rq(IMPORT_CHUNK_ROWS="300", IMPORT_HEARTBEAT_SECONDS="0.5")
    rows = [[f"中断{i}", None, f"1380{i:07d}"] for i in range(10_000)]
    response = upload(client, xlsx(rows), headers=admin_headers)
    assert response.status_code == 202
    job_id = response.get_json()["job_id"]
    deadline = time.time() + 90
    while time.time() < deadline:
        body = client.get(f"/api/v1/import_job/{job_id}", headers=admin_headers).get_json()
        if body["done"] >= 900:
            break
        time.sleep(0.05)
    assert body["status"] == "running" and body["done"] < 10_000, body
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        written = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.import_job_id == job_id))
        assert job.status == "running"
        assert written == job.imported and job.done % 300 == 0 and job.done == job.imported, (written, job.done)
        db.session.remove()
    # a new worker sweeps the job whose heartbeat stopped before it takes new work
    app.config["IMPORT_STALE_SECONDS"] = 2
    time.sleep(2.5)
    sweeper = rq("--burst", IMPORT_STALE_SECONDS="2")
    assert sweeper.wait(60) == 0, sweeper.stdout.read()
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        assert job.status == "failed" and "中断" in job.message, (job.status, job.message)
        db.session.remove()
