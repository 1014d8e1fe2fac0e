"""login_session.last_seen_at: a web session idle longer than SESSION_IDLE_MINUTES is ended.

Revision ID: 0018_headers
Revises: 0017_recycle
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_headers'
down_revision = '0017_recycle'
branch_labels = None
depends_on = None


def upgrade():
    # a session open at the upgrade counts as last seen when it started (naive UTC like every stamp here)
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE login_session SET last_seen_at = created_at")
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.alter_column('last_seen_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
