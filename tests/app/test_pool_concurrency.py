"""The pool's rules under real concurrency: parallel requests to a real server process (one thread and one
database transaction each), on SQLite and on PostgreSQL. Check and write must be one step: exactly the
limit succeeds, a customer has one owner, every change writes exactly one history row."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from app.extensions import db
from models.crm import Customer, OwnerHistory, PoolRules
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD
from tests.live import call, live_url, parallel_calls, token  # noqa: F401  (live_url is a fixture)


def _rules(**values):
    rules = db.session.scalar(select(PoolRules).limit(1)) or PoolRules()
    for key in ("daily_claim_limit", "reclaim_cooldown_days", "max_owned", "auto_release_days"):
        setattr(rules, key, values.get(key, 0))
    db.session.add(rules)
    db.session.commit()


def _history(customer_ids=None, action=None):
    query = select(OwnerHistory).order_by(OwnerHistory.id)
    if customer_ids is not None:
        query = query.where(OwnerHistory.customer_id.in_(customer_ids))
    if action:
        query = query.where(OwnerHistory.action == action)
    db.session.expire_all()
    return list(db.session.scalars(query))


def test_twenty_parallel_claims_under_a_daily_limit_of_three_let_exactly_three_through(ctx, live_url):
    _rules(daily_claim_limit=3)
    seller = f.employee("抢客户的")
    pooled = [f.customer(None).id for _ in range(20)]
    tok = token(live_url, seller.username, f.PASSWORD)
    answers = parallel_calls([(live_url, "POST", "/api/v1/pool/claim", {"ids": [pk]}, tok) for pk in pooled])
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) == 3 and statuses.count(400) == 17, answers
    assert all(status != 500 for status in statuses)
    db.session.expire_all()
    owned = db.session.scalars(select(Customer.id).where(Customer.owner_id == seller.id)).all()
    assert len(owned) == 3
    assert len(_history(pooled, "claim")) == 3


def test_parallel_claims_respect_the_holding_limit(ctx, live_url):
    _rules(max_owned=3)
    seller = f.employee("客户够多的")
    f.customer(seller)
    pooled = [f.customer(None).id for _ in range(16)]
    tok = token(live_url, seller.username, f.PASSWORD)
    answers = parallel_calls([(live_url, "POST", "/api/v1/pool/claim", {"ids": [pk]}, tok) for pk in pooled])
    assert [s for s, _ in answers].count(200) == 2, answers
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Customer).where(Customer.owner_id == seller.id)) == 3


def test_one_customer_claimed_by_many_employees_at_once_gets_one_owner_and_one_history_row(ctx, live_url):
    dept = f.department()
    sellers = [f.employee(f"销售{i}", dept) for i in range(10)]
    target = f.customer(None).id
    tokens = [token(live_url, s.username, f.PASSWORD) for s in sellers]
    answers = parallel_calls([(live_url, "POST", "/api/v1/pool/claim", {"ids": [target]}, t) for t in tokens])
    winners = [seller for seller, (status, _) in zip(sellers, answers) if status == 200]
    assert len(winners) == 1, answers
    assert all(status in (200, 404) for status, _ in answers), answers
    rows = _history([target], "claim")
    assert len(rows) == 1 and rows[0].to_owner_id == winners[0].id
    assert db.session.get(Customer, target).owner_id == winners[0].id


def test_a_customer_returned_to_the_pool_by_many_requests_at_once_is_returned_once(ctx, live_url):
    seller = f.employee("原负责人")
    target = f.customer(seller).id
    tok = token(live_url, "admin", ADMIN_PASSWORD)
    answers = parallel_calls([(live_url, "POST", "/api/v1/customer/release", {"ids": [target], "reason": f"第{i}次"}, tok)
                         for i in range(8)])
    assert [s for s, _ in answers].count(200) == 1, answers
    assert len(_history([target], "release")) == 1
    assert db.session.get(Customer, target).owner_id is None


@pytest.mark.parametrize("rounds", [3])
def test_claim_assign_transfer_and_release_of_one_customer_racing_keep_one_consistent_history(ctx, live_url,
                                                                                               rounds):
    dept = f.department()
    sellers = [f.employee(f"员工{i}", dept) for i in range(6)]
    target = f.customer(sellers[0]).id
    admin = token(live_url, "admin", ADMIN_PASSWORD)
    tokens = [token(live_url, s.username, f.PASSWORD) for s in sellers]
    successes = {"claim": 0, "assign": 0, "release": 0}
    for _ in range(rounds):
        requests = []
        for i in range(3):
            requests.append((live_url, "POST", "/api/v1/customer/release", {"ids": [target], "reason": "退回"}, admin))
            requests.append((live_url, "POST", "/api/v1/customer/transfer",
                             {"ids": [target], "owner": sellers[i + 1].id}, admin))
            requests.append((live_url, "POST", "/api/v1/pool/claim", {"ids": [target]}, tokens[i + 3]))
            requests.append((live_url, "POST", "/api/v1/pool/assign", {"ids": [target], "owner": sellers[i].id},
                             admin))
        answers = parallel_calls(requests)
        # 404: out of reach at that moment; 409: no longer in the pool (claim, assign)
        assert all(status in (200, 404, 409) for status, _ in answers), answers
        for request, (status, _) in zip(requests, answers):
            action = request[2].rsplit("/", 1)[1]
            if status == 200 and action in successes:
                successes[action] += 1
    rows = _history([target])
    # every row starts where the one before it ended: no lost or doubled change
    for before, after in zip(rows, rows[1:]):
        assert after.from_owner_id == before.to_owner_id, [(r.action, r.from_owner_id, r.to_owner_id) for r in rows]
    for action, count in successes.items():
        assert len([r for r in rows if r.action == action]) == count
    assert db.session.get(Customer, target).owner_id == rows[-1].to_owner_id


def test_parallel_assigns_to_one_employee_respect_the_holding_limit(ctx, live_url):
    _rules(max_owned=2)
    seller = f.employee("被分配的")
    pooled = [f.customer(None).id for _ in range(12)]
    admin = token(live_url, "admin", ADMIN_PASSWORD)
    answers = parallel_calls([(live_url, "POST", "/api/v1/pool/assign", {"ids": [pk], "owner": seller.id}, admin)
                         for pk in pooled])
    assert [s for s, _ in answers].count(200) == 2, answers
    assert all(status in (200, 400) for status, _ in answers), answers
    assert len(_history(pooled, "assign")) == 2
