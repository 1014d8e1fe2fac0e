"""The provider interface and its registry. A seat names its provider; the dialing service and the
webhook look it up here. `device` (the default) needs no server: the employee's own phone dials."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import quote

from flask_babel import lazy_gettext as _l

from app.errors import CrmError


@dataclass
class OriginateResult:
    provider_call_id: str
    mode: str  # device | callback
    client_action: dict = field(default_factory=dict)  # what the screen does next, e.g. {"tel": "tel:138..."}


@dataclass
class ProviderEvent:
    """One call event in the providers' common shape (see app/telephony/events.py for how it is applied)."""

    provider_call_id: str
    kind: str  # created | agent_ringing | agent_answered | customer_ringing | answered | ended | recording_ready
    event_id: Optional[str] = None
    at: Optional[dt.datetime] = None
    data: dict = field(default_factory=dict)


class TelephonyProvider:
    name = "base"
    mode = "callback"

    def originate(self, seat, customer_number: str, call_ref: str) -> OriginateResult:
        raise NotImplementedError

    def hangup(self, provider_call_id: str) -> None:
        raise NotImplementedError

    def parse_event(self, body: bytes) -> list[ProviderEvent]:
        """The webhook body (already signature-checked) -> events; the common JSON shape by default:
        {"call_id", "event", "event_id", "at", ...fields} or a list of them."""
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise CrmError(_l("The request body must be a JSON object."))
        items = payload if isinstance(payload, list) else [payload]
        events = []
        for item in items[:100]:
            if not isinstance(item, dict) or not isinstance(item.get("call_id"), str) \
                    or not isinstance(item.get("event"), str):
                raise CrmError(_l('Each event needs "call_id" and "event".'))
            events.append(ProviderEvent(provider_call_id=item["call_id"][:64], kind=item["event"][:32],
                                        event_id=str(item["event_id"])[:64] if item.get("event_id") else None,
                                        at=parse_time(item.get("at")), data=item))
        return events

    def fetch_recording(self, record) -> Optional[str]:
        return record.recording_url


class DeviceProvider(TelephonyProvider):
    """The employee's phone dials: a tel: link on a phone, a tel: QR code on a PC. No events come back
    by themselves; the employee reports the outcome, which is applied as an `ended` event."""

    name = "device"
    mode = "device"

    def originate(self, seat, customer_number, call_ref):
        return OriginateResult(provider_call_id=f"device-{uuid.uuid4().hex}", mode=self.mode,
                               client_action={"tel": "tel:" + quote(customer_number)})

    def hangup(self, provider_call_id):
        return None  # the phone hangs up itself

    def fetch_recording(self, record):
        return None  # a phone call made by the device is not recorded by the CRM


PROVIDERS: dict[str, type[TelephonyProvider]] = {DeviceProvider.name: DeviceProvider}


def provider(name: str) -> TelephonyProvider:
    cls = PROVIDERS.get(name)
    if cls is None:
        raise CrmError(_l("Unknown provider: %(p)s", p=name), status=404)
    return cls()


def parse_time(value) -> Optional[dt.datetime]:
    """ISO 8601 or epoch seconds -> naive UTC; anything else -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, dt.timezone.utc).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value[:40].replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return parsed
    return None
