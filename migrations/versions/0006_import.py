"""import: import jobs, the job that created a record, customer company name optional

Revision ID: 0006_import
Revises: 0005_call_center
Create Date: 2026-11-29 20:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_import'
down_revision = '0005_call_center'
branch_labels = None
depends_on = None

RECORD_TABLES = ('customer', 'contact', 'product')


def upgrade():
    op.create_table(
        'import_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('module', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('ab_user.id', ondelete='SET NULL'), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('file_path', sa.String(length=512), nullable=True),
        sa.Column('file_format', sa.String(length=8), nullable=False),
        sa.Column('duplicate', sa.String(length=16), nullable=False),
        sa.Column('owner_id', sa.Integer(), sa.ForeignKey('ab_user.id', ondelete='SET NULL'), nullable=True),
        sa.Column('mapping', sa.Text(), nullable=True),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('overwritten', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('error_path', sa.String(length=512), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('undo_message', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_import_job_user_created', 'import_job', ['user_id', 'created_at'])
    op.create_index('ix_import_job_status', 'import_job', ['status'])
    for table in RECORD_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('import_job_id', sa.Integer(), nullable=True))
            batch.create_index(f'ix_{table}_import_job_id', ['import_job_id'])
    with op.batch_alter_table('customer') as batch:
        batch.alter_column('company_name', existing_type=sa.String(length=128), nullable=True)


def downgrade():
    with op.batch_alter_table('customer') as batch:
        batch.alter_column('company_name', existing_type=sa.String(length=128), nullable=False)
    for table in RECORD_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f'ix_{table}_import_job_id')
            batch.drop_column('import_job_id')
    op.drop_index('ix_import_job_status', table_name='import_job')
    op.drop_index('ix_import_job_user_created', table_name='import_job')
    op.drop_table('import_job')
