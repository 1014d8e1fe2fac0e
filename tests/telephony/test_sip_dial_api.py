"""The whole path a salesperson uses, once part 1 (app/telephony, views/calls.py) is in the tree: the dial API
with a seat of the provider sip_callback -> the gateway -> the SIPp phones -> part 1's signed webhook -> the
call record. Collected only when app/telephony exists (see conftest.py); written against part 1's fixtures."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from models.call import CallRecord, Seat
from models.mixins import utcnow
from tests import callfixtures as cf
from tests import factories as f
from tests.conftest import bearer
from tests.factories import PASSWORD
from tests.telephony import harness
from tests.telephony.test_sip_callback import wait_for_state


def _salesperson_with_sip_seat(app, customer_number, days=30):
    with app.app_context():
        seller = f.employee("小李")
        seat = cf.seat(seller, provider="sip_callback", display_line="01088886666")
        if days < 0:
            seat.expires_at = utcnow() + dt.timedelta(days=days)
            db.session.commit()
        customer = f.customer(seller, "甲公司", customer_number)
        ids = dict(login=seller.username, seller=seller.id, seat=seat.id, agent=seat.bound_mobile,
                   customer=customer.id)
        db.session.remove()
    return ids


def test_salesperson_dials_through_the_api_and_both_phones_talk(client, app, sip, customer_number):
    data = _salesperson_with_sip_seat(app, customer_number)
    agent = sip.phone(data["agent"], "answer")
    customer = sip.phone(customer_number, "hangup", talk_ms=1500)
    token = bearer(client, data["login"], PASSWORD)
    dialed = client.post("/api/v1/call/dial", json={"customer": data["customer"]}, headers=token)
    assert dialed.status_code == 201, dialed.get_json()
    assert "tel" not in dialed.get_json() and dialed.get_json()["result"]["mode"] == "callback"
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    with app.app_context():
        call_id = db.session.get(CallRecord, dialed.get_json()["id"]).provider_call_id
        record = wait_for_state(call_id)
        assert (record.disposition, record.hangup_by) == ("answered", "customer")
        assert (record.customer_id, record.owner_id, record.seat_id) == (data["customer"], data["seller"],
                                                                         data["seat"])
        assert record.talk_seconds >= 1
    listed = client.get("/api/v1/call/", headers=token).get_json()
    assert listed["count"] == 1 and listed["result"][0]["disposition"] == "answered"


def test_expired_sip_seat_is_refused_by_the_api_before_any_sip(client, app, sip, customer_number):
    data = _salesperson_with_sip_seat(app, customer_number, days=-1)
    agent = sip.phone(data["agent"], "answer")
    token = bearer(client, data["login"], PASSWORD)
    refused = client.post("/api/v1/call/dial", json={"customer": data["customer"]}, headers=token)
    assert refused.status_code == 403 and "过期" in refused.get_json()["message"]
    assert agent.messages() == ""
    with app.app_context():
        assert db.session.scalar(select(CallRecord.id).where(CallRecord.seat_id == data["seat"])) is None
        assert db.session.get(Seat, data["seat"]).provider == "sip_callback"
