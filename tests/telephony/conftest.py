"""The SIP stack for the callback tests: Kamailio, the gateway and the CRM (run.py) as real processes on free
loopback ports, started once per test session and stopped even when a test fails. The CRM server uses the test
session's database (SQLite file or DATABASE_URL), so the tests read what the webhook wrote."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.telephony import harness

# the dial-API test needs part 1's dialing service and webhook (app/telephony): collected once it is merged
collect_ignore = [] if (Path(__file__).resolve().parents[2] / "app" / "telephony").is_dir() else [
    "test_sip_dial_api.py"]

RING_TIMEOUT = 2.0  # short ring timeouts for the tests (settings SIP_AGENT/CUSTOMER_RING_TIMEOUT)


class SipStack:
    def __init__(self, workdir, kamailio, gateway, crm, env):
        self.workdir, self.kamailio, self.gateway, self.crm, self.env = workdir, kamailio, gateway, crm, env
        self.phones: list[harness.Phone] = []

    def phone(self, number, behaviour="answer", **options) -> harness.Phone:
        phone = harness.Phone(self.kamailio, self.workdir, [number], behaviour=behaviour, **options)
        self.phones.append(phone)
        return phone.start()

    def stop_phones(self):
        for phone in self.phones:
            phone.stop()
        self.phones = []


@pytest.fixture(scope="session")
def sip_stack(app):
    harness.require_sip_tools()  # missing tools fail the run: `make test` installs them
    workdir = harness.scratch_dir("crm-sip-")
    env = harness.base_env(workdir, database_url=os.environ["DATABASE_URL"])
    env["SECRET_KEY"] = os.environ["SECRET_KEY"]  # the same instance as the test session's app
    started = []
    try:
        kamailio = harness.Kamailio(workdir).start()
        started.append(kamailio)
        crm = harness.CrmServer(workdir, env).start()
        started.append(crm)
        gateway = harness.Gateway(workdir, kamailio, env, crm.url + "/api/v1/call/events/sip_callback",
                                  agent_ring=RING_TIMEOUT, customer_ring=RING_TIMEOUT).start()
        started.append(gateway)
        saved = {key: app.config.get(key) for key in ("SIP_GATEWAY_URL", "SIP_GATEWAY_TOKEN", "CALL_WEBHOOK_SECRET")}
        app.config.update(SIP_GATEWAY_URL=gateway.url, SIP_GATEWAY_TOKEN=env["SIP_GATEWAY_TOKEN"],
                          CALL_WEBHOOK_SECRET=env["CALL_WEBHOOK_SECRET"])
        stack = SipStack(workdir, kamailio, gateway, crm, env)
        yield stack
        stack.stop_phones()
        app.config.update(saved)
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture
def sip(sip_stack):
    yield sip_stack
    sip_stack.stop_phones()  # every phone this test started, even when it failed


@pytest.fixture
def sip_seat(app):
    """An employee with a seat of the provider sip_callback, bound to a fresh mobile (the agent's phone)."""
    from app.extensions import db
    from models.call import Seat
    from models.mixins import utcnow
    from tests import factories

    def make(expired=False):
        person = factories.employee()
        seat = Seat(name="坐席账号", number=harness.next_agent_number()[-6:], provider="sip_callback",
                    display_line="01088886666", bound_mobile=harness.next_agent_number(), bound_at=utcnow(),
                    employee_id=person.id, status="active",
                    expires_at=utcnow() + dt.timedelta(days=-1 if expired else 30))
        db.session.add(seat)
        db.session.commit()
        return seat

    return make


@pytest.fixture
def customer_number():
    return harness.next_customer_number()
