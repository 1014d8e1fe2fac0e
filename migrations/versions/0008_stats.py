"""data center: indexes for the statistics' aggregates (models/stats_indexes.py)

Revision ID: 0008_stats
Revises: 0006_import
Create Date: 2026-11-29 20:20:00

"""
from alembic import op

revision = '0008_stats'
down_revision = '0006_import'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_call_record_stats_owner', 'call_record', ['owner_id', 'created_at', 'disposition', 'talk_seconds']),
    ('ix_call_record_stats_time', 'call_record', ['created_at', 'owner_id', 'disposition', 'talk_seconds']),
    ('ix_customer_stats_owner', 'customer', ['owner_id', 'created_at', 'status_id', 'source_id']),
    ('ix_customer_stats_time', 'customer', ['created_at', 'owner_id', 'status_id', 'source_id']),
    ('ix_owner_history_stats', 'owner_history', ['action', 'at', 'to_owner_id', 'from_owner_id']),
    ('ix_followup_stats_owner', 'followup', ['owner_id', 'followed_at', 'way', 'customer_id']),
    ('ix_followup_stats_time', 'followup', ['followed_at', 'owner_id', 'way', 'customer_id']),
    ('ix_followup_stats_next', 'followup', ['next_followup_at', 'owner_id', 'customer_id', 'followed_at']),
    ('ix_followup_stats_owner_next', 'followup', ['owner_id', 'next_followup_at', 'customer_id', 'followed_at']),
    ('ix_opportunity_stats_owner', 'opportunity', ['owner_id', 'created_at']),
    ('ix_opportunity_stats_time', 'opportunity', ['created_at', 'owner_id']),
    ('ix_contract_stats_owner', 'contract', ['owner_id', 'signed_on']),
    ('ix_contract_stats_time', 'contract', ['signed_on', 'owner_id']),
    ('ix_invoice_stats_owner', 'invoice', ['owner_id', 'issued_on']),
    ('ix_invoice_stats_time', 'invoice', ['issued_on', 'owner_id']),
]


def upgrade():
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
