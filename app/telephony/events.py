"""Call events -> CallRecord, idempotently. The key is (provider, provider call id); an event seen before
(same event id, or the same kind and content) changes nothing; times only fill in, the state only moves
forward, and durations come from the final event or from the times, so any order of the same events
leaves the same record. Every event is kept raw in CallEvent. The webhook's signature check is here too."""
from __future__ import annotations

import json
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import CrmError, unit_of_work
from app.extensions import db
from app.locks import serialise
from app.telephony import signing
from app.telephony.providers import ProviderEvent
from models.call import DISPOSITIONS, CallEvent, CallRecord, Seat
from models.crm import Customer
from models.mixins import utcnow

STATE_RANK = {"dialed": 0, "agent_ringing": 1, "agent_answered": 2, "customer_ringing": 3, "answered": 4,
              "ended": 5}
KIND_STATE = {"created": "dialed", "agent_ringing": "agent_ringing", "agent_answered": "agent_answered",
              "customer_ringing": "customer_ringing", "answered": "answered", "ended": "ended"}
KIND_TIME = {"agent_answered": "agent_answered_at", "customer_ringing": "customer_ringing_at",
             "answered": "answered_at", "ended": "ended_at"}
KINDS = set(KIND_STATE) | {"recording_ready"}


class BadSignature(CrmError):
    status = 401


def webhook_secret() -> str:
    # config.py derives it from SECRET_KEY when CALL_WEBHOOK_SECRET is not set; the gateway derives the same
    return current_app.config.get("CALL_WEBHOOK_SECRET") or signing.derived_secret(
        current_app.config["SECRET_KEY"], "call-webhook")


REFUSALS = {"unsigned": _l("The request is not signed."),
            "window": _l("The request timestamp is outside the allowed window."),
            "invalid": _l("The request signature is not valid.")}


def verify_signature(headers, body: bytes, now: Optional[float] = None) -> None:
    """X-Timestamp (unix seconds) within 5 minutes, X-Signature = hex HMAC-SHA256(secret, ts + "." + body)."""
    reason = signing.refusal(webhook_secret(), headers, body, now)
    if reason is not None:
        raise BadSignature(REFUSALS[reason])


def _int(value) -> Optional[int]:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 86400 * 2 else None


def _str(value, limit: int) -> Optional[str]:
    return str(value)[:limit] if value not in (None, "") else None


def apply_event(provider_name: str, event: ProviderEvent, raw: Optional[str] = None) -> CallRecord:
    """One event, in its own transaction under a lock on the call."""
    if event.kind not in KINDS:
        raise CrmError(_l("Unknown call event: %(e)s", e=event.kind))
    payload = raw if raw is not None else json.dumps(event.data, ensure_ascii=False, default=str)
    db.session.rollback()
    with unit_of_work():
        serialise(f"call:{provider_name}:{event.provider_call_id}")
        record = db.session.scalar(select(CallRecord).where(CallRecord.provider == provider_name,
                                                            CallRecord.provider_call_id == event.provider_call_id))
        seen = select(CallEvent.id).where(CallEvent.provider == provider_name,
                                          CallEvent.provider_call_id == event.provider_call_id)
        if event.event_id:
            seen = seen.where(CallEvent.event_id == event.event_id)
        else:
            seen = seen.where(CallEvent.event == event.kind, CallEvent.payload == payload)
        if record is not None and db.session.scalar(seen.limit(1)) is not None:
            return record  # a repeat: nothing changes
        if record is None:
            record = _new_record(provider_name, event)
        _apply(record, event)
        db.session.add(CallEvent(provider=provider_name, provider_call_id=event.provider_call_id, event=event.kind,
                                 event_id=event.event_id, payload=payload[:65535], occurred_at=event.at,
                                 received_at=utcnow(), call_record_id=record.id))
    return record


def _new_record(provider_name: str, event: ProviderEvent) -> CallRecord:
    """A call the CRM did not start (e.g. dialed from the gateway): owned by the seat's employee."""
    record = CallRecord(provider=provider_name, provider_call_id=event.provider_call_id, mode="callback",
                        direction=_str(event.data.get("direction"), 16) or "outbound", state="dialed",
                        created_at=event.at or utcnow(), ring_seconds=0, talk_seconds=0)
    db.session.add(record)
    db.session.flush()
    return record


def _take_seat(record: CallRecord, data: dict) -> None:
    """The seat named by any event gives the record its seat, employee and department (once)."""
    if record.seat_id is not None or not data.get("seat"):
        return
    seat = db.session.scalar(select(Seat).where(Seat.number == str(data["seat"])[:32]))
    if seat is None:
        return
    record.seat_id = seat.id
    if record.owner_id is None and seat.employee is not None:
        record.owner_id = seat.employee_id
        record.department_id = seat.employee.department_id


def _apply(record: CallRecord, event: ProviderEvent) -> None:
    data = event.data
    at = event.at or utcnow()
    state = KIND_STATE.get(event.kind)
    if state and STATE_RANK[state] > STATE_RANK.get(record.state, 0):
        record.state = state
    column = KIND_TIME.get(event.kind)
    if column and getattr(record, column) is None:
        setattr(record, column, at)
    if event.at and event.at < record.created_at:
        record.created_at = event.at
    _take_seat(record, data)
    for key, limit in (("agent_number", 32), ("customer_number", 32)):
        if getattr(record, key) is None and data.get(key):
            setattr(record, key, _str(data[key], limit))
    if event.kind == "ended":
        record.raw_cause = record.raw_cause or _str(data.get("raw_cause") or data.get("cause"), 64)
        record.hangup_by = record.hangup_by or _str(data.get("hangup_by"), 16)
    if event.kind == "recording_ready" or data.get("recording_url"):
        record.recording_url = record.recording_url or _str(data.get("recording_url"), 255)
        record.recording_status = "ready" if record.recording_url else (record.recording_status or "pending")
    _durations(record, event)
    if record.last_event_at is None or at > record.last_event_at:
        record.last_event_at = at
    if record.disposition == "answered":
        counts_as_contact(record)


def _durations(record: CallRecord, event: ProviderEvent) -> None:
    """Ring and talk seconds: the final (ended) event's own figures win, else they come from the times;
    both inputs only fill in, so the same events in any order give the same figures."""
    explicit = {}
    endings = [event.data] if event.kind == "ended" else []
    endings += [json.loads(p) for p in db.session.scalars(
        select(CallEvent.payload).where(CallEvent.call_record_id == record.id, CallEvent.event == "ended")
        .order_by(CallEvent.id))]
    for payload in endings:
        for key in ("ring_seconds", "talk_seconds"):
            value = _int(payload.get(key)) if isinstance(payload, dict) else None
            if value is not None:
                explicit.setdefault(key, value)
        if isinstance(payload, dict) and payload.get("disposition") in dict(DISPOSITIONS):
            explicit.setdefault("disposition", payload["disposition"])
    if record.state == "ended":
        record.disposition = explicit.get("disposition") or ("answered" if record.answered_at else "failed")
    talk = 0
    if record.answered_at and record.ended_at and record.ended_at > record.answered_at:
        talk = int((record.ended_at - record.answered_at).total_seconds())
    ring = 0
    ring_to = record.answered_at or record.ended_at
    if record.customer_ringing_at and ring_to and ring_to > record.customer_ringing_at:
        ring = int((ring_to - record.customer_ringing_at).total_seconds())
    record.talk_seconds = explicit.get("talk_seconds", talk)
    record.ring_seconds = explicit.get("ring_seconds", ring)


def counts_as_contact(record: CallRecord) -> None:
    """A connected call is contact, like a follow-up: it moves the customer's last-follow-up time, which
    the pool's automatic return reads."""
    if record.customer_id is None:
        return
    when = record.answered_at or record.ended_at or record.created_at
    customer = db.session.get(Customer, record.customer_id)
    if customer is not None and customer.owner_id is not None and (
            customer.last_followup_at is None or customer.last_followup_at < when):
        customer.last_followup_at = when
