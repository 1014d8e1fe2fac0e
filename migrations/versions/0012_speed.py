"""indexes for sorts on nullable columns (NULLS LAST)

Every sortable column of the generated modules that may be empty is sorted with NULLS LAST in both
directions (views/datamodel.CrmInterface.apply_order_by). An ascending index serves ASC NULLS LAST on
both databases and DESC NULLS LAST on SQLite (NULLs are its smallest values); PostgreSQL needs a
second index in DESC NULLS LAST order for the DESC sort (before: 最后跟进时间 desc sorted every row).

Revision ID: 0012_speed
Revises: 0011_fieldperms
Create Date: 2026-11-29 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_speed'
down_revision = '0011_fieldperms'
branch_labels = None
depends_on = None

# (table, column, has an ascending index already)
SORT_COLUMNS = (
    ('customer', 'company_name', True), ('customer', 'last_followup_at', True), ('customer', 'released_at', False),
    ('opportunity', 'amount', False), ('opportunity', 'expected_close', False),
    ('contract', 'amount', False), ('contract', 'signed_on', True),
    ('product', 'price', False), ('followup', 'next_followup_at', True), ('invoice', 'issued_on', True),
)


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    for table, column, indexed in SORT_COLUMNS:
        if not indexed:
            op.create_index(f'ix_{table}_{column}', table, [column])
        if _postgresql():
            op.create_index(f'ix_{table}_{column}_desc', table, [sa.text(f'{column} DESC NULLS LAST')])


def downgrade():
    for table, column, indexed in reversed(SORT_COLUMNS):
        if _postgresql():
            op.drop_index(f'ix_{table}_{column}_desc', table_name=table)
        if not indexed:
            op.drop_index(f'ix_{table}_{column}', table_name=table)
