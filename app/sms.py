"""SMS gateway interface and the one-time verification codes it carries (更换绑定 of a seat).

The gateway is a setting (SMS_GATEWAY): `outbox` (default) keeps every message in the SmsMessage table for
administrators to read; `http` posts it to SMS_HTTP_URL (a vendor's or an in-house relay). Codes are stored
as an HMAC (never in clear), expire after 5 minutes, allow 5 tries; a number may ask once a minute and
10 times a day. Each check-then-write runs under a lock on the number (app/locks.py).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import urllib.request
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.errors import CrmError, unit_of_work
from app.extensions import db
from app.locks import serialise
from app.phone import normalise_mobile
from models.call import SmsMessage, VerificationCode
from models.mixins import utcnow

CODE_TTL = dt.timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = dt.timedelta(minutes=1)
DAILY_LIMIT = 10
CHINA = dt.timedelta(hours=8)  # "a day" is a calendar day in China


class SmsGateway:
    name = "base"

    def send(self, mobile: str, text: str, purpose: str) -> SmsMessage:
        raise NotImplementedError


class OutboxGateway(SmsGateway):
    """Sends nothing: the message is kept in the outbox (呼叫中心 → 短信发件箱) for an administrator."""

    name = "outbox"

    def send(self, mobile, text, purpose):
        message = SmsMessage(mobile=mobile, text=text, purpose=purpose, gateway=self.name, status="sent",
                             created_at=utcnow())
        db.session.add(message)
        return message


class HttpGateway(SmsGateway):
    """POSTs {"mobile", "text"} as JSON to SMS_HTTP_URL; the outbox still records what was sent."""

    name = "http"

    def send(self, mobile, text, purpose):
        url = current_app.config.get("SMS_HTTP_URL")
        if not url:
            raise CrmError(_l("The SMS gateway is not configured."), status=503)
        request = urllib.request.Request(url, data=json.dumps({"mobile": mobile, "text": text}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                ok = 200 <= answer.status < 300
        except OSError:
            ok = False
        if not ok:
            raise CrmError(_l("The SMS could not be sent; please try again later."), status=502)
        message = SmsMessage(mobile=mobile, text=text, purpose=purpose, gateway=self.name, status="sent",
                             created_at=utcnow())
        db.session.add(message)
        return message


GATEWAYS = {gateway.name: gateway for gateway in (OutboxGateway, HttpGateway)}


def gateway() -> SmsGateway:
    name = current_app.config.get("SMS_GATEWAY", "outbox")
    return GATEWAYS.get(name, OutboxGateway)()


def _hash(mobile: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def _day_start(now: dt.datetime) -> dt.datetime:
    local = now + CHINA
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - CHINA


def send_code(mobile, purpose: str = "seat_binding", seat_id: Optional[int] = None,
              now: Optional[dt.datetime] = None) -> VerificationCode:
    """获取验证码: a new 6-digit code for `mobile`, sent through the gateway; refusals say why."""
    mobile = normalise_mobile(mobile, field="mobile")
    db.session.rollback()  # the lock must be the transaction's first statement
    with unit_of_work():
        serialise(f"sms:{mobile}")
        now = now or utcnow()
        last = db.session.scalar(select(func.max(VerificationCode.created_at)).where(
            VerificationCode.mobile == mobile))
        if last is not None and now - last < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - last)).total_seconds()) + 1
            raise CrmError(_l("A code was sent to this number less than a minute ago; please wait %(n)d seconds.",
                              n=wait), field="mobile", status=429)
        today = db.session.scalar(select(func.count()).select_from(VerificationCode).where(
            VerificationCode.mobile == mobile, VerificationCode.created_at >= _day_start(now)))
        if today >= DAILY_LIMIT:
            raise CrmError(_l("This number has asked for %(n)d codes today, the most allowed; please try again "
                              "tomorrow.", n=DAILY_LIMIT), field="mobile", status=429)
        code = f"{secrets.randbelow(10 ** 6):06d}"
        record = VerificationCode(mobile=mobile, purpose=purpose, seat_id=seat_id, code_hash=_hash(mobile, code),
                                  attempts=0, created_at=now, expires_at=now + CODE_TTL)
        db.session.add(record)
        text = str(_l("Your verification code is %(code)s, valid for 5 minutes. Do not share it.", code=code))
        gateway().send(mobile, text, purpose)
    return record


def check_code(mobile: str, code, purpose: str = "seat_binding", seat_id: Optional[int] = None,
               now: Optional[dt.datetime] = None) -> VerificationCode:
    """Use up the newest code for the number (inside the caller's transaction, which must hold the lock
    on the number: see verify()). Every wrong try counts; the 6th is refused whatever the code."""
    now = now or utcnow()
    code = str(code or "").strip()
    record = db.session.scalar(select(VerificationCode).where(
        VerificationCode.mobile == mobile, VerificationCode.purpose == purpose,
        VerificationCode.used_at.is_(None)).order_by(VerificationCode.created_at.desc(),
                                                     VerificationCode.id.desc()).limit(1))
    if record is None or (seat_id is not None and record.seat_id not in (None, seat_id)):
        raise CrmError(_l("No code was sent to this number; please click 获取验证码 first."), field="code")
    if record.expires_at <= now:
        raise CrmError(_l("The code has expired (codes are valid for 5 minutes); please ask for a new one."),
                       field="code")
    if record.attempts >= MAX_TRIES:
        raise CrmError(_l("Too many wrong tries for this code; please ask for a new one."), field="code")
    ok = bool(code) and hmac.compare_digest(record.code_hash, _hash(mobile, code))
    if not ok:
        # counted in its own statement so a refusal that rolls back the rest still keeps the try
        db.session.execute(update(VerificationCode).where(VerificationCode.id == record.id)
                           .values(attempts=VerificationCode.attempts + 1))
        db.session.commit()
        left = MAX_TRIES - record.attempts
        if left <= 0:
            raise CrmError(_l("Too many wrong tries for this code; please ask for a new one."), field="code")
        raise CrmError(_l("The code is wrong; %(n)d tries left.", n=left), field="code")
    record.used_at = now
    return record
