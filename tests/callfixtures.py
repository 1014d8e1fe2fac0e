"""Builders for the call-center tests: seats bound to employees, signed webhook requests."""
from __future__ import annotations

import datetime as dt
import itertools
import json
import time

from sqlalchemy import select

from app import seats
from app.extensions import db
from app.telephony import events, signing
from models.call import Seat, VerificationCode
from models.mixins import utcnow

_numbers = itertools.count(11201)
_mobiles = itertools.count(13900000000)


def seat(employee=None, days=30, bound=True, **extra) -> Seat:
    """A seat; with `employee`, bound to them and to a fresh mobile (the binding goes through the SMS code)."""
    created = seats.create_seat({"number": str(next(_numbers)), "name": "坐席账号", "provider": "device",
                                 "expires_at": utcnow() + dt.timedelta(days=days), **extra})
    if employee is not None:
        mobile = str(next(_mobiles))
        code = send_and_read(created.id, mobile)
        seats.bind(created.id, mobile, code, employee.id)
        if not bound:
            created = db.session.get(Seat, created.id)
            created.bound_mobile = None
            db.session.commit()
    return db.session.get(Seat, created.id)


def send_and_read(seat_id, mobile) -> str:
    """Ask for a code and read it from the outbox, as an administrator would."""
    seats.send_binding_code(seat_id, mobile)
    return latest_code(mobile)


def latest_code(mobile) -> str:
    from models.call import SmsMessage

    from app.phone import normalise_mobile

    text = db.session.scalar(select(SmsMessage.text).where(SmsMessage.mobile == normalise_mobile(mobile))
                             .order_by(SmsMessage.id.desc()).limit(1))
    return "".join(ch for ch in text if ch.isdigit())[:6]


def age_codes(mobile, minutes):
    """Move a number's codes into the past (the clock moves on)."""
    for code in db.session.scalars(select(VerificationCode).where(VerificationCode.mobile == mobile)):
        code.created_at -= dt.timedelta(minutes=minutes)
        code.expires_at -= dt.timedelta(minutes=minutes)
    db.session.commit()


def signed(body, timestamp=None, secret=None) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    return raw, {"X-Timestamp": stamp, "X-Signature": signing.signature(secret or events.webhook_secret(), stamp, raw),
                 "Content-Type": "application/json"}
