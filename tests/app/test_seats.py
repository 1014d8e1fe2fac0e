"""Seats and 更换绑定 as an administrator lives them: codes by SMS, their refusals, one seat per employee,
the seat freed on resignation, the CLI."""
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app import organisation as org
from app import seats, sms
from app.errors import CrmError
from app.extensions import db
from models.call import Seat, SmsMessage, VerificationCode
from models.mixins import utcnow
from tests import callfixtures as cf
from tests import factories as f

pytestmark = pytest.mark.usefixtures("ctx")


def test_remaining_time_reads_like_the_manual_and_expired_is_marked():
    now = utcnow()
    seat = cf.seat(days=3142)
    seat.expires_at = now + dt.timedelta(days=3142, hours=6, minutes=34, seconds=30)
    assert seat.remaining(now) in ("剩余3142天6小时34分钟", "3142 days 6 hours 34 minutes left")
    seat.expires_at = now - dt.timedelta(minutes=1)
    assert seat.remaining(now) in ("已过期", "Expired") and seat.is_expired(now)


def test_binding_with_the_code_from_the_outbox():
    person = f.employee()
    seat = cf.seat()
    code = cf.send_and_read(seat.id, "139 1111 2222")
    assert db.session.scalar(select(VerificationCode.code_hash)) != code  # stored hashed
    bound = seats.bind(seat.id, "13911112222", code, person.id)
    assert (bound.bound_mobile, bound.employee_id) == ("13911112222", person.id)
    from models.audit import AuditLog

    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "seat_binding")).one()
    assert entry.record_ids == str(seat.id) and "13911112222" not in entry.changes
    assert entry.changes_dict == {"bound_mobile": [None, "139****2222"], "employee_id": [None, person.id]}
    with pytest.raises(CrmError, match="code|验证码"):  # a code works once
        seats.bind(seat.id, "13911112222", code, person.id)


def test_wrong_code_counts_tries_and_the_sixth_is_refused_even_when_right():
    person, seat = f.employee(), cf.seat()
    code = cf.send_and_read(seat.id, "13911112223")
    wrong = "000000" if code != "000000" else "111111"
    messages = []
    for _ in range(5):
        with pytest.raises(CrmError) as refused:
            seats.bind(seat.id, "13911112223", wrong, person.id)
        messages.append(str(refused.value))
    assert "4" in messages[0] and ("错误" in messages[0] or "wrong" in messages[0])
    with pytest.raises(CrmError, match="Too many|次数过多"):
        seats.bind(seat.id, "13911112223", code, person.id)
    assert db.session.get(Seat, seat.id).employee_id is None


def test_expired_code_is_refused():
    person, seat = f.employee(), cf.seat()
    code = cf.send_and_read(seat.id, "13911112224")
    cf.age_codes("13911112224", 6)
    with pytest.raises(CrmError, match="expired|过期"):
        seats.bind(seat.id, "13911112224", code, person.id)


def test_a_number_may_ask_once_a_minute_and_ten_times_a_day():
    seat = cf.seat()
    sms.send_code("13911112225", seat_id=seat.id)
    with pytest.raises(CrmError, match="minute|分钟") as refused:
        sms.send_code("13911112225", seat_id=seat.id)
    assert refused.value.status == 429
    for _ in range(9):
        cf.age_codes("13911112225", 2)
        sms.send_code("13911112225", seat_id=seat.id)
    cf.age_codes("13911112225", 2)
    with pytest.raises(CrmError, match="10"):
        sms.send_code("13911112225", seat_id=seat.id)
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 10


def test_parallel_requests_for_a_code_send_one(app):
    seat_id = cf.seat().id

    def ask(_):
        with app.app_context():
            try:
                sms.send_code("13911112226", seat_id=seat_id)
                return "sent"
            except CrmError as error:
                return error.status
            finally:
                db.session.remove()

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(ask, range(6)))
    assert answers.count("sent") == 1 and answers.count(429) == 5
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 1


def test_parallel_wrong_tries_are_all_counted(app):
    person, seat = f.employee(), cf.seat()
    code = cf.send_and_read(seat.id, "13911112227")
    wrong = "000000" if code != "000000" else "111111"
    ids = (seat.id, person.id)

    def attempt(_):
        with app.app_context():
            try:
                seats.bind(ids[0], "13911112227", wrong, ids[1])
            except CrmError:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(attempt, range(8)))
    assert db.session.scalar(select(VerificationCode.attempts)) == 5


def test_a_seat_cannot_go_to_an_employee_who_has_one():
    person = f.employee()
    cf.seat(person)
    other = cf.seat()
    code = cf.send_and_read(other.id, "13911112228")
    with pytest.raises(CrmError, match="already has|已有"):
        seats.bind(other.id, "13911112228", code, person.id)
    assert db.session.get(Seat, other.id).employee_id is None


def test_employee_form_seat_is_refused_when_another_employee_holds_it():
    first, second = f.employee(), f.employee()
    taken = cf.seat(first)
    with pytest.raises(CrmError, match="already bound|已绑定"):
        org.update_employee(second.id, seat_id=taken.id)
    assert db.session.get(Seat, taken.id).employee_id == first.id


def test_resigning_or_disabling_frees_the_seat():
    leaver, disabled = f.employee(), f.employee()
    first, second = cf.seat(leaver), cf.seat(disabled)
    org.resign_employees([leaver.id])
    org.disable_employees([disabled.id])
    db.session.expire_all()
    assert db.session.get(Seat, first.id).employee_id is None
    assert db.session.get(Seat, second.id).employee_id is None


def test_extend_counts_from_now_for_an_expired_seat():
    seat = cf.seat(days=-10)
    extended = seats.extend_seat(seat.id, 30)
    assert extended.expires_at > utcnow() + dt.timedelta(days=29)


def test_cli_adds_extends_and_lists(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "seat", "add", "--number", "88001", "--days", "10"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["crm", "seat", "extend", "88001", "--days", "5"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["crm", "seat", "list"])
    assert "88001" in result.output and ("14天" in result.output or "14 days" in result.output)
    result = runner.invoke(args=["crm", "seat", "add", "--number", "88001"])
    assert result.exit_code != 0 and "88001" in result.output


def test_http_gateway_posts_the_code_and_a_failure_stores_nothing(app):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Relay(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Relay)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    app.config.update(SMS_GATEWAY="http", SMS_HTTP_URL=f"http://127.0.0.1:{server.server_port}/sms")
    try:
        sms.send_code("13911112229")
        thread.join(timeout=10)
        assert received and received[0]["mobile"] == "13911112229" and "验证码" in received[0]["text"]
        assert db.session.scalar(select(SmsMessage.gateway)) == "http"
        server.server_close()
        with pytest.raises(CrmError) as refused:
            sms.send_code("13911112230")
        assert refused.value.status == 502
        assert db.session.scalar(select(func.count()).select_from(VerificationCode).where(
            VerificationCode.mobile == "13911112230")) == 0
    finally:
        app.config.update(SMS_GATEWAY="outbox", SMS_HTTP_URL=None)
