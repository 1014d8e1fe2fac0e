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
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
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


def test_salesperson_hangs_up_from_the_call_page_and_both_legs_end(client, app, sip, customer_number):
    """挂断 on the live call's page (the form with the session cookie): the gateway ends both legs, the record
    ends as hung up by the CRM; the API answers 409 afterwards and 404 for a stranger."""
    from tests.conftest import web_login

    data = _salesperson_with_sip_seat(app, customer_number)
    agent = sip.phone(data["agent"], "answer")
    customer = sip.phone(customer_number, "answer")
    web_login(client, data["login"], PASSWORD)
    dialed = client.post("/dial/", data={"customer": str(data["customer"])})
    assert dialed.status_code == 302, dialed.get_data(as_text=True)[:300]
    call_page = dialed.headers["Location"]
    with app.app_context():
        record = db.session.scalar(select(CallRecord).where(CallRecord.owner_id == data["seller"]))
        call_id, pk = record.provider_call_id, record.id
        wait_for_state(call_id, "answered")
    page = client.get(call_page).get_data(as_text=True)
    assert 'id="crm-hangup"' in page and 'id="crm-outcome"' not in page
    assert client.post(call_page, data={"hangup": "1"}).status_code == 302
    assert agent.wait(20) == 0 and customer.wait(20) == 0  # both legs got their BYE
    with app.app_context():
        record = wait_for_state(call_id)
        assert (record.disposition, record.hangup_by) == ("answered", "crm")
    token = bearer(client, data["login"], PASSWORD)
    assert client.post(f"/api/v1/call/{pk}/hangup", headers=token).status_code == 409
    with app.app_context():
        stranger_login = f.employee("小王").username
        db.session.remove()
    stranger = app.test_client()  # no session cookie of the seller's
    assert stranger.post(f"/api/v1/call/{pk}/hangup",
                         headers=bearer(stranger, stranger_login, PASSWORD)).status_code == 404


def test_an_employee_who_may_not_see_numbers_calls_through_the_callback_line(client, app, sip, customer_number,
                                                                            restore_roles):  # noqa: F811
    """Their role masks the customers' 手机: the device seat would be refused (the tel: link shows the number),
    the callback line (双呼) dials — the number reaches only the gateway; the API, the call page, the phone
    site and the call list show it masked."""
    from app import roles as role_service
    from tests.views.test_sessions import form_login

    data = _salesperson_with_sip_seat(app, customer_number)
    with app.app_context():
        sales = app.appbuilder.sm.find_role("销售")
        role = role_service.copy_role(sales.id, "号码保密")
        role_service.write_matrix(role.id, {"fields": {"customer": {"mobile": "masked"}}})
        seller = db.session.get(f.Employee, data["seller"])
        seller.roles = [role]
        db.session.commit()
        db.session.remove()
    masked = customer_number[:3] + "****" + customer_number[-4:]
    agent = sip.phone(data["agent"], "answer")
    customer = sip.phone(customer_number, "hangup", talk_ms=1000)
    token = bearer(client, data["login"], PASSWORD)
    dialed = client.post("/api/v1/call/dial", json={"customer": data["customer"]}, headers=token)
    assert dialed.status_code == 201, dialed.get_json()
    assert "tel" not in dialed.get_json() and dialed.get_json()["result"]["mode"] == "callback"
    assert dialed.get_json()["result"]["customer_number"] == masked
    assert customer_number not in dialed.get_data(as_text=True)
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    pk = dialed.get_json()["id"]
    with app.app_context():
        record = wait_for_state(db.session.get(CallRecord, pk).provider_call_id)
        assert (record.disposition, record.customer_id, record.customer_number) == ("answered", data["customer"],
                                                                                    customer_number)
        db.session.remove()
    for url in (f"/api/v1/call/{pk}", "/api/v1/call/"):
        answer = client.get(url, headers=token)
        assert answer.status_code == 200 and customer_number not in answer.get_data(as_text=True)
        assert masked in answer.get_data(as_text=True)
    browser = app.test_client()
    form_login(browser, data["login"], PASSWORD)
    for url in (f"/dial/{pk}/", f"/m/call/{pk}", "/call/list/", f"/call/show/{pk}", "/m/calls"):
        page = browser.get(url)
        assert page.status_code == 200 and customer_number not in page.get_data(as_text=True), url
        assert "tel:" not in page.get_data(as_text=True), url
