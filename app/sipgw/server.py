"""The gateway process: sippy's event loop in the main thread, a loopback HTTP interface in another.

HTTP (JSON, `Authorization: Bearer <SIP_GATEWAY_TOKEN>` on every call but /health):
    POST /calls {"agent_number", "customer_number", "caller_id", "call_ref", "call_id"?}  -> 201 {"call_id"}
    POST /calls/<call_id>/hangup                                                      -> 202 | 404 | 409
    GET  /calls/<call_id>                                                             -> 200 {state, times}
    GET  /health                                                                      -> 200 {"calls": n}
The answer comes at once; what happens on the phones is reported through the outbox to the CRM webhook.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from app.sipgw.calls import Callback, Timeouts, Trunk
from app.sipgw.outbox import Outbox
from app.telephony.signing import derived_secret

log = logging.getLogger(__name__)

NUMBER = re.compile(r"^\+?[0-9*#]{3,20}$")
CALL_ID = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")
REFERENCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_BODY = 4096
KEEP_ENDED_SECONDS = 120


@dataclass
class GatewaySettings:
    sip_host: str = "127.0.0.1"
    sip_port: int = 5070
    http_host: str = "127.0.0.1"
    http_port: int = 5080
    token: str = ""
    trunk: Trunk = field(default_factory=lambda: Trunk("127.0.0.1", 5060))
    timeouts: Timeouts = field(default_factory=Timeouts)
    webhook_url: str = "http://127.0.0.1:8080/api/v1/call/events/sip_callback"
    webhook_secret: str = ""
    spool_dir: str = "instance/sip-spool"

    @classmethod
    def from_config(cls, config) -> "GatewaySettings":
        transport = str(config.get("SIP_TRUNK_TRANSPORT", "udp")).lower()
        if transport != "udp":
            raise ValueError(f"SIP_TRUNK_TRANSPORT={transport}: the gateway speaks SIP over UDP only")
        return cls(
            sip_host=config["SIP_GATEWAY_SIP_HOST"], sip_port=int(config["SIP_GATEWAY_SIP_PORT"]),
            http_host=config["SIP_GATEWAY_HTTP_HOST"], http_port=int(config["SIP_GATEWAY_HTTP_PORT"]),
            token=config.get("SIP_GATEWAY_TOKEN") or derived_secret(config["SECRET_KEY"], "sip-gateway"),
            trunk=Trunk(config["SIP_TRUNK_HOST"], int(config["SIP_TRUNK_PORT"]), transport,
                        config.get("SIP_TRUNK_USERNAME") or None, config.get("SIP_TRUNK_PASSWORD") or None),
            timeouts=Timeouts(float(config["SIP_AGENT_RING_TIMEOUT"]), float(config["SIP_CUSTOMER_RING_TIMEOUT"])),
            webhook_url=config["SIP_GATEWAY_WEBHOOK_URL"],
            webhook_secret=config.get("CALL_WEBHOOK_SECRET") or derived_secret(config["SECRET_KEY"], "call-webhook"),
            spool_dir=config["SIP_GATEWAY_SPOOL_DIR"])


def _patch_sippy_transport() -> None:
    """sippy routes only lower-case transports; SIPp and other phones send ';transport=UDP' in Contact."""
    from sippy.SipURL import SipURL

    if getattr(SipURL.getTAddr, "_lowercased", False):
        return
    original = SipURL.getTAddr

    def getTAddr(self):
        address, transport = original(self)
        return address, str(transport).lower()

    getTAddr._lowercased = True
    SipURL.getTAddr = getTAddr


class Gateway:
    """The calls in progress, owned by the SIP thread."""

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        self.calls: dict[str, Callback] = {}
        self.outbox = Outbox(settings.spool_dir, settings.webhook_url, settings.webhook_secret)
        self.global_config: dict = {}

    def start_sip(self) -> None:
        os.environ.setdefault("SIPLOG_BEND", "none")
        _patch_sippy_transport()
        from sippy.SipConf import SipConf
        from sippy.SipLogger import SipLogger
        from sippy.SipTransactionManager import SipTransactionManager

        SipConf.my_address = self.settings.sip_host
        SipConf.my_port = self.settings.sip_port
        SipConf.my_uaname = "CRM callback gateway"
        self.global_config.update({"_sip_address": self.settings.sip_host, "_sip_port": self.settings.sip_port,
                                   "_sip_logger": SipLogger("sip-gateway")})
        self.global_config["_sip_tm"] = SipTransactionManager(self.global_config, self._incoming_request)

    def _incoming_request(self, req, sip_t):
        # the gateway only originates: a request outside our dialogs is refused
        if req.getMethod() in ("OPTIONS",):
            return (req.genResponse(200, "OK"), None, None)
        return (req.genResponse(481 if req.getHFBody("to").getTag() else 403, "Not Here"), None, None)

    # the three operations below run on the SIP thread (called through ED2.callFromThreadSync)
    def originate(self, request: dict) -> str:
        call_id = request.get("call_id") or uuid.uuid4().hex
        if call_id in self.calls:
            return call_id  # the same request again (a retry): one call
        call = Callback(call_id, request["agent_number"], request["customer_number"], request["caller_id"],
                        request.get("call_ref") or "", self.global_config, self.settings.trunk,
                        self.settings.timeouts, self.outbox.put, self._finished, seat=request.get("seat") or "")
        self.calls[call_id] = call
        call.start()
        return call_id

    def hangup(self, call_id: str) -> Optional[bool]:
        call = self.calls.get(call_id)
        return None if call is None else call.hangup()

    def status(self, call_id: str) -> Optional[dict]:
        call = self.calls.get(call_id)
        return None if call is None else call.status()

    def _finished(self, call: Callback) -> None:
        from sippy.Time.Timeout import Timeout

        Timeout(lambda: self.calls.pop(call.call_id, None), KEEP_ENDED_SECONDS)


def _validate(payload) -> dict:
    """The originate request, checked; raises ValueError with what is wrong."""
    if not isinstance(payload, dict):
        raise ValueError("a JSON object is expected")
    cleaned = {}
    for key in ("agent_number", "customer_number", "caller_id"):
        value = payload.get(key)
        if not isinstance(value, str) or not NUMBER.match(value):
            raise ValueError(f"{key}: a phone number is expected")
        cleaned[key] = value
    call_id = payload.get("call_id")
    if call_id is not None:
        if not isinstance(call_id, str) or not CALL_ID.match(call_id):
            raise ValueError("call_id: 8-64 letters, digits, '.', '_' or '-'")
        cleaned["call_id"] = call_id
    for key in ("call_ref", "seat"):  # the CRM's own references, echoed in every event
        value = payload.get(key)
        if value not in (None, ""):
            if not isinstance(value, str) or not REFERENCE.match(value):
                raise ValueError(f"{key}: at most 64 letters, digits, '.', '_' or '-'")
            cleaned[key] = value
    return cleaned


def make_http_server(gateway: Gateway, call_on_sip_thread) -> ThreadingHTTPServer:
    token = gateway.settings.token

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sip-gateway"

        def log_message(self, fmt, *args):  # the CRM logs what matters; keep stderr quiet
            log.debug(fmt, *args)

        def _answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            given = self.headers.get("Authorization", "")
            return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError("request too large")
            raw = self.rfile.read(length) if length else b"{}"
            try:
                return json.loads(raw)
            except ValueError:
                raise ValueError("the body is not JSON") from None

        def do_GET(self):
            if self.path == "/health":
                return self._answer(200, {"calls": len(gateway.calls), "spooled": len(gateway.outbox.pending())})
            if not self._authorised():
                return self._answer(401, {"message": "unauthorised"})
            match = re.fullmatch(r"/calls/([^/]+)", self.path)
            status = call_on_sip_thread(gateway.status, match.group(1)) if match else None
            if status is None:
                return self._answer(404, {"message": "no such call"})
            return self._answer(200, status)

        def do_POST(self):
            if not self._authorised():
                return self._answer(401, {"message": "unauthorised"})
            try:
                payload = self._body()
                if self.path == "/calls":
                    call_id = call_on_sip_thread(gateway.originate, _validate(payload))
                    return self._answer(201, {"call_id": call_id})
            except ValueError as error:
                return self._answer(400, {"message": str(error)})
            match = re.fullmatch(r"/calls/([^/]+)/hangup", self.path)
            if not match:
                return self._answer(404, {"message": "not found"})
            ended = call_on_sip_thread(gateway.hangup, match.group(1))
            if ended is None:
                return self._answer(404, {"message": "no such call"})
            return self._answer(202 if ended else 409, {"call_id": match.group(1), "hung_up": ended})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # a burst of originates must not overflow the listen backlog (1 s SYN retry)

    return Server((gateway.settings.http_host, gateway.settings.http_port), Handler)


def run(settings: GatewaySettings) -> None:
    """Serve until SIGTERM/SIGINT; pending events stay in the spool for the next start."""
    from sippy.Core.EventDispatcher import ED2
    from sippy.Time.Timeout import Timeout

    gateway = Gateway(settings)
    gateway.start_sip()
    gateway.outbox.start()
    http = make_http_server(gateway, ED2.callFromThreadSync)
    threading.Thread(target=http.serve_forever, name="sip-gateway-http", daemon=True).start()

    def stop(*_):
        # calls in progress end properly (BYE / CANCEL, and their `ended` events) before the loop stops
        for call in list(gateway.calls.values()):
            call.hangup(by="system")
        Timeout(ED2.breakLoop, 0.5)

    ED2.regSignal(signal.SIGTERM, stop)
    ED2.regSignal(signal.SIGINT, stop)
    print(f"sip-gateway: SIP udp:{settings.sip_host}:{settings.sip_port} -> trunk "
          f"{settings.trunk.host}:{settings.trunk.port}; HTTP http://{settings.http_host}:{settings.http_port}/; "
          f"events -> {settings.webhook_url}", flush=True)
    try:
        ED2.loop()
    finally:
        http.shutdown()
        gateway.outbox.stop(drain_seconds=2.0)
        time.sleep(0)
