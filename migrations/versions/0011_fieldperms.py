"""the money stays with its owner when a customer goes to the pool

Before this revision a customer returned to the pool took its opportunities, contracts and invoices
with it (no owner), and everyone who may look into the pool could read them. They now stay with their
owner (app/customers.POOL_FOLLOWERS); this gives the ones already in the pool back to the employee who
last returned the customer (the owner history's last move into the pool), with that employee's
department. Data only: no schema change.

Revision ID: 0011_fieldperms
Revises: 0010_sessions
Create Date: 2026-11-29 20:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_fieldperms'
down_revision = '0010_sessions'
branch_labels = None
depends_on = None

MONEY_TABLES = ('opportunity', 'contract', 'invoice')


def upgrade():
    history = sa.table('owner_history', sa.column('id'), sa.column('customer_id'), sa.column('from_owner_id'),
                       sa.column('to_owner_id'), sa.column('at'))
    users = sa.table('ab_user', sa.column('id'), sa.column('department_id'))
    for name in MONEY_TABLES:
        table = sa.table(name, sa.column('id'), sa.column('customer_id'), sa.column('owner_id'),
                         sa.column('department_id'))
        last_owner = (sa.select(history.c.from_owner_id)
                      .where(history.c.customer_id == table.c.customer_id, history.c.to_owner_id.is_(None),
                             history.c.from_owner_id.isnot(None))
                      .order_by(history.c.at.desc(), history.c.id.desc()).limit(1).scalar_subquery())
        op.execute(table.update().where(table.c.owner_id.is_(None)).values(owner_id=last_owner))
        department = sa.select(users.c.department_id).where(users.c.id == table.c.owner_id).scalar_subquery()
        op.execute(table.update().where(table.c.owner_id.isnot(None), table.c.department_id.is_(None))
                   .values(department_id=department))


def downgrade():
    # the owners given back are right either way; nothing to undo
    pass
