"""The recycle bin under real concurrency (a real server process, parallel requests, SQLite and PostgreSQL):
restoring a customer while someone creates one with the same mobile lets exactly one of them have it; two
restores or two deletes of one record do it once."""
from __future__ import annotations


from sqlalchemy import func, select

from app import recycle
from app.extensions import db
from models.crm import Customer
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD
from tests.live import call, live_url, parallel_calls, token  # noqa: F401  (live_url is a fixture)


def _live(mobile):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Customer).where(Customer.mobile == mobile))


def test_a_restore_and_a_create_of_the_same_mobile_in_parallel_let_exactly_one_through(ctx, live_url):
    tok = token(live_url, "admin", ADMIN_PASSWORD)
    mobiles = [f"1370000{i:04d}" for i in range(8)]
    ids = [f.customer(f.admin(), f"旧{i}", mobile).id for i, mobile in enumerate(mobiles)]
    for pk in ids:
        assert call(live_url, "DELETE", f"/api/v1/customer/{pk}", None, tok)[0] == 200
    requests = []
    for pk, mobile in zip(ids, mobiles):
        requests.append((live_url, "POST", f"/api/v1/customer/{pk}/restore", None, tok))
        requests.append((live_url, "POST", "/api/v1/customer/", {"company_name": "新来的", "mobile": mobile}, tok))
    answers = parallel_calls(requests)
    assert all(status < 500 for status, _ in answers), answers
    for i, mobile in enumerate(mobiles):
        (restored, restore_body), (created, create_body) = answers[2 * i], answers[2 * i + 1]
        wins = [restored == 200, created == 201]
        assert wins.count(True) == 1, (restored, restore_body, created, create_body)
        if restored != 200:
            assert restored == 409 and mobile in restore_body["message"], restore_body
        else:
            assert created == 400, create_body
        assert _live(mobile) == 1
        binned = db.session.scalar(select(Customer).where(Customer.id == ids[i])
                                   .execution_options(**recycle.OPTIONS))
        assert (binned.deleted_at is None) == (restored == 200)


def test_two_restores_or_two_deletes_of_one_record_do_it_once(ctx, live_url):
    tok = token(live_url, "admin", ADMIN_PASSWORD)
    pk = f.customer(f.admin(), "一次", "13700009999").id
    deletes = parallel_calls([(live_url, "DELETE", f"/api/v1/customer/{pk}", None, tok)] * 4)
    assert sorted(status for status, _ in deletes) == [200, 404, 404, 404], deletes
    restores = parallel_calls([(live_url, "POST", f"/api/v1/customer/{pk}/restore", None, tok)] * 4)
    assert sorted(status for status, _ in restores) == [200, 404, 404, 404], restores
    assert _live("13700009999") == 1
    from models.audit import AuditLog

    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.module == "customer")).all()
    assert actions.count("delete") == 1 and actions.count("restore") == 1
