"""Customer ownership as sales staff live it: the pool, claim limits, transfer, return, resignation."""
import datetime as dt

import pytest
from sqlalchemy import select

from app import customers, groups
from app import organisation as org
from app.errors import CrmError, NotFound
from app.extensions import db
from models.crm import Contact, Customer, OwnerHistory
from models.sales import Contract, Invoice, Opportunity
from tests import factories as f

pytestmark = pytest.mark.usefixtures("ctx")


def _rules(**values):
    rules = customers.pool_rules()
    for key, value in values.items():
        setattr(rules, key, value)
    db.session.commit()


def _history(customer_id):
    return [(h.action, h.from_owner_id, h.to_owner_id) for h in db.session.scalars(
        select(OwnerHistory).where(OwnerHistory.customer_id == customer_id).order_by(OwnerHistory.id))]


def test_claim_takes_pool_customers_and_records_history():
    seller = f.employee()
    pooled = f.customer(None)
    customers.claim([pooled.id], seller)
    db.session.expire_all()
    claimed = db.session.get(Customer, pooled.id)
    assert claimed.owner_id == seller.id and claimed.department_id == seller.department_id
    assert _history(pooled.id)[-1] == ("claim", None, seller.id)


def test_claim_of_an_owned_customer_is_refused_without_partial_change():
    seller, other = f.employee(), f.employee()
    free, taken = f.customer(None), f.customer(other)
    with pytest.raises(NotFound):
        customers.claim([free.id, taken.id], seller)
    db.session.expire_all()
    assert db.session.get(Customer, free.id).owner_id is None
    assert db.session.get(Customer, taken.id).owner_id == other.id


def test_daily_claim_limit():
    _rules(daily_claim_limit=2)
    seller = f.employee()
    pool = [f.customer(None) for _ in range(3)]
    customers.claim([pool[0].id, pool[1].id], seller)
    with pytest.raises(CrmError, match="2"):
        customers.claim([pool[2].id], seller)
    assert db.session.get(Customer, pool[2].id).owner_id is None


def test_ex_owner_cannot_reclaim_within_the_cooldown():
    _rules(reclaim_cooldown_days=7)
    seller, colleague = f.employee(), f.employee()
    mine = f.customer(seller)
    customers.release([mine.id], "没有需求", seller)
    with pytest.raises(CrmError):
        customers.claim([mine.id], seller)
    customers.claim([mine.id], colleague)  # anyone else may
    assert db.session.get(Customer, mine.id).owner_id == colleague.id


def test_holding_limit_applies_to_claim_assign_and_transfer():
    _rules(max_owned=1)
    seller, boss = f.employee(), f.admin()
    f.customer(seller)
    pooled = f.customer(None)
    with pytest.raises(CrmError):
        customers.claim([pooled.id], seller)
    with pytest.raises(CrmError):
        customers.assign([pooled.id], seller.id, boss)
    other = f.customer(boss)
    with pytest.raises(CrmError):
        customers.transfer([other.id], seller.id, boss)


def test_release_needs_a_reason_and_only_own_customers():
    seller, other = f.employee(), f.employee()
    mine, theirs = f.customer(seller), f.customer(other)
    with pytest.raises(CrmError):
        customers.release([mine.id], "  ", seller)
    with pytest.raises(NotFound):
        customers.release([theirs.id], "不要了", seller)  # another's customer: out of reach
    customers.release([mine.id], "不要了", seller)
    db.session.expire_all()
    released = db.session.get(Customer, mine.id)
    assert released.owner_id is None and released.release_reason == "不要了"
    assert db.session.get(Customer, theirs.id).owner_id == other.id


def test_transfer_moves_contacts_opportunities_contracts_and_invoices():
    boss = f.admin()
    seller, heir = f.employee(), f.employee()
    item = f.customer(seller)
    db.session.add(Contact(customer_id=item.id, name="联系人", owner_id=seller.id))
    opportunity = Opportunity(customer_id=item.id, name="项目", owner_id=seller.id)
    db.session.add(opportunity)
    db.session.flush()
    contract = Contract(customer_id=item.id, opportunity_id=opportunity.id, number="HT-1", name="合同",
                        owner_id=seller.id)
    db.session.add(contract)
    db.session.flush()
    db.session.add(Invoice(contract_id=contract.id, customer_id=item.id, number="FP-1", amount=100,
                           owner_id=seller.id))
    db.session.commit()
    customers.transfer([item.id], heir.id, boss)
    db.session.expire_all()
    for model in (Customer, Contact, Opportunity, Contract, Invoice):
        assert {row.owner_id for row in db.session.scalars(select(model))} == {heir.id}, model
    assert db.session.get(Customer, item.id).department_id == heir.department_id
    assert _history(item.id)[-1] == ("transfer", seller.id, heir.id)


def test_transfer_to_an_employee_out_of_scope_is_refused():
    seller, stranger = f.employee(), f.employee()
    mine = f.customer(seller)
    with pytest.raises(CrmError):
        customers.transfer([mine.id], stranger.id, seller)  # 销售 sees only themselves
    assert db.session.get(Customer, mine.id).owner_id == seller.id


def test_resign_moves_customers_to_the_chosen_employee_or_the_pool():
    leaver, heir, other_leaver = f.employee(), f.employee(), f.employee()
    a, b = f.customer(leaver), f.customer(other_leaver)
    org.resign_employees([leaver.id], heir.id)
    org.resign_employees([other_leaver.id], None)
    db.session.expire_all()
    assert db.session.get(Customer, a.id).owner_id == heir.id
    assert db.session.get(Customer, b.id).owner_id is None
    assert _history(a.id)[-1] == ("resign", leaver.id, heir.id)


def test_auto_release_is_safe_to_run_twice():
    _rules(auto_release_days=30)
    seller = f.employee()
    old = f.customer(seller, last_followup_at=dt.datetime(2020, 1, 1))
    fresh = f.customer(seller)
    assert customers.auto_release() == 1
    assert customers.auto_release() == 0
    db.session.expire_all()
    assert db.session.get(Customer, old.id).owner_id is None
    assert db.session.get(Customer, fresh.id).owner_id == seller.id
    assert [a for a, *_ in _history(old.id)].count("auto_release") == 1


def test_groups_are_private_to_their_owner():
    seller, other = f.employee(), f.employee()
    mine = f.customer(seller)
    group = groups.create_group("重点客户", seller)
    with pytest.raises(CrmError):
        groups.create_group("重点客户", seller)
    groups.create_group("重点客户", other)  # the same name for someone else is fine
    assert groups.add_to_group(group.id, [mine.id], seller) == 1
    assert groups.add_to_group(group.id, [mine.id], seller) == 0
    with pytest.raises(NotFound):
        groups.add_to_group(group.id, [mine.id], other)  # not their group
    theirs = f.customer(other)
    with pytest.raises(NotFound):
        groups.add_to_group(group.id, [theirs.id], seller)  # not their customer
    groups.update_group(group.id, seller, name="VIP", hidden=True)
    assert groups.visible_groups(seller) == []
    groups.delete_group(group.id, seller)
    assert db.session.get(Customer, mine.id) is not None
