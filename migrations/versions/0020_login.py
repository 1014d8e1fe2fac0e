"""login lockout and per-address throttle counters (login_throttle)

Revision ID: 0020_login
Revises: 0019_auditui
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020_login'
down_revision = '0019_auditui'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_throttle',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.Float(), nullable=False),
        sa.Column('locked_until', sa.Float(), nullable=True),
        sa.Column('delay', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'key', name='uq_login_throttle_kind_key'),
    )
    op.create_index('ix_login_throttle_window_start', 'login_throttle', ['window_start'])


def downgrade():
    op.drop_index('ix_login_throttle_window_start', table_name='login_throttle')
    op.drop_table('login_throttle')
