"""The gateway's outbox: every event kept on disk first, delivered signed, in order, once the CRM accepts,
and whatever was left in the spool is sent after a restart."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.sipgw import outbox as outbox_module
from app.sipgw.outbox import Outbox
from app.telephony.signing import sign, verify
from tests.telephony.harness import wait_until

SECRET = "outbox-secret"


class FakeCrm:
    """A webhook that refuses the first `failures` requests with 503, then accepts and records."""

    def __init__(self, failures=0):
        self.failures = failures
        self.received: list[dict] = []
        self.requests = 0
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                crm.requests += 1
                if not verify(SECRET, self.headers, body):
                    self.send_response(401)
                elif crm.failures > 0:
                    crm.failures -= 1
                    self.send_response(503)
                else:
                    crm.received.extend(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/call/events/sip_callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(outbox_module, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(outbox_module, "BACKOFF_MAX", 0.05)


def _event(n):
    return {"call_id": "c1", "event": "created", "event_id": f"c1:{n}", "at": "2026-11-29T10:00:00.000"}


def test_events_are_spooled_then_delivered_in_order_after_refusals(tmp_path, fast_backoff):
    crm = FakeCrm(failures=3)
    box = Outbox(tmp_path, crm.url, SECRET)
    try:
        for n in range(120):  # more than one batch
            box.put(_event(n))
        assert len(box.pending()) == 120  # on disk before anything was sent
        box.start()
        wait_until(lambda: len({e["event_id"] for e in crm.received}) == 120, 20, "delivery")
        # at least once and in order (a batch whose answer was lost on a loaded machine comes again; the CRM
        # applies an event id once)
        first_seen = list(dict.fromkeys(e["event_id"] for e in crm.received))
        assert first_seen == [f"c1:{n}" for n in range(120)]
        wait_until(lambda: box.pending() == [], 5, "an empty spool")
        assert box.failures >= 3
    finally:
        box.stop()
        crm.close()


def test_a_stopped_gateway_sends_its_spool_when_it_starts_again(tmp_path, fast_backoff):
    down = Outbox(tmp_path, "http://127.0.0.1:9/unreachable", SECRET)
    down.start()
    down.put(_event(1))
    down.put(_event(2))
    wait_until(lambda: down.failures >= 2, 5, "failed attempts")
    down.stop()
    assert len(down.pending()) == 2
    crm = FakeCrm()
    again = Outbox(tmp_path, crm.url, SECRET)
    try:
        again.start()
        wait_until(lambda: len(crm.received) == 2, 5, "delivery after restart")
        assert [e["event_id"] for e in crm.received] == ["c1:1", "c1:2"]
    finally:
        again.stop()
        crm.close()


def test_a_wrong_secret_is_refused_and_the_events_stay(tmp_path, fast_backoff):
    crm = FakeCrm()
    box = Outbox(tmp_path, crm.url, "not-the-secret")
    try:
        box.start()
        box.put(_event(1))
        wait_until(lambda: crm.requests >= 2, 5, "attempts")
        assert crm.received == [] and len(box.pending()) == 1
    finally:
        box.stop()
        crm.close()


def test_signature_covers_the_timestamp_and_the_body():
    body = b'[{"call_id":"x"}]'
    headers = sign(SECRET, body, 1_800_000_000)
    assert verify(SECRET, headers, body, now=1_800_000_100)
    assert not verify(SECRET, headers, body, now=1_800_000_000 + 301)  # outside the window
    assert not verify(SECRET, headers, body + b" ", now=1_800_000_000)
    assert not verify(SECRET, {**headers, "X-Timestamp": "1800000001"}, body, now=1_800_000_000)
    assert not verify("", headers, body, now=1_800_000_000)
    assert not verify(SECRET, {}, body)


def test_without_configured_secrets_the_gateway_derives_the_crms(app):
    """No CALL_WEBHOOK_SECRET / SIP_GATEWAY_TOKEN set: both sides derive them from SECRET_KEY alike."""
    import hashlib
    import hmac

    from app.sipgw.server import GatewaySettings

    config = {**app.config, "CALL_WEBHOOK_SECRET": None, "SIP_GATEWAY_TOKEN": ""}
    settings = GatewaySettings.from_config(config)
    key = app.config["SECRET_KEY"].encode()
    # the CRM's webhook (app/telephony/events.webhook_secret) derives HMAC(SECRET_KEY, "call-webhook")
    assert settings.webhook_secret == hmac.new(key, b"call-webhook", hashlib.sha256).hexdigest()
    assert settings.token == hmac.new(key, b"sip-gateway", hashlib.sha256).hexdigest()
    with pytest.raises(ValueError):
        GatewaySettings.from_config({**config, "SIP_TRUNK_TRANSPORT": "tcp"})
