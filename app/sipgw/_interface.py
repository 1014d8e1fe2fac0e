"""Part 1's provider interface (app/telephony/providers.py), only for a tree where it is not merged yet.

The same names and shapes as part 1's: OriginateResult, ProviderEvent, TelephonyProvider.parse_event and
parse_time. Delete this file when app/telephony is in the tree (app/sipgw imports part 1's first).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Optional

from flask_babel import lazy_gettext as _l

from app.errors import CrmError


@dataclass
class OriginateResult:
    provider_call_id: str
    mode: str
    client_action: dict = field(default_factory=dict)


@dataclass
class ProviderEvent:
    provider_call_id: str
    kind: str
    event_id: Optional[str] = None
    at: Optional[dt.datetime] = None
    data: dict = field(default_factory=dict)


class TelephonyProvider:
    name = "base"
    mode = "callback"

    def parse_event(self, body: bytes) -> list[ProviderEvent]:
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


def parse_time(value) -> Optional[dt.datetime]:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value[:40].replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed
