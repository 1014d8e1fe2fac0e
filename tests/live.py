"""A real server process (run.py, waitress) on the test run's own database, for tests that need truly
parallel requests: each request is its own thread and its own database transaction."""
from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(env: dict, log_path: Path, args=(), timeout: float = 60) -> Iterator[str]:
    """`python run.py` on a free loopback port with `env`, as `make run` serves it: yields its URL once /health
    answers, and stops it afterwards (the log says why when it does not start)."""
    port = _free_port()
    log = open(log_path, "w")
    server = subprocess.Popen([sys.executable, "run.py", "--port", str(port), *args], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    raise RuntimeError("the server did not start: " + log_path.read_text())
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def live_url(app):
    """run.py on a free port, on the database the `app` fixture prepared (SQLite file or PostgreSQL)."""
    env = {**os.environ, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    log_path = Path(tempfile.mkdtemp(prefix="crm-live-")) / "server.log"
    with running_server(env, log_path, args=("--threads", "24")) as url:
        yield url


def call(url: str, method: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw[:200]}


def token(url: str, username: str, password: str) -> str:
    status, body = call(url, "POST", "/api/v1/security/login",
                        {"username": username, "password": password, "provider": "db"})
    assert status == 200, body
    return body["access_token"]


def parallel(calls) -> list:
    """Run the zero-argument `calls` at once (a barrier releases them together); their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(one):
        barrier.wait(timeout=60)
        return one()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def parallel_calls(requests) -> list[tuple[int, dict]]:
    """`call(*request)` for each request, all at once; their (status, body) in order."""
    return parallel([functools.partial(call, *request) for request in requests])
