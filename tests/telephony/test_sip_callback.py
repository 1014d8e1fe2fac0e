"""双呼 over SIP, end to end: the provider asks the gateway, the gateway rings SIPp phones registered at
Kamailio, and its signed events reach the CRM's webhook (a real server). Each call record is checked field by
field against what the SIPp phones saw."""
from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.sipgw.provider import SeatRefused, SipCallbackProvider
from app.telephony.signing import sign
from models.call import CallEvent, CallRecord
from tests.telephony import harness
from tests.telephony.conftest import RING_TIMEOUT

DISPLAY_LINE = "01088886666"


def _record(call_id) -> CallRecord | None:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(select(CallRecord).where(CallRecord.provider == "sip_callback",
                                                      CallRecord.provider_call_id == call_id))


def wait_for_state(call_id, state="ended", timeout=15.0) -> CallRecord:
    return harness.wait_until(lambda: (r := _record(call_id)) is not None and r.state == state and r, timeout,
                              f"call {call_id} to reach {state}")


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


def _near(recorded: dt.datetime, seen: float, tolerance=0.5) -> bool:
    return abs((recorded - _utc(seen)).total_seconds()) <= tolerance


def _events(call_id) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(CallEvent.event).where(CallEvent.provider_call_id == call_id)
                                   .order_by(CallEvent.occurred_at, CallEvent.id)))


def _first(messages, direction, method=None, status=None):
    for message in messages:
        if message.direction == direction and (method is None or message.method == method) \
                and (status is None or (message.status == status and message.cseq_method == "INVITE")):
            return message
    return None


def _user(uri_header: str) -> str:
    return uri_header.split("sip:", 1)[1].split("@", 1)[0]


def _check_invites(seat, customer_number, agent_log, customer_log):
    """Late offer: the agent's INVITE has no SDP; the customer's carries the agent's offer; the agent's ACK
    carries the customer's answer; both present the seat's display line."""
    agent_invite = _first(agent_log, "received", "INVITE")
    assert _user(agent_invite.first_line) == seat.bound_mobile
    assert _user(agent_invite.headers["from"]) == DISPLAY_LINE
    assert agent_invite.body == ""
    agent_offer = _first(agent_log, "sent", status=200).body
    customer_invite = _first(customer_log, "received", "INVITE")
    assert _user(customer_invite.first_line) == customer_number
    assert _user(customer_invite.headers["from"]) == DISPLAY_LINE
    assert "m=audio" in customer_invite.body
    assert customer_invite.body.split("m=audio")[1] == agent_offer.split("m=audio")[1]
    return agent_invite, customer_invite


def test_answered_call_bridges_both_phones_and_reports_talk_time(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "answer", ring_ms=300)
    customer = sip.phone(customer_number, "hangup", ring_ms=400, talk_ms=2200)
    answer = SipCallbackProvider().originate(seat, customer_number)
    assert answer.mode == "callback" and answer.provider_call_id
    assert agent.wait(20) == 0 and customer.wait(20) == 0  # both scenarios ran to their end: both legs BYEd
    record = wait_for_state(answer.provider_call_id)

    agent_log, customer_log = harness.sipp_messages(agent.messages()), harness.sipp_messages(customer.messages())
    _check_invites(seat, customer_number, agent_log, customer_log)
    agent_ack = _first(agent_log, "received", "ACK")
    customer_answer = _first(customer_log, "sent", status=200)
    assert agent_ack.body.split("m=audio")[1] == customer_answer.body.split("m=audio")[1]
    assert _first(agent_log, "received", "BYE") is not None  # the customer's BYE ended the agent's leg
    customer_bye = _first(customer_log, "sent", "BYE")

    assert (record.disposition, record.raw_cause, record.hangup_by) == ("answered", "SIP 200 OK", "customer")
    assert (record.agent_number, record.customer_number) == (seat.bound_mobile, customer_number)
    assert record.seat_id == seat.id and record.owner_id == seat.employee_id
    assert _near(record.agent_answered_at, _first(agent_log, "sent", status=200).at)
    assert _near(record.customer_ringing_at, _first(customer_log, "sent", status=180).at)
    assert _near(record.answered_at, customer_answer.at)
    assert _near(record.ended_at, customer_bye.at)
    talk = customer_bye.at - customer_answer.at
    assert record.talk_seconds > 0 and abs(record.talk_seconds - talk) <= 1
    assert abs(record.ring_seconds - (customer_answer.at - _first(customer_log, "sent", status=180).at)) <= 1
    assert _events(answer.provider_call_id) == ["created", "agent_ringing", "agent_answered", "customer_ringing",
                                                "answered", "ended"]


def test_customer_busy_closes_the_agent_leg_cleanly(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "answer")
    customer = sip.phone(customer_number, "busy")
    call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    record = wait_for_state(call_id)
    agent_log = harness.sipp_messages(agent.messages())
    # the agent's 200 was ACKed (refusing the media) before the BYE
    ack, bye = _first(agent_log, "received", "ACK"), _first(agent_log, "received", "BYE")
    assert ack.at <= bye.at and "m=audio 0 " in ack.body
    assert (record.disposition, record.raw_cause, record.hangup_by) == ("busy", "SIP 486 Busy Here", "customer")
    assert record.answered_at is None and record.talk_seconds == 0
    assert _near(record.ended_at, _first(harness.sipp_messages(customer.messages()), "sent", status=486).at)


def test_customer_not_answering_is_cancelled_after_the_ring_timeout(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "answer")
    customer = sip.phone(customer_number, "noanswer")
    call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    record = wait_for_state(call_id)
    customer_log = harness.sipp_messages(customer.messages())
    agent_log = harness.sipp_messages(agent.messages())
    ack, bye = _first(agent_log, "received", "ACK"), _first(agent_log, "received", "BYE")
    assert ack.at <= bye.at and "m=audio 0 " in ack.body  # the agent's leg closed cleanly: ACK, then BYE
    ringing, cancel = _first(customer_log, "sent", status=180), _first(customer_log, "received", "CANCEL")
    assert cancel is not None and _first(customer_log, "sent", status=487) is not None
    assert (record.disposition, record.raw_cause, record.hangup_by) == ("no_answer", "timeout", "system")
    assert _near(record.customer_ringing_at, ringing.at)
    assert abs(record.ring_seconds - (cancel.at - ringing.at)) <= 1
    assert record.ring_seconds >= RING_TIMEOUT - 1 and record.talk_seconds == 0


def test_agent_not_answering_never_rings_the_customer(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "noanswer")
    customer = sip.phone(customer_number, "answer")
    call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    assert agent.wait(20) == 0
    record = wait_for_state(call_id)
    assert _first(harness.sipp_messages(agent.messages()), "received", "CANCEL") is not None
    assert customer.messages() == ""  # no INVITE ever reached the customer
    assert (record.disposition, record.raw_cause, record.hangup_by) == ("agent_no_answer", "timeout", "system")
    assert record.agent_answered_at is None and record.customer_ringing_at is None


def test_agent_hanging_up_first_ends_the_customer_leg(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "hangup", talk_ms=1200)
    customer = sip.phone(customer_number, "answer")
    call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    record = wait_for_state(call_id)
    agent_log, customer_log = harness.sipp_messages(agent.messages()), harness.sipp_messages(customer.messages())
    _check_invites(seat, customer_number, agent_log, customer_log)
    agent_bye = _first(agent_log, "sent", "BYE")
    assert _first(customer_log, "received", "BYE").at >= agent_bye.at
    assert (record.disposition, record.hangup_by) == ("answered", "agent")
    assert _near(record.ended_at, agent_bye.at)
    assert abs(record.talk_seconds - (agent_bye.at - _first(customer_log, "sent", status=200).at)) <= 1


def test_hangup_from_the_crm_ends_both_legs(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "answer")
    customer = sip.phone(customer_number, "answer")
    provider = SipCallbackProvider()
    call_id = provider.originate(seat, customer_number).provider_call_id
    wait_for_state(call_id, "answered")
    time.sleep(1.0)
    provider.hangup(call_id)
    assert agent.wait(20) == 0 and customer.wait(20) == 0  # both received a BYE
    record = wait_for_state(call_id)
    assert (record.disposition, record.hangup_by) == ("answered", "crm")
    assert record.talk_seconds >= 1
    provider.hangup(call_id)  # again, after the end: nothing happens, no error


def test_hangup_from_the_crm_while_the_agent_rings_cancels_the_call(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "noanswer")
    provider = SipCallbackProvider()
    call_id = provider.originate(seat, customer_number).provider_call_id
    wait_for_state(call_id, "agent_ringing", timeout=5)
    provider.hangup(call_id)
    assert agent.wait(20) == 0  # it got the CANCEL
    record = wait_for_state(call_id)
    assert (record.disposition, record.raw_cause, record.hangup_by) == ("cancelled", "CANCEL", "crm")


def _gateway_calls(sip) -> int:
    with urllib.request.urlopen(sip.gateway.url + "/health", timeout=5) as response:
        return json.loads(response.read())["calls"]


def test_hangup_from_the_crm_while_the_customer_rings_cancels_it_and_closes_the_agent(ctx, app, sip, sip_seat,
                                                                                      customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "answer")
    customer = sip.phone(customer_number, "noanswer")
    provider = SipCallbackProvider()
    call_id = provider.originate(seat, customer_number).provider_call_id
    wait_for_state(call_id, "customer_ringing", timeout=5)
    provider.hangup(call_id)
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    record = wait_for_state(call_id)
    assert (record.disposition, record.raw_cause, record.hangup_by) == ("cancelled", "CANCEL", "crm")
    assert _first(harness.sipp_messages(customer.messages()), "received", "CANCEL") is not None
    agent_log = harness.sipp_messages(agent.messages())
    assert _first(agent_log, "received", "ACK").at <= _first(agent_log, "received", "BYE").at


def test_expired_seat_is_refused_before_any_sip_is_sent(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat(expired=True)
    agent = sip.phone(seat.bound_mobile, "answer")
    calls_before = _gateway_calls(sip)
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        with pytest.raises(SeatRefused) as refused:
            SipCallbackProvider().originate(seat, customer_number)
        assert "过期" in str(refused.value) or "expired" in str(refused.value)
    time.sleep(0.5)
    assert agent.messages() == ""  # the agent's phone never rang
    assert _gateway_calls(sip) == calls_before  # the gateway was never asked
    assert db.session.scalar(select(func.count()).select_from(CallRecord).where(CallRecord.seat_id == seat.id)) == 0


def test_events_sent_while_the_crm_is_down_arrive_later_once_each(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    sip.crm.stop()
    try:
        agent = sip.phone(seat.bound_mobile, "answer")
        customer = sip.phone(customer_number, "hangup", talk_ms=800)
        call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
        assert agent.wait(20) == 0 and customer.wait(20) == 0
        harness.wait_until(lambda: len(list(sip.gateway.spool.glob("*.json"))) >= 6, 10, "six events in the spool")
        assert _record(call_id) is None
    finally:
        sip.crm.start()
    record = wait_for_state(call_id, timeout=30)  # the sender's backoff is at most 5 s
    harness.wait_until(lambda: not list(sip.gateway.spool.glob("*.json")), 15, "the spool to empty")
    assert (record.disposition, record.hangup_by) == ("answered", "customer") and record.talk_seconds >= 1
    db.session.rollback()
    counts = db.session.execute(select(CallEvent.event_id, func.count()).where(CallEvent.provider_call_id == call_id)
                                .group_by(CallEvent.event_id)).all()
    assert len(counts) == 6 and all(count == 1 for _, count in counts)


def _post(url, body: bytes, headers: dict):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json",
                                                                            **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_forged_or_stale_webhook_is_refused_and_a_replay_changes_nothing(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    url = sip.crm.url + "/api/v1/call/events/sip_callback"
    secret = sip.env["CALL_WEBHOOK_SECRET"]
    event = {"call_id": "forged-call-0001", "event": "ended", "event_id": "forged-call-0001:9",
             "at": "2026-01-01T00:00:00.000", "seat": seat.number, "disposition": "answered", "talk_seconds": 999}
    body = json.dumps([event]).encode()
    assert _post(url, body, {})[0] == 401
    assert _post(url, body, sign("not-the-secret", body))[0] == 401
    assert _post(url, body, sign(secret, body, int(time.time()) - 3600))[0] == 401
    tampered = body.replace(b"999", b"998")
    assert _post(url, tampered, sign(secret, body))[0] == 401
    assert _post(sip.crm.url + "/api/v1/call/events/device", body, {})[0] == 401
    assert _record("forged-call-0001") is None
    # the same signed batch twice: applied once
    assert _post(url, body, sign(secret, body))[0] == 200
    assert _post(url, body, sign(secret, body))[0] == 200
    assert db.session.scalar(select(func.count()).select_from(CallEvent)
                             .where(CallEvent.provider_call_id == "forged-call-0001")) == 1


def test_stopping_the_gateway_hangs_up_calls_in_progress(ctx, app, sip, sip_seat, customer_number):
    seat = sip_seat()
    agent = sip.phone(seat.bound_mobile, "answer")
    customer = sip.phone(customer_number, "answer")
    call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    wait_for_state(call_id, "answered")
    sip.gateway.stop()
    try:
        assert agent.wait(20) == 0 and customer.wait(20) == 0  # both legs got their BYE
    finally:
        sip.gateway.start()
    record = wait_for_state(call_id)
    assert (record.disposition, record.hangup_by) == ("answered", "system")
