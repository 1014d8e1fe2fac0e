"""The call-event webhook for a tree without part 1 (app/telephony): POST /api/v1/call/events/<provider>.

Part 1's webhook (views/calls.py CallApi.events + app/telephony/events.apply_event) is the real one: when it
is in the tree, wire() in app/sipgw/__init__ does not register this, and this file can be deleted. Until then
it accepts exactly the same requests (X-Timestamp, X-Signature = hex HMAC-SHA256(secret, ts + "." + body);
one event or a list) and applies them with the same rules: idempotent by (provider, call id, event id), times
only fill in, the state only moves forward, the `ended` event's figures win.
"""
from __future__ import annotations

import json
import zlib

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select, text

from app.errors import CrmError, unit_of_work
from app.extensions import db
from app.sipgw.signing import derived_secret, verify
from models.call import DISPOSITIONS, CallEvent, CallRecord, Seat
from models.mixins import utcnow

MAX_BODY = 256 * 1024
STATE_RANK = {"dialed": 0, "agent_ringing": 1, "agent_answered": 2, "customer_ringing": 3, "answered": 4,
              "ended": 5}
KIND_STATE = {"created": "dialed", "agent_ringing": "agent_ringing", "agent_answered": "agent_answered",
              "customer_ringing": "customer_ringing", "answered": "answered", "ended": "ended"}
KIND_TIME = {"agent_answered": "agent_answered_at", "customer_ringing": "customer_ringing_at",
             "answered": "answered_at", "ended": "ended_at"}

blueprint = Blueprint("call_events_standin", __name__)


@blueprint.route("/api/v1/call/events/<provider>", methods=["POST"])
def events(provider):
    body = request.get_data(cache=False)[:MAX_BODY + 1]
    secret = current_app.config.get("CALL_WEBHOOK_SECRET") or derived_secret(current_app.config["SECRET_KEY"],
                                                                              "call-webhook")
    if not verify(secret, request.headers, body):
        return jsonify(message=_("The request signature is not valid.")), 401
    if len(body) > MAX_BODY:
        return jsonify(message=_("The request is too large.")), 413
    from app.sipgw import registered_provider

    handler = registered_provider(provider)
    if handler is None:
        return jsonify(message=_("Unknown provider: %(p)s", p=provider)), 404
    try:
        applied = [apply_event(provider, event).id for event in handler.parse_event(body)]
    except CrmError as error:
        return jsonify(message=str(error.message)), error.status
    return jsonify(ids=applied, count=len(applied))


def _lock(key: str) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode())})
    else:  # a write opens SQLite's write transaction: other writers wait (busy_timeout)
        db.session.execute(text("DELETE FROM call_event WHERE 0 = 1"))


def apply_event(provider: str, event) -> CallRecord:
    payload = json.dumps(event.data, ensure_ascii=False, default=str)
    db.session.rollback()
    with unit_of_work():
        _lock(f"call:{provider}:{event.provider_call_id}")
        record = db.session.scalar(select(CallRecord).where(CallRecord.provider == provider,
                                                            CallRecord.provider_call_id == event.provider_call_id))
        if record is not None and event.event_id and db.session.scalar(
                select(CallEvent.id).where(CallEvent.provider == provider,
                                           CallEvent.provider_call_id == event.provider_call_id,
                                           CallEvent.event_id == event.event_id).limit(1)) is not None:
            return record  # a repeat: nothing changes
        if record is None:
            record = _new_record(provider, event)
        _apply(record, event)
        db.session.add(CallEvent(provider=provider, provider_call_id=event.provider_call_id, event=event.kind,
                                 event_id=event.event_id, payload=payload, occurred_at=event.at,
                                 received_at=utcnow(), call_record_id=record.id))
    return record


def _text(value, limit):
    return str(value)[:limit] if value not in (None, "") else None


def _new_record(provider: str, event) -> CallRecord:
    data = event.data
    seat = db.session.scalar(select(Seat).where(Seat.number == str(data["seat"])[:32])) if data.get("seat") else None
    record = CallRecord(provider=provider, provider_call_id=event.provider_call_id, mode="callback",
                        direction="outbound", state="dialed", created_at=event.at or utcnow(),
                        seat_id=seat.id if seat else None, owner_id=seat.employee_id if seat else None,
                        department_id=seat.employee.department_id if seat and seat.employee else None,
                        agent_number=_text(data.get("agent_number"), 32),
                        customer_number=_text(data.get("customer_number"), 32), ring_seconds=0, talk_seconds=0)
    db.session.add(record)
    db.session.flush()
    return record


def _apply(record: CallRecord, event) -> None:
    data, at = event.data, event.at or utcnow()
    state = KIND_STATE.get(event.kind)
    if state and STATE_RANK[state] > STATE_RANK.get(record.state, 0):
        record.state = state
    column = KIND_TIME.get(event.kind)
    if column and getattr(record, column) is None:
        setattr(record, column, at)
    if event.kind == "created" and event.at and event.at < record.created_at:
        record.created_at = event.at
    if event.kind == "ended":
        record.raw_cause = record.raw_cause or _text(data.get("raw_cause"), 64)
        record.hangup_by = record.hangup_by or _text(data.get("hangup_by"), 16)
        if data.get("disposition") in dict(DISPOSITIONS):
            record.disposition = record.disposition or data["disposition"]
        for key in ("ring_seconds", "talk_seconds"):
            if isinstance(data.get(key), int) and 0 <= data[key] <= 172800:
                setattr(record, key, data[key])
    if record.last_event_at is None or at > record.last_event_at:
        record.last_event_at = at
