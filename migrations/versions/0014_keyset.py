"""crm_cache_version: a counter the permission caches are keyed on (app/authcache.py)

Revision ID: 0014_keyset
Revises: 0013_audit
Create Date: 2026-11-29 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_keyset'
down_revision = '0013_audit'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'crm_cache_version',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.bulk_insert(table, [{'name': 'auth', 'value': 0}])


def downgrade():
    op.drop_table('crm_cache_version')
