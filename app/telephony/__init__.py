"""The one dialing service: 拨号 on the customer or contact detail, 呼叫 from the customer list's search box,
拨打电话 and the 拨号盘 on the phone site, and the API all call dial(). It checks, in this order, each with its
own message: the caller has a seat, it is theirs, bound, in service and not expired; the customer (or
contact) is in their data scope; their role may dial; a customer or contact dialed on the employee's own
phone (the `device` provider) has a number they may see in full (see number_access); the number can be
dialed. Then the seat's provider originates and the call record starts as 已拨出.

An employee whose role masks or hides the customers' 手机 never gets a customer's full number from the
call center: the device provider's tel: link would show it, so they call customers through a callback
line (双呼: the platform rings both phones), and every page and answer shows the number as their role
allows (number_access, shown_number, dial_link)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import fieldperms, scopes
from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.locks import serialise
from app.phone import normalise_dialable
from app.telephony.events import apply_event
from app.telephony.providers import ProviderEvent, provider
from models.call import DISPOSITIONS, CallRecord, Seat
from models.crm import Contact, Customer
from models.mixins import utcnow
from models.org import Employee

DIAL_PERMISSION = ("can_view", "line")  # 线路管理 → 查看: the role may use a line


class NoSeat(CrmError):
    status = 403


class NumberNotShown(CrmError):
    status = 403


@dataclass
class DialResult:
    record: CallRecord
    client_action: dict


def may_dial(user: Employee) -> bool:
    return DIAL_PERMISSION in current_app.appbuilder.sm.permission_pairs(user)


def check_seat(user: Employee, seat_id=None) -> Seat:
    seat = db.session.scalar(select(Seat).where(Seat.employee_id == user.id))
    if seat_id not in (None, ""):
        try:
            chosen = db.session.get(Seat, int(seat_id))
        except (TypeError, ValueError):
            chosen = None
        if chosen is None or chosen.employee_id != user.id:
            raise NoSeat(_l("This seat is not yours."), field="seat")
        seat = chosen
    if seat is None:
        raise NoSeat(_l("You have no seat; ask an administrator to give you one (呼叫中心 → 坐席列表)."), field="seat")
    if not seat.bound_mobile:
        raise NoSeat(_l("Your seat %(seat)s is not bound to a mobile yet (坐席列表 → 选择 → 更换绑定).",
                        seat=seat.number), field="seat")
    if seat.status != "active":
        raise NoSeat(_l("Your seat %(seat)s is out of service.", seat=seat.number), field="seat")
    if seat.is_expired():
        raise NoSeat(_l("Your seat %(seat)s expired on %(at)s; ask an administrator to extend it.",
                        seat=seat.number, at=seat.expires_at.strftime("%Y-%m-%d %H:%M")), field="seat")
    return seat


def _reachable(model, record_id, user):
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        record_id = None
    found = None
    if record_id is not None:
        found = db.session.scalar(select(model).where(model.id == record_id, scopes.reachable(model, user)))
    if found is None:
        raise NotFound(_l("This record does not exist."))
    return found


def dial(user: Employee, customer_id=None, contact_id=None, number=None, seat_id=None) -> DialResult:
    """Start a call. Exactly one of customer, contact or number; the number shown on a page is never
    trusted: a customer or contact is dialed by its record id."""
    given = [v for v in (customer_id, contact_id, number) if v not in (None, "")]
    if len(given) != 1:
        raise CrmError(_l('Give one of "customer", "contact" or "number".'))
    seat = check_seat(user, seat_id)
    customer = contact = None
    if customer_id not in (None, ""):
        customer = _reachable(Customer, customer_id, user)
        raw, field = customer.mobile, "customer"
    elif contact_id not in (None, ""):
        contact = _reachable(Contact, contact_id, user)
        customer = contact.customer
        raw, field = contact.mobile, "contact"
    else:
        raw, field = number, "number"
    if not may_dial(user):
        raise CrmError(_l("Your role may not make calls."), status=403)
    own_phone = provider(seat.provider).mode == "device"
    if field != "number" and own_phone and not fieldperms.sees_call_numbers(user):
        # the tel: link (and its QR code) would hand the employee the full number: nothing is dialed or written
        raise NumberNotShown(_l("Your role cannot see customers' full numbers, and dialing on your own phone "
                                "would show the number; please call through a callback line (双呼)."), field=field)
    if raw in (None, ""):
        raise CrmError(_l("This record has no phone number to dial."), field=field)
    if not isinstance(raw, (str, int)) or len(str(raw)) > 40:
        raise CrmError(_l("This is not a phone number that can be dialed."), field=field)
    customer_number = normalise_dialable(raw, field=field)
    if customer is None and field == "number" and fieldperms.sees_call_numbers(user):
        # a typed number of a customer the caller can reach is linked to that customer; not for an employee who
        # may not see customers' numbers: the link would tell them whose number they typed, one guess at a time
        customer = db.session.scalar(select(Customer).where(Customer.mobile == customer_number,
                                                            scopes.reachable(Customer, user)))
    answer = provider(seat.provider).originate(seat, customer_number, call_ref="")
    with unit_of_work():
        # a server-side provider (the SIP gateway) may report the call's first events before this insert: the
        # webhook then made the record already, and the dial fills in who and what (one lock per call id)
        serialise(f"call:{seat.provider}:{answer.provider_call_id}")
        record = db.session.scalar(select(CallRecord).where(CallRecord.provider == seat.provider,
                                                            CallRecord.provider_call_id == answer.provider_call_id))
        if record is None:
            record = CallRecord(provider=seat.provider, provider_call_id=answer.provider_call_id, state="dialed",
                                created_at=utcnow(), ring_seconds=0, talk_seconds=0)
            db.session.add(record)
        record.seat_id, record.mode, record.direction = seat.id, answer.mode, "outbound"
        record.customer_id = customer.id if customer else None
        record.contact_id = contact.id if contact else None
        record.agent_number, record.customer_number = seat.bound_mobile, customer_number
        record.owner_id, record.department_id = user.id, user.department_id
    return DialResult(record=record, client_action=answer.client_action)


def number_access(user: Employee, record: CallRecord) -> str:
    """How the employee may see this call's customer number: as their role shows customers' and contacts'
    手机 (fieldperms.call_number_access), except a number they typed themselves (their call, linked to no
    customer or contact), which is theirs in full."""
    if record.customer_id is None and record.contact_id is None and record.owner_id == user.id:
        return fieldperms.EDITABLE
    return fieldperms.call_number_access(user)


def shown_number(user: Employee, record: CallRecord, hidden: Optional[str] = "***") -> Optional[str]:
    """The call's customer number as this employee may see it (pages: *** for a hidden one)."""
    return fieldperms.shown_value(record.customer_number or "", number_access(user, record), hidden)


def dial_link(user: Employee, record: CallRecord) -> Optional[str]:
    """The tel: link of a device call for its page (and its QR code), or None: a callback call needs none,
    and an employee who may not see the number gets none (a call made before their role hid it)."""
    if record.mode != "device" or not record.customer_number:
        return None
    if number_access(user, record) not in fieldperms.SEARCHABLE:
        return None
    return "tel:" + quote(record.customer_number)


def own_call(user: Employee, call_id) -> CallRecord:
    """A call record within the user's data scope, or 404."""
    try:
        call_id = int(call_id)
    except (TypeError, ValueError):
        call_id = None
    record = None
    if call_id is not None:
        record = db.session.scalar(select(CallRecord).where(CallRecord.id == call_id,
                                                            scopes.visible_to(CallRecord, user)))
    if record is None:
        raise NotFound(_l("This call does not exist."))
    return record


def hang_up(user: Employee, call_id) -> CallRecord:
    """挂断 from the CRM: the employee who made the call ends it; a server-side provider (the SIP gateway)
    ends both legs and reports the end through its events. A call that has ended already is a 409."""
    record = own_call(user, call_id)
    if record.owner_id != user.id:
        raise CrmError(_l("Only the employee who made the call can hang it up."), status=403)
    if record.state == "ended":
        raise CrmError(_l("This call has ended already."), status=409)
    provider(record.provider).hangup(record.provider_call_id)
    return record


def record_outcome(user: Employee, call_id, disposition, talk_seconds=0, note=None) -> CallRecord:
    """The device provider's small form: the employee says how the call went (the CRM never guesses
    "answered"). Applied as the call's `ended` event, once."""
    record = own_call(user, call_id)
    if record.owner_id != user.id:
        raise CrmError(_l("Only the employee who made the call records its outcome."), status=403)
    if disposition not in dict(DISPOSITIONS):
        raise CrmError(_l("Please choose how the call went."), field="disposition")
    try:
        talk_seconds = int(talk_seconds or 0)
    except (TypeError, ValueError):
        raise CrmError(_l("Talk time must be a whole number of seconds."), field="talk_seconds")
    if not 0 <= talk_seconds <= 86400:
        raise CrmError(_l("Talk time must be between 0 and 86400 seconds."), field="talk_seconds")
    if disposition != "answered" and talk_seconds:
        raise CrmError(_l("Only a connected call has talk time."), field="talk_seconds")
    note = (note or "").strip()
    if len(note) > 2000:
        raise CrmError(_l("At most %(n)d characters.", n=2000), field="note")
    if record.state == "ended":
        raise CrmError(_l("The outcome of this call is already recorded."), status=409)
    now = utcnow()
    data = {"call_id": record.provider_call_id, "event": "ended", "disposition": disposition,
            "talk_seconds": talk_seconds, "hangup_by": "agent", "source": "outcome_form"}
    if disposition == "answered":
        answered_at = max(record.created_at, now - dt.timedelta(seconds=talk_seconds))
        apply_event(record.provider, ProviderEvent(record.provider_call_id, "answered", f"outcome-answered-{record.id}",
                                                   answered_at, {"call_id": record.provider_call_id,
                                                                 "event": "answered", "source": "outcome_form"}))
    record = apply_event(record.provider, ProviderEvent(record.provider_call_id, "ended", f"outcome-{record.id}",
                                                        now, data))
    if note:
        with unit_of_work():
            record = db.session.get(CallRecord, record.id)
            record.note = note
    return record


def recent_calls(user: Employee, limit: int = 20, customer_id: Optional[int] = None) -> list[CallRecord]:
    query = select(CallRecord).where(scopes.visible_to(CallRecord, user))
    if customer_id is not None:
        query = query.where(CallRecord.customer_id == customer_id)
    return list(db.session.scalars(query.order_by(CallRecord.created_at.desc(), CallRecord.id.desc()).limit(limit)))
