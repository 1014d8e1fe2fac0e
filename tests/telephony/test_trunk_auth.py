"""A trunk that asks for digest credentials (407): the gateway answers the challenge with the settings'
username and password; with a wrong password the call fails before any phone rings, with the code kept."""
from __future__ import annotations

import pytest

from app.sipgw.provider import SipCallbackProvider
from tests.telephony import harness
from tests.telephony.test_sip_callback import wait_for_state


@pytest.fixture(scope="module")
def auth_trunk(sip_stack):
    """A second Kamailio that challenges INVITEs, and two gateways on it: right and wrong password."""
    started = []
    try:
        kamailio = harness.Kamailio(sip_stack.workdir, defines=("WITH_AUTH",)).start()
        started.append(kamailio)
        webhook = sip_stack.crm.url + "/api/v1/call/events/sip_callback"
        right = harness.Gateway(sip_stack.workdir, kamailio, sip_stack.env, webhook, username="crm-gateway",
                                password="trunk-secret").start()
        started.append(right)
        wrong = harness.Gateway(sip_stack.workdir, kamailio, sip_stack.env, webhook, username="crm-gateway",
                                password="not-the-secret").start()
        started.append(wrong)
        yield kamailio, right, wrong
    finally:
        for process in reversed(started):
            process.stop()


def _phone(stack, kamailio, number, behaviour, **options):
    phone = harness.Phone(kamailio, stack.workdir, [number], behaviour=behaviour, **options)
    stack.phones.append(phone)
    return phone.start()


def test_the_gateway_authenticates_to_the_trunk(ctx, app, sip, auth_trunk, sip_seat, customer_number):
    kamailio, right, _ = auth_trunk
    seat = sip_seat()
    agent = _phone(sip, kamailio, seat.bound_mobile, "answer")
    customer = _phone(sip, kamailio, customer_number, "hangup", talk_ms=800)
    app.config["SIP_GATEWAY_URL"] = right.url
    try:
        call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    finally:
        app.config["SIP_GATEWAY_URL"] = sip.gateway.url
    assert agent.wait(20) == 0 and customer.wait(20) == 0
    record = wait_for_state(call_id)
    assert (record.disposition, record.hangup_by) == ("answered", "customer") and record.talk_seconds >= 1


def test_a_wrong_trunk_password_fails_the_call_with_its_code(ctx, app, sip, auth_trunk, sip_seat, customer_number):
    kamailio, _, wrong = auth_trunk
    seat = sip_seat()
    agent = _phone(sip, kamailio, seat.bound_mobile, "answer")
    app.config["SIP_GATEWAY_URL"] = wrong.url
    try:
        call_id = SipCallbackProvider().originate(seat, customer_number).provider_call_id
    finally:
        app.config["SIP_GATEWAY_URL"] = sip.gateway.url
    record = wait_for_state(call_id)
    assert record.disposition == "failed" and record.raw_cause.startswith("SIP 407")
    assert agent.messages() == ""  # the agent's phone never rang
