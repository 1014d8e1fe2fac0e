"""Real processes on loopback for the SIP tests and the benchmark: Kamailio (the trunk), SIPp phones, the
gateway and the CRM. Every wait is bounded; every process started here is stopped by `stop()` (the fixtures
call it even when a test fails)."""
from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
SIP_DIR = Path(__file__).resolve().parent / "sip"
LOCALHOST = "127.0.0.1"


_agent_numbers = itertools.count(13700000001)
_customer_numbers = itertools.count(13800000001)


def next_agent_number() -> str:
    """A mobile no phone registered before in this run (a stale registration would fork the INVITE)."""
    return str(next(_agent_numbers))


def next_customer_number() -> str:
    return str(next(_customer_numbers))


def require_sip_tools() -> None:
    """The SIP tests fail (never skip) without Kamailio and SIPp: `make test` installs them."""
    missing = [name for name in ("kamailio", "sipp") if not shutil.which(name, path=os.environ.get("PATH", "")
                                                                         + ":/usr/sbin:/sbin")]
    if missing:
        raise RuntimeError("missing " + ", ".join(missing) + ": apt-get install -y kamailio sip-tester "
                           "(`make test` does it)")


def free_port(kind=socket.SOCK_DGRAM) -> int:
    """A port free for both UDP and TCP (SIP over UDP, HTTP over TCP)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind((LOCALHOST, 0))
            port = sock.getsockname()[1]
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(socket.AF_INET, other) as sock:
                sock.bind((LOCALHOST, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _stop(process: Optional[subprocess.Popen], timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


class Kamailio:
    def __init__(self, workdir: Path, defines: tuple = ()):
        self.workdir = workdir
        self.defines = defines  # e.g. ("WITH_AUTH",): challenge the gateway's INVITEs (digest)
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None
        self.log_path = workdir / f"kamailio-{self.port}.log"

    def start(self) -> "Kamailio":
        rundir = self.workdir / f"kamailio-{self.port}"
        rundir.mkdir(exist_ok=True)
        self._log = open(self.log_path, "w")
        # its own process group: Kamailio forks workers, and stop() ends the whole group
        self.process = subprocess.Popen(
            ["kamailio", "-f", str(SIP_DIR / "kamailio.cfg"), "-DD", "-E", "-m", "32", "-M", "8",
             "-l", f"udp:{LOCALHOST}:{self.port}", "-Y", str(rundir), "-w", str(rundir)]
            + [arg for define in self.defines for arg in ("-A", define)],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=rundir, start_new_session=True)
        # ready when an OPTIONS gets an answer (404 from the route is an answer)
        wait_until(self._answers, 15, "Kamailio to answer")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("Kamailio exited: " + self.log_path.read_text()[-2000:])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.3)
            sock.bind((LOCALHOST, 0))
            port = sock.getsockname()[1]
            sock.sendto((f"OPTIONS sip:ping@{LOCALHOST}:{self.port} SIP/2.0\r\n"
                         f"Via: SIP/2.0/UDP {LOCALHOST}:{port};branch=z9hG4bK{time.time_ns()}\r\n"
                         f"From: <sip:probe@{LOCALHOST}>;tag=1\r\nTo: <sip:ping@{LOCALHOST}>\r\n"
                         f"Call-ID: probe{time.time_ns()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
                         "Content-Length: 0\r\n\r\n").encode(), (LOCALHOST, self.port))
            try:
                return sock.recv(2048).startswith(b"SIP/2.0")
            except socket.timeout:
                return False

    def stop(self) -> None:
        if self.process is None:
            return
        group = self.process.pid  # the group this process leads (start_new_session)
        _stop(self.process)
        try:  # a worker still alive after the main process exited
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if getattr(self, "_log", None):
            self._log.close()


def _scenario(workdir: Path, name: str, **values) -> Path:
    """A SIPp scenario from tests/telephony/sip with its @PLACEHOLDERS@ filled in."""
    if name in ("answer", "hangup"):
        text = (SIP_DIR / "answer.xml").read_text()
        end = (SIP_DIR / ("end_hangup.inc" if name == "hangup" else "end_wait.inc")).read_text()
        text = text.replace("@END@", end)
        # the hangup variant keeps the caller's Contact URI (without a display name) as the BYE's target
        action = ('<action><ereg regexp="sip:[^&gt;]*" search_in="hdr" header="Contact:" check_it="true" '
                  'assign_to="remote_target"/></action>') if name == "hangup" else ""
        text = text.replace("@INVITE_ACTION@", action)
    else:
        text = (SIP_DIR / f"{name}.xml").read_text()
    defaults = {"RING_MS": 200, "TALK_MS": 1000, "CODE": 486, "REASON": "Busy Here"}
    for key, value in {**defaults, **{k.upper(): v for k, v in values.items()}}.items():
        text = text.replace(f"@{key}@", str(value))
    path = workdir / f"{name}-{time.time_ns()}.xml"
    path.write_text(text)
    return path


@dataclass
class Phone:
    """A SIPp phone: registers its numbers at Kamailio, then plays a scenario for `calls` incoming calls.

    behaviour: answer (waits for the BYE) | hangup (hangs up after talk_ms) | busy (answers `code`)
               | noanswer (rings until CANCEL)"""
    kamailio: Kamailio
    workdir: Path
    numbers: list
    behaviour: str = "answer"
    calls: int = 1
    ring_ms: int = 200
    talk_ms: int = 1000
    code: int = 486
    reason: str = "Busy Here"
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen] = None

    def start(self) -> "Phone":
        self.message_log = self.workdir / f"phone-{self.port}-messages.log"
        self.screen_log = self.workdir / f"phone-{self.port}-screen.log"
        scenario = _scenario(self.workdir, self.behaviour, ring_ms=self.ring_ms, talk_ms=self.talk_ms,
                             code=self.code, reason=self.reason)
        self.process = subprocess.Popen(
            ["sipp", "-sf", str(scenario), "-i", LOCALHOST, "-p", str(self.port), "-mp", str(free_port()),
             "-m", str(self.calls), "-nostdin", "-timeout", "60s", "-timeout_error", "-max_recv_loops", "1000",
             "-trace_msg", "-message_file", str(self.message_log), "-trace_screen",
             "-screen_file", str(self.screen_log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir)
        self.register()
        return self

    def register(self) -> None:
        numbers = self.workdir / f"numbers-{self.port}.csv"
        numbers.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in self.numbers))
        done = subprocess.run(
            ["sipp", "-sf", str(SIP_DIR / "register.xml"), "-inf", str(numbers), "-key", "contact_port",
             str(self.port), "-i", LOCALHOST, "-p", "0", "-m", str(len(self.numbers)), "-r", "200",
             "-nostdin", "-timeout", "15s", "-timeout_error", f"{LOCALHOST}:{self.kamailio.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.workdir, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"registering {self.numbers} failed: {done.stderr.decode()[-1000:]}")

    def wait(self, timeout: float = 30) -> int:
        """SIPp's exit status: 0 when every call played the scenario to its end."""
        return self.process.wait(timeout=timeout)

    def messages(self) -> str:
        return self.message_log.read_text() if self.message_log.exists() else ""

    def stop(self) -> None:
        _stop(self.process)


@dataclass
class SipMessage:
    at: float                 # unix time, as SIPp logged it
    direction: str            # "sent" | "received"
    first_line: str
    headers: dict
    body: str

    @property
    def method(self) -> str:
        return self.first_line.split()[0] if not self.first_line.startswith("SIP/2.0") else ""

    @property
    def status(self) -> Optional[int]:
        return int(self.first_line.split()[1]) if self.first_line.startswith("SIP/2.0") else None

    @property
    def cseq_method(self) -> str:
        return self.headers.get("cseq", " ").split()[-1]


_SEPARATOR = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$")


def sipp_messages(log: str) -> list[SipMessage]:
    """Every message in a SIPp -trace_msg log, in order."""
    import datetime as dt

    messages = []
    blocks = re.split(r"(?m)^(?=-{20,} \d{4}-)", log)
    for block in blocks:
        lines = block.splitlines()
        if not lines or not _SEPARATOR.match(lines[0]):
            continue
        at = dt.datetime.strptime(_SEPARATOR.match(lines[0]).group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        direction = "sent" if "sent" in lines[1] else "received"
        rest = [line.strip() for line in lines[2:]]
        while rest and not rest[0]:
            rest.pop(0)
        if not rest:
            continue
        headers, body, index = {}, [], 1
        while index < len(rest) and rest[index]:
            name, _, value = rest[index].partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
            index += 1
        body = [line for line in rest[index + 1:] if line]
        messages.append(SipMessage(at, direction, rest[0], headers, "\n".join(body)))
    return messages


class Gateway:
    def __init__(self, workdir: Path, kamailio: Kamailio, env: dict, webhook_url: str,
                 agent_ring: float = 3.0, customer_ring: float = 3.0, username: str = "", password: str = ""):
        self.workdir = workdir
        self.sip_port = free_port()
        self.http_port = free_port(socket.SOCK_STREAM)
        self.url = f"http://{LOCALHOST}:{self.http_port}"
        self.spool = workdir / f"spool-{self.http_port}"
        self.env = {**env, "SIP_TRUNK_HOST": LOCALHOST, "SIP_TRUNK_PORT": str(kamailio.port),
                    "SIP_GATEWAY_SIP_PORT": str(self.sip_port), "SIP_GATEWAY_HTTP_PORT": str(self.http_port),
                    "SIP_GATEWAY_WEBHOOK_URL": webhook_url, "SIP_GATEWAY_SPOOL_DIR": str(self.spool),
                    "SIP_AGENT_RING_TIMEOUT": str(agent_ring), "SIP_CUSTOMER_RING_TIMEOUT": str(customer_ring),
                    "SIP_TRUNK_USERNAME": username, "SIP_TRUNK_PASSWORD": password}
        self.log_path = workdir / f"gateway-{self.http_port}.log"
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "Gateway":
        self._log = open(self.log_path, "a")
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "crm", "sip-gateway"],
                                        cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: self.process.poll() is not None or _http_ready(self.url + "/health"), 30,
                       "the gateway to start")
        finally:
            if self.process.poll() is not None:
                raise RuntimeError("the gateway exited: " + self.log_path.read_text()[-3000:])
        return self

    def stop(self) -> None:
        _stop(self.process)
        if getattr(self, "_log", None):
            self._log.close()


class CrmServer:
    """run.py (waitress) on its own database, as `make run` serves it."""

    def __init__(self, workdir: Path, env: dict):
        self.workdir = workdir
        self.env = env
        self.port = free_port(socket.SOCK_STREAM)
        self.url = f"http://{LOCALHOST}:{self.port}"
        self.log_path = workdir / "crm.log"
        self.process: Optional[subprocess.Popen] = None

    def init_database(self) -> None:
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "init"], cwd=ROOT, env=self.env,
                       check=True, capture_output=True, timeout=180)

    def start(self) -> "CrmServer":
        self._log = open(self.log_path, "a")
        self.process = subprocess.Popen([sys.executable, "run.py", "--port", str(self.port)], cwd=ROOT,
                                        env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.process.poll() is not None or _http_ready(self.url + "/health"), 60,
                   "the CRM to start")
        if self.process.poll() is not None:
            raise RuntimeError("the CRM exited: " + self.log_path.read_text()[-3000:])
        return self

    def stop(self) -> None:
        _stop(self.process)
        if getattr(self, "_log", None):
            self._log.close()


def base_env(workdir: Path, database_url: Optional[str] = None) -> dict:
    env = {**os.environ, "CRM_INSTANCE_DIR": str(workdir), "SECRET_KEY": "sip-secret-" + "s" * 40,
           "DATABASE_URL": database_url or f"sqlite:///{workdir}/crm.db", "CRM_ADMIN_PASSWORD": "sip-admin-pass",
           "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SIPLOG_BEND": "none",
           "CALL_WEBHOOK_SECRET": "webhook-secret-for-tests", "SIP_GATEWAY_TOKEN": "gateway-token-for-tests"}
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    return env


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
