"""Every call step as a signed event, delivered to the CRM webhook at least once and in order.

Each event is written to the spool directory before anything is sent (a file per event, named so that the
names sort in the order the events happened). One sender thread posts the oldest pending events as a batch,
deletes their files once the CRM answered 2xx, and otherwise waits with a growing backoff and tries again.
Events left in the spool when the gateway stops are sent when it starts again. The CRM applies each event id
once, so a batch re-sent after a lost answer changes nothing.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from app.telephony.signing import sign

log = logging.getLogger(__name__)

BATCH = 50
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 5.0


class Outbox:
    def __init__(self, spool_dir: str | os.PathLike, webhook_url: str, secret: str, timeout: float = 5.0,
                 sleep: Callable[[float], None] | None = None):
        self.spool = Path(spool_dir)
        self.spool.mkdir(parents=True, exist_ok=True)
        self.webhook_url = webhook_url
        self.secret = secret
        self.timeout = timeout
        self._seq = itertools.count()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.delivered = 0
        self.failures = 0

    # -- the producer side (the SIP event loop) ------------------------------------------------------------
    def put(self, event: dict) -> None:
        """Keep the event on disk, then wake the sender. A file is written whole or not at all."""
        name = f"{time.time_ns():020d}-{next(self._seq):08d}.json"
        tmp = self.spool / (name + ".tmp")
        tmp.write_text(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        os.replace(tmp, self.spool / name)
        self._wake.set()

    def pending(self) -> list[Path]:
        return sorted(self.spool.glob("*.json"))

    # -- the sender thread ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sip-outbox", daemon=True)
        self._thread.start()

    def stop(self, drain_seconds: float = 0.0) -> None:
        """Stop the sender; with drain_seconds, first give it that long to send what is pending."""
        deadline = time.monotonic() + drain_seconds
        while drain_seconds and self.pending() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.timeout + 1)

    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stop.is_set():
            files = self.pending()[:BATCH]
            if not files:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            if self._deliver(files):
                backoff = BACKOFF_FIRST
                continue
            self.failures += 1
            self._stop.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _deliver(self, files: list[Path]) -> bool:
        events = []
        for path in files:
            try:
                events.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                log.exception("unreadable spooled event %s, set aside", path)
                path.replace(path.with_suffix(".bad"))
                return True
        # the webhook takes one event or a list of at most 100 (app/telephony/providers.py parse_event)
        body = json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(self.webhook_url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **sign(self.secret, body)})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                ok = 200 <= response.status < 300
        except urllib.error.HTTPError as error:
            log.warning("the CRM refused %d event(s): HTTP %s", len(files), error.code)
            ok = False
        except (OSError, urllib.error.URLError) as error:
            log.info("the CRM is unreachable (%s); %d event(s) wait in the spool", error, len(self.pending()))
            ok = False
        if ok:
            for path in files:
                path.unlink(missing_ok=True)
            self.delivered += len(files)
        return ok
