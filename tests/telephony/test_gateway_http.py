"""The gateway's loopback HTTP interface: authenticated, answers at once, refuses bad input with 4xx; and
concurrent calls through it stay independent."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from sqlalchemy import select

from app.extensions import db
from app.sipgw.provider import SipCallbackProvider
from models.call import CallRecord
from tests.telephony import harness


def _call(sip, method, path, payload=None, token="gateway-token-for-tests", raw=None):
    data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(sip.gateway.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_the_interface_needs_the_token(sip):
    call = {"agent_number": "13700009999", "customer_number": "13800009999", "caller_id": "01088886666"}
    assert _call(sip, "POST", "/calls", call, token=None)[0] == 401
    assert _call(sip, "POST", "/calls", call, token="wrong")[0] == 401
    assert _call(sip, "GET", "/calls/whatever", token="wrong")[0] == 401
    assert _call(sip, "POST", "/calls/whatever/hangup", token=None)[0] == 401


def test_bad_requests_are_refused_with_400_or_404(sip):
    good = {"agent_number": "13700009999", "customer_number": "13800009999", "caller_id": "01088886666"}
    assert _call(sip, "POST", "/calls", raw=b"{not json")[0] == 400
    assert _call(sip, "POST", "/calls", [1, 2])[0] == 400
    assert _call(sip, "POST", "/calls", {**good, "customer_number": "sip:evil@host"})[0] == 400
    assert _call(sip, "POST", "/calls", {**good, "agent_number": None})[0] == 400
    assert _call(sip, "POST", "/calls", {**good, "call_id": "../../etc"})[0] == 400
    assert _call(sip, "POST", "/calls", {**good, "seat": "x" * 65})[0] == 400
    assert _call(sip, "POST", "/calls", raw=b"{" + b" " * 5000 + b"}")[0] == 400
    assert _call(sip, "POST", "/calls/no-such-call/hangup")[0] == 404
    assert _call(sip, "GET", "/calls/no-such-call")[0] == 404
    assert _call(sip, "POST", "/elsewhere", good)[0] == 404


def test_concurrent_calls_end_independently(ctx, app, sip, sip_seat):
    seats = [sip_seat() for _ in range(3)]
    customers = [harness.next_customer_number() for _ in range(3)]
    # one SIPp process answers all three agents; each customer behaves differently
    agents = harness.Phone(sip.kamailio, sip.workdir, [s.bound_mobile for s in seats], behaviour="answer", calls=3)
    sip.phones.append(agents)
    agents.start()
    talking = sip.phone(customers[0], "hangup", talk_ms=1500)
    busy = sip.phone(customers[1], "busy")
    silent = sip.phone(customers[2], "noanswer")
    provider = SipCallbackProvider()
    call_ids = [provider.originate(seat, number).provider_call_id for seat, number in zip(seats, customers)]
    assert len(set(call_ids)) == 3
    assert agents.wait(25) == 0 and talking.wait(25) == 0 and busy.wait(25) == 0 and silent.wait(25) == 0

    def ended():
        db.session.rollback()
        records = {r.provider_call_id: r for r in db.session.scalars(
            select(CallRecord).where(CallRecord.provider_call_id.in_(call_ids)))}
        return len(records) == 3 and all(r.state == "ended" for r in records.values()) and records

    records = harness.wait_until(ended, 15, "three ended calls")
    outcome = [(records[c].disposition, records[c].hangup_by, records[c].seat_id) for c in call_ids]
    assert outcome == [("answered", "customer", seats[0].id), ("busy", "customer", seats[1].id),
                       ("no_answer", "system", seats[2].id)]
    assert records[call_ids[0]].talk_seconds >= 1
    status, state = _call(sip, "GET", f"/calls/{call_ids[0]}")
    assert status == 200 and state["state"] == "ended" and state["disposition"] == "answered"
