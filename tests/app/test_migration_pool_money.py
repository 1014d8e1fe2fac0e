"""Migration 0011_fieldperms: money that a return to the pool took along (before the rule that it stays with its
owner) goes back to the employee who last returned the customer, with their department."""
import importlib.util
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import update

from app import customers
from app.extensions import db
from models.sales import Contract, Invoice, Opportunity
from tests import factories as f

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0011_fieldperms.py"


def _upgrade():
    spec = importlib.util.spec_from_file_location("migration_0011", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            module.upgrade()


def test_pooled_money_goes_back_to_whoever_returned_the_customer(ctx):
    seller, other = f.employee("退回的人"), f.employee("别人")
    pooled, kept = f.customer(seller, "公海里的"), f.customer(other, "还有主的")
    rows = {}
    for item, owner in ((pooled, seller), (kept, other)):
        opportunity = Opportunity(customer_id=item.id, name="商机", owner_id=owner.id)
        db.session.add(opportunity)
        db.session.flush()
        contract = Contract(customer_id=item.id, opportunity_id=opportunity.id, number=f"HT-{item.id}", name="合同",
                            owner_id=owner.id)
        db.session.add(contract)
        db.session.flush()
        invoice = Invoice(contract_id=contract.id, customer_id=item.id, number=f"FP-{item.id}", amount=1,
                          owner_id=owner.id)
        db.session.add(invoice)
        db.session.flush()
        rows[item.id] = (opportunity.id, contract.id, invoice.id)
    db.session.commit()
    customers.release([pooled.id], "不要了", seller)
    # what the old rule did: the money went into the pool with the customer
    for model in (Opportunity, Contract, Invoice):
        db.session.execute(update(model).where(model.customer_id == pooled.id).values(owner_id=None,
                                                                                      department_id=None))
    db.session.commit()
    _upgrade()
    db.session.expire_all()
    for model, pk in zip((Opportunity, Contract, Invoice), rows[pooled.id]):
        row = db.session.get(model, pk)
        assert (row.owner_id, row.department_id) == (seller.id, seller.department_id), model
    for model, pk in zip((Opportunity, Contract, Invoice), rows[kept.id]):
        assert db.session.get(model, pk).owner_id == other.id
