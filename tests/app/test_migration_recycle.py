"""Migration 0017_recycle on a database with data, down and up again through migrations/env.py: on SQLite the
four tables whose unique constraint becomes a partial index are rebuilt, and nothing that hangs off them may go
(foreign keys are off during migrations), the FTS5 search triggers come back, and the unique rule holds again."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from app import textsearch
from app.extensions import db
from models.crm import Contact, Customer, FollowUp, OwnerHistory
from models.sales import Contract, Invoice, Opportunity, Product
from tests import factories as f


def _counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model.__table__))
            for model in (Customer, Contact, FollowUp, Opportunity, Contract, Invoice, Product, OwnerHistory)}


def test_down_and_up_again_keeps_every_row_and_the_search(ctx):
    seller = f.employee("迁移")
    customer = f.customer(seller, "迁移公司", "13912340000")
    db.session.add(Contact(customer_id=customer.id, name="迁移联系人", owner_id=seller.id))
    db.session.add(FollowUp(customer_id=customer.id, content="迁移跟进", owner_id=seller.id))
    opportunity = Opportunity(customer_id=customer.id, name="迁移商机", owner_id=seller.id)
    db.session.add_all([opportunity, Product(code="MIG-1", name="迁移产品")])
    db.session.flush()
    contract = Contract(customer_id=customer.id, opportunity_id=opportunity.id, number="HT-MIG", name="迁移合同",
                        owner_id=seller.id)
    db.session.add(contract)
    db.session.flush()
    db.session.add(Invoice(contract_id=contract.id, customer_id=customer.id, number="FP-MIG", amount=1,
                           owner_id=seller.id))
    db.session.commit()
    customer_id = customer.id
    before = _counts()
    db.session.remove()
    try:
        downgrade(revision="0013_audit")
        assert "deleted_at" not in {c["name"] for c in inspect(db.engine).get_columns("customer")}
        assert _counts() == before
    finally:
        db.session.remove()
        upgrade()
    db.session.remove()
    assert _counts() == before
    if db.engine.dialect.name == "sqlite":
        triggers = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        for table in ("customer", "contact", "opportunity", "contract", "product", "followup", "invoice"):
            assert {f"{table}_fts_insert", f"{table}_fts_update", f"{table}_fts_delete"} <= triggers, table
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1
    # the search still finds by substring (FTS5 on SQLite), a renamed customer by its new name
    db.session.get(Customer, customer_id).company_name = "改名后的迁移公司"
    db.session.commit()
    found = db.session.scalars(select(Customer.id).where(
        textsearch.substring_predicate(Customer, ("company_name",), "改名后"))).all()
    assert found == [customer_id]
    # one live customer per mobile, again
    from sqlalchemy.exc import IntegrityError

    db.session.add(Customer(company_name="重号", mobile="13912340000"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
