"""Dialing and call events as the employees and the gateway live them: the checks in their order, the
device provider's outcome, idempotent and out-of-order events, contact for the pool."""
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import g
from sqlalchemy import func, select

from app import customers, roles as role_service, telephony
from app.errors import CrmError, NotFound
from app.extensions import db
from app.telephony.events import apply_event
from app.telephony.providers import DeviceProvider, ProviderEvent
from models.call import CallEvent, CallRecord, Seat
from models.crm import Customer
from models.mixins import utcnow
from tests import callfixtures as cf
from tests import factories as f
from tests.rolefixtures import restore_roles  # noqa: F401

pytestmark = pytest.mark.usefixtures("ctx")


def _refusal(fn):
    with pytest.raises(CrmError) as refused:
        fn()
    return refused.value


def test_dial_checks_in_the_issues_order(restore_roles):  # noqa: F811
    role = role_service.create_role("看客户不拨号")
    role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}})
    caller = f.employee(role="看客户不拨号")
    other = f.employee()
    mine = f.customer(caller, mobile="13812345678")
    stranger = f.customer(other)
    no_number = f.customer(caller)
    no_number.mobile = None
    db.session.commit()
    calls = lambda **kw: lambda: telephony.dial(caller, **kw)  # noqa: E731

    # 1. a seat
    error = _refusal(calls(customer_id=stranger.id))  # no seat is said before the scope
    assert error.status == 403 and ("no seat" in str(error) or "没有坐席" in str(error))
    # 2. theirs
    others_seat = cf.seat(other)
    error = _refusal(calls(customer_id=mine.id, seat_id=others_seat.id))
    assert "not yours" in str(error) or "不是您的" in str(error)
    # 3. bound
    seat = cf.seat(caller, bound=False)
    error = _refusal(calls(customer_id=stranger.id))
    assert "not bound" in str(error) or "未绑定" in str(error)
    # 4. not expired (refused before dialing: no record)
    seat.bound_mobile, seat.expires_at = "13900009999", utcnow() - dt.timedelta(hours=1)
    db.session.commit()
    error = _refusal(calls(customer_id=stranger.id))
    assert "expired" in str(error) or "过期" in str(error)
    assert db.session.scalar(select(func.count()).select_from(CallRecord)) == 0
    # 5. the customer in scope: 404
    db.session.get(Seat, seat.id).expires_at = utcnow() + dt.timedelta(days=1)
    db.session.commit()
    assert isinstance(_refusal(calls(customer_id=stranger.id)), NotFound)
    # 6. the role may dial
    error = _refusal(calls(customer_id=mine.id))
    assert error.status == 403 and ("may not" in str(error) or "不能" in str(error))
    role_service.write_matrix(role.id, {"modules": {"customer": ["view"], "line": ["view"]}})
    g.pop("_crm_permission_pairs", None)  # read once per request; this test is one long "request"
    # 7. the number
    error = _refusal(calls(customer_id=no_number.id))
    assert "no phone number" in str(error) or "没有" in str(error)
    error = _refusal(calls(number="12345"))
    assert error.field == "number"
    assert db.session.scalar(select(func.count()).select_from(CallRecord)) == 0
    result = telephony.dial(caller, customer_id=mine.id)
    assert result.client_action == {"tel": "tel:13812345678"}
    record = result.record
    assert (record.state, record.disposition, record.owner_id, record.customer_id, record.seat_id) == (
        "dialed", None, caller.id, mine.id, seat.id)


def test_landline_typed_number_is_dialed_and_linked_to_a_reachable_customer():
    caller = f.employee()
    cf.seat(caller)
    result = telephony.dial(caller, number="021-8888 9999")
    assert result.record.customer_number == "02188889999" and result.record.customer_id is None
    mine = f.customer(caller, mobile="13812340000")
    assert telephony.dial(caller, number="+86 138 1234 0000").record.customer_id == mine.id


def test_outcome_never_invents_answered_and_connected_call_counts_as_contact():
    caller = f.employee()
    cf.seat(caller)
    mine = f.customer(caller)
    record = telephony.dial(caller, customer_id=mine.id).record
    assert db.session.get(Customer, mine.id).last_followup_at is None
    done = telephony.record_outcome(caller, record.id, "no_answer")
    assert (done.state, done.disposition, done.talk_seconds, done.answered_at) == ("ended", "no_answer", 0, None)
    assert db.session.get(Customer, mine.id).last_followup_at is None
    with pytest.raises(CrmError) as again:
        telephony.record_outcome(caller, record.id, "answered", 30)
    assert again.value.status == 409
    second = telephony.dial(caller, customer_id=mine.id).record
    done = telephony.record_outcome(caller, second.id, "answered", 95, "约了周五拜访")
    assert (done.disposition, done.talk_seconds, done.note) == ("answered", 95, "约了周五拜访")
    touched = db.session.get(Customer, mine.id).last_followup_at
    assert touched is not None and abs((touched - done.answered_at).total_seconds()) < 1


def test_connected_call_keeps_the_customer_out_of_the_automatic_return():
    caller = f.employee()
    cf.seat(caller)
    old = f.customer(caller)
    called = f.customer(caller)
    for item in (old, called):
        db.session.get(Customer, item.id).owned_since = utcnow() - dt.timedelta(days=40)
    db.session.commit()
    record = telephony.dial(caller, customer_id=called.id).record
    telephony.record_outcome(caller, record.id, "answered", 20)
    rules = customers.pool_rules()
    rules.auto_release_days = 30
    db.session.commit()
    assert customers.auto_release() == 1
    db.session.expire_all()
    assert db.session.get(Customer, old.id).owner_id is None
    assert db.session.get(Customer, called.id).owner_id == caller.id


def _event(kind, at, event_id=None, **data):
    return ProviderEvent("gw-1", kind, event_id or f"e-{kind}", at, {"call_id": "gw-1", "event": kind, **data})


def _snapshot(record_id):
    db.session.expire_all()
    record = db.session.get(CallRecord, record_id)
    return {k: getattr(record, k) for k in ("state", "disposition", "answered_at", "ended_at", "customer_ringing_at",
                                            "ring_seconds", "talk_seconds", "hangup_by", "raw_cause", "owner_id",
                                            "recording_url", "last_event_at")}


def test_events_in_any_order_and_repeated_leave_the_same_record():
    caller = f.employee()
    seat = cf.seat(caller)
    t0 = utcnow().replace(microsecond=0)
    events = [_event("created", t0, seat=seat.number, customer_number="13812345678"),
              _event("customer_ringing", t0 + dt.timedelta(seconds=3)),
              _event("answered", t0 + dt.timedelta(seconds=10)),
              _event("ended", t0 + dt.timedelta(seconds=70), hangup_by="customer", raw_cause="16"),
              _event("recording_ready", t0 + dt.timedelta(seconds=80), recording_url="https://rec.example/1.mp3")]
    snapshots = []
    for order in (events, list(reversed(events)), events[2:] + events[:2] + events):
        db.session.execute(CallEvent.__table__.delete())
        db.session.execute(CallRecord.__table__.delete())
        db.session.commit()
        for event in order:
            record = apply_event("sip", event)
        snapshots.append(_snapshot(record.id))
        assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 5
    assert snapshots[0] == snapshots[1] == snapshots[2]
    assert snapshots[0]["state"] == "ended" and snapshots[0]["disposition"] == "answered"
    assert (snapshots[0]["ring_seconds"], snapshots[0]["talk_seconds"]) == (7, 60)
    assert snapshots[0]["owner_id"] == caller.id


def test_final_event_figures_win_and_busy_is_not_answered():
    t0 = utcnow().replace(microsecond=0)
    record = apply_event("sip", _event("ended", t0, disposition="busy", raw_cause="486", talk_seconds=0))
    apply_event("sip", _event("customer_ringing", t0 - dt.timedelta(seconds=5)))
    snap = _snapshot(record.id)
    assert (snap["disposition"], snap["raw_cause"], snap["talk_seconds"], snap["ring_seconds"]) == ("busy", "486", 0, 5)


def test_parallel_copies_of_an_event_make_one_record(app):
    t0 = utcnow()

    def send(_):
        with app.app_context():
            try:
                return apply_event("sip", _event("answered", t0)).id
            finally:
                db.session.remove()

    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(send, range(6)))
    assert len(ids) == 1
    assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 1


def test_device_provider_makes_tel_links():
    answer = DeviceProvider().originate(None, "02188889999", "")
    assert answer.client_action == {"tel": "tel:02188889999"} and answer.provider_call_id.startswith("device-")
    assert json.loads(json.dumps(answer.client_action))
