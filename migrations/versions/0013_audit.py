"""the audit trail (审计日志)

Revision ID: 0013_audit
Revises: 0012_speed
Create Date: 2026-11-29 21:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_audit'
down_revision = '0012_speed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=64), nullable=True),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('module', sa.String(length=32), nullable=True),
        sa.Column('record_ids', sa.Text(), nullable=True),
        sa.Column('changes', sa.Text(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['ab_user.id'],
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_action_at', 'audit_log', ['action', 'at'])
    op.create_index('ix_audit_log_actor_at', 'audit_log', ['actor_id', 'at'])
    op.create_index('ix_audit_log_module_at', 'audit_log', ['module', 'at'])


def downgrade():
    op.drop_table('audit_log')
