"""Call center: seats (坐席), SMS verification, call records and the raw provider events.

This file is the contract between the call-center screens, the telephony providers (the device provider and
the SIP gateway) and the data center's call statistics: the column names below are read by all three.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.mixins import OwnedMixin, TimestampMixin, utcnow

# dispositions, as stable codes; the raw provider cause is kept beside them in CallRecord.raw_cause
DISPOSITIONS = [
    ("answered", _l("Connected")),          # 接通
    ("busy", _l("Busy")),                   # 忙
    ("no_answer", _l("No answer")),         # 无人接听
    ("agent_no_answer", _l("Agent did not answer")),  # 坐席未接
    ("invalid_number", _l("Invalid number")),         # 空号
    ("cancelled", _l("Cancelled")),         # 取消
    ("failed", _l("Failed")),               # 失败
]
CALL_STATES = [
    ("dialed", _l("Dialed")),               # 已拨出
    ("agent_ringing", _l("Ringing the agent")),
    ("agent_answered", _l("Agent answered")),
    ("customer_ringing", _l("Ringing the customer")),
    ("answered", _l("Talking")),
    ("ended", _l("Ended")),
]
SEAT_STATUSES = [("active", _l("In service")), ("disabled", _l("Out of service"))]


class Seat(TimestampMixin, Model):
    """坐席: a line the company rents; bound by SMS code to a mobile and assigned to at most one employee."""

    __tablename__ = "seat"
    label_column = "number"
    field_labels = {
        "name": _l("Seat name"), "number": _l("Seat number"), "provider": _l("Provider"),
        "display_line": _l("Display line"), "expires_at": _l("Subscription end"),
        "bound_mobile": _l("Bound mobile"), "employee": _l("Employee"), "status": _l("Status"),
        "remaining_badge": _l("Time left"), "remaining": _l("Time left"), "employee_name": _l("Employee"),
        "choose_link": _l("Action"), "bound_at": _l("Bound at"),
    }
    value_labels = {"status": dict(SEAT_STATUSES)}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False, default="device")
    display_line: Mapped[Optional[str]] = mapped_column(String(32))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    bound_mobile: Mapped[Optional[str]] = mapped_column(String(11))
    bound_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # one seat per employee, one employee per seat: the unique index decides under concurrency
    employee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")

    employee = relationship("Employee", foreign_keys=[employee_id], lazy="joined")

    def is_expired(self, now: Optional[dt.datetime] = None) -> bool:
        return self.expires_at <= (now or utcnow())

    def remaining(self, now: Optional[dt.datetime] = None) -> str:
        """剩余3142天6小时34分钟, or 已过期 (the list marks it)."""
        from flask_babel import gettext

        left = self.expires_at - (now or utcnow())
        if left.total_seconds() <= 0:
            return gettext("Expired")
        minutes = int(left.total_seconds() // 60)
        return gettext("%(d)d days %(h)d hours %(m)d minutes left", d=minutes // 1440, h=minutes % 1440 // 60,
                       m=minutes % 60)

    def remaining_badge(self):
        from markupsafe import Markup, escape

        colour = "#d9534f" if self.is_expired() else "#333"
        return Markup('<span class="crm-seat-remaining" style="color:%s">%s</span>') % (colour,
                                                                                         escape(self.remaining()))

    def employee_name(self) -> str:
        return self.employee.first_name if self.employee else ""

    def choose_link(self):
        """选择 → 更换绑定 (the manual's button on each row)."""
        from flask import url_for
        from flask_babel import gettext
        from markupsafe import Markup

        return Markup('<a class="btn btn-xs btn-primary crm-seat-choose" href="%s">%s</a> '
                      '<a class="btn btn-xs btn-default crm-seat-extend" href="%s">%s</a>') % (
            url_for("SeatView.bind", pk=self.id), gettext("Choose"), url_for("SeatView.extend", pk=self.id),
            gettext("Extend"))

    def option_label(self) -> str:
        """坐席账号1(剩余3142天6小时34分钟), as the employee form's 绑定坐席 lists it."""
        return f"{self.number} {self.name}({self.remaining()})"

    def __repr__(self) -> str:
        return self.number


class SmsMessage(Model):
    """The SMS outbox: every message the gateway sent (or, with the default gateway, would have sent)."""

    __tablename__ = "sms_message"
    __table_args__ = (Index("ix_sms_message_mobile_at", "mobile", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), nullable=False)
    text: Mapped[str] = mapped_column(String(255), nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False, default="seat_binding")
    gateway: Mapped[str] = mapped_column(String(32), nullable=False, default="outbox")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="sent")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class VerificationCode(Model):
    """A one-time SMS code, stored hashed; expires, and allows a few tries."""

    __tablename__ = "verification_code"
    __table_args__ = (Index("ix_verification_code_mobile_at", "mobile", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False, default="seat_binding")
    seat_id: Mapped[Optional[int]] = mapped_column(ForeignKey("seat.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class CallRecord(OwnedMixin, Model):
    """通话记录. owner_id is the employee who made the call (the data scope applies to it), department_id
    their department at the time; (provider, provider_call_id) makes every event idempotent."""

    __tablename__ = "call_record"
    label_column = "customer_number"
    field_labels = {
        "owner": _l("Employee"), "owner_name": _l("Employee"), "department": _l("Department"),
        "seat": _l("Seat"), "customer": _l("Customer"), "contact": _l("Contact"),
        "agent_number": _l("Agent number"), "customer_number": _l("Customer number"), "mode": _l("Mode"),
        "direction": _l("Direction"), "state": _l("Call state"), "disposition": _l("Disposition"),
        "raw_cause": _l("Raw cause"), "hangup_by": _l("Hung up by"), "created_at": _l("Dialed at"),
        "agent_answered_at": _l("Agent answered at"), "customer_ringing_at": _l("Customer ringing at"),
        "answered_at": _l("Answered at"), "ended_at": _l("Ended at"), "ring_seconds": _l("Ring seconds"),
        "talk_seconds": _l("Talk seconds"), "recording_status": _l("Recording"),
        "recording_url": _l("Recording URL"), "note": _l("Note"), "provider": _l("Provider"),
    }
    value_labels = {"disposition": dict(DISPOSITIONS), "state": dict(CALL_STATES)}
    __table_args__ = (
        UniqueConstraint("provider", "provider_call_id", name="uq_call_record_provider_call"),
        # list and statistics shapes: by employee and time, by department and time, by customer, by time
        Index("ix_call_record_owner_created", "owner_id", "created_at"),
        Index("ix_call_record_department_created", "department_id", "created_at"),
        Index("ix_call_record_customer_created", "customer_id", "created_at"),
        Index("ix_call_record_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    provider_call_id: Mapped[str] = mapped_column(String(64), nullable=False)
    seat_id: Mapped[Optional[int]] = mapped_column(ForeignKey("seat.id", ondelete="SET NULL"))
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    contact_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    agent_number: Mapped[Optional[str]] = mapped_column(String(32))
    customer_number: Mapped[Optional[str]] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="device")  # device | callback
    direction: Mapped[str] = mapped_column(String(16), nullable=False, default="outbound")
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="dialed")
    disposition: Mapped[Optional[str]] = mapped_column(String(16))
    raw_cause: Mapped[Optional[str]] = mapped_column(String(64))
    hangup_by: Mapped[Optional[str]] = mapped_column(String(16))  # agent | customer | crm | system
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    agent_answered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    customer_ringing_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    answered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    ended_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    ring_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    talk_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recording_status: Mapped[Optional[str]] = mapped_column(String(16))
    recording_url: Mapped[Optional[str]] = mapped_column(String(255))
    note: Mapped[Optional[str]] = mapped_column(Text)
    # the newest event applied, so a late or repeated event cannot move the record backwards
    last_event_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    seat = relationship("Seat", lazy="joined")
    customer = relationship("Customer", lazy="joined")
    contact = relationship("Contact", lazy="select")

    def disposition_label(self) -> str:
        return str(dict(DISPOSITIONS).get(self.disposition, self.disposition or ""))

    def __repr__(self) -> str:
        return self.customer_number or str(self.id)


class CallEvent(Model):
    """Every provider event as received (raw payload), for the console and for replays."""

    __tablename__ = "call_event"
    __table_args__ = (
        Index("ix_call_event_call", "provider", "provider_call_id"),
        Index("ix_call_event_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    provider_call_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    event_id: Mapped[Optional[str]] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    occurred_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    call_record_id: Mapped[Optional[int]] = mapped_column(ForeignKey("call_record.id", ondelete="SET NULL"))
