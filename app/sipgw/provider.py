"""The provider `sip_callback`: the CRM's side of the SIP gateway.

originate() asks the gateway (loopback HTTP, bearer token) to ring the seat's bound phone and then the
customer, presenting the seat's display line; the gateway answers at once with its call id and reports every
step to the webhook POST /api/v1/call/events/sip_callback, which parse_event() reads (the common JSON shape).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.telephony.providers import OriginateResult, TelephonyProvider

from app.errors import CrmError
from app.telephony.signing import derived_secret

TIMEOUT_SECONDS = 5


class GatewayUnavailable(CrmError):
    status = 503


class SeatRefused(CrmError):
    status = 403


def _token(config) -> str:
    return config.get("SIP_GATEWAY_TOKEN") or derived_secret(config["SECRET_KEY"], "sip-gateway")


def _gateway(method: str, path: str, payload: Optional[dict] = None) -> tuple[int, dict]:
    config = current_app.config
    body = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(config["SIP_GATEWAY_URL"].rstrip("/") + path, data=body, method=method,
                                     headers={"Authorization": f"Bearer {_token(config)}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read() or b"{}")
        except ValueError:
            answer = {}
        return error.code, answer
    except (OSError, ValueError):
        raise GatewayUnavailable(_l("The call gateway is not reachable; please try again in a moment.")) from None


class SipCallbackProvider(TelephonyProvider):
    """双呼 over SIP: the gateway rings the agent's bound phone first, then the customer, and bridges them."""

    name = "sip_callback"
    mode = "callback"

    def originate(self, seat, customer_number: str, call_ref: str = "") -> OriginateResult:
        # the dialing service checks the seat first; checked again here so no SIP is ever sent for a seat
        # that cannot call, whoever asks
        if seat is None:
            raise SeatRefused(_l("You have no seat; ask an administrator to give you one (呼叫中心 → 坐席列表)."))
        if not seat.bound_mobile:
            raise SeatRefused(_l("Your seat %(seat)s is not bound to a mobile yet (坐席列表 → 选择 → 更换绑定).",
                                 seat=seat.number))
        if seat.status != "active":
            raise SeatRefused(_l("Your seat %(seat)s is out of service.", seat=seat.number))
        if seat.is_expired():
            raise SeatRefused(_l("Your seat %(seat)s expired on %(at)s; ask an administrator to extend it.",
                                 seat=seat.number, at=seat.expires_at.strftime("%Y-%m-%d %H:%M")))
        if not seat.display_line:
            raise SeatRefused(_l("Your seat %(seat)s has no display line; ask an administrator to set one.",
                                 seat=seat.number))
        request = {"agent_number": seat.bound_mobile, "customer_number": customer_number,
                   "caller_id": seat.display_line, "seat": seat.number}
        if call_ref:
            request["call_ref"] = call_ref
        status, answer = _gateway("POST", "/calls", request)
        if status != 201 or not answer.get("call_id"):
            raise CrmError(_l("The call gateway refused the call: %(reason)s",
                              reason=answer.get("message") or status), status=502)
        return OriginateResult(provider_call_id=answer["call_id"], mode=self.mode, client_action={})

    def hangup(self, provider_call_id: str) -> None:
        """挂断: both legs end (a ringing leg is cancelled); a call that already ended is left as it is."""
        status, answer = _gateway("POST", f"/calls/{provider_call_id}/hangup")
        if status not in (202, 404, 409):
            raise CrmError(_l("The call gateway refused the call: %(reason)s",
                              reason=answer.get("message") or status), status=502)

    def fetch_recording(self, record) -> Optional[str]:
        return None  # the media flows phone to phone: the gateway records nothing
