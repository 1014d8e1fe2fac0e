"""the records each audit entry is about (audit_log_record): a customer's 操作记录 by index

Revision ID: 0019_auditui
Revises: 0018_headers
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019_auditui'
down_revision = '0018_headers'
branch_labels = None
depends_on = None

NOT_RECORDS = ("import", "export")


def upgrade():
    op.create_table(
        'audit_log_record',
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('module', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['audit_log.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('entry_id', 'record_id'),
    )
    op.create_index('ix_audit_log_record_module_record', 'audit_log_record', ['module', 'record_id', 'entry_id'])
    # the entries written before: their record ids, indexed the same way
    conn = op.get_bind()
    log = sa.table('audit_log', sa.column('id', sa.Integer()), sa.column('module', sa.String()),
                   sa.column('action', sa.String()), sa.column('record_ids', sa.Text()))
    target = sa.table('audit_log_record', sa.column('entry_id', sa.Integer()), sa.column('record_id', sa.Integer()),
                      sa.column('module', sa.String()))
    last = 0
    while True:
        rows = conn.execute(sa.select(log.c.id, log.c.module, log.c.record_ids)
                            .where(log.c.id > last, log.c.record_ids.isnot(None), log.c.module.isnot(None),
                                   log.c.action.notin_(NOT_RECORDS))
                            .order_by(log.c.id).limit(2000)).all()
        if not rows:
            break
        values = []
        for entry_id, module, record_ids in rows:
            ids = dict.fromkeys(int(i) for i in record_ids.split(",")
                                if i.isascii() and i.isdigit() and int(i) < 2 ** 31)
            values += [{"entry_id": entry_id, "record_id": i, "module": module} for i in ids]
        if values:
            conn.execute(target.insert(), values)
        last = rows[-1][0]


def downgrade():
    op.drop_table('audit_log_record')
