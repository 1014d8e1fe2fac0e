"""indexes for sorts on nullable columns (NULLS LAST) and for substring search

Substring search (app/textsearch.py): on PostgreSQL a pg_trgm GIN index per keyword column (ILIKE
'%…%' uses it); on SQLite an FTS5 table `<table>_fts` (trigram tokenizer, external content = the
table) per module table, filled here and kept in sync by insert/update/delete triggers.

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

# table -> keyword columns; the same as app/textsearch.INDEXED at this revision
SEARCH_COLUMNS = {
    'customer': ('company_name', 'contact_name', 'mobile'),
    'contact': ('name', 'mobile'),
    'opportunity': ('name',),
    'contract': ('number', 'name'),
    'product': ('code', 'name'),
    'followup': ('content',),
    'invoice': ('number',),
    'customer_group': ('name',),
    'seat': ('number', 'name'),
}


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    for table, column, indexed in SORT_COLUMNS:
        if not indexed:
            op.create_index(f'ix_{table}_{column}', table, [column])
        if _postgresql():
            op.create_index(f'ix_{table}_{column}_desc', table, [sa.text(f'{column} DESC NULLS LAST')])
    if _postgresql():
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for table, columns in SEARCH_COLUMNS.items():
            for column in columns:
                op.execute(f'CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops)')
        return
    for table, columns in SEARCH_COLUMNS.items():
        names = ', '.join(columns)
        new = ', '.join(f'new.{c}' for c in columns)
        old = ', '.join(f'old.{c}' for c in columns)
        op.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5({names}, content='{table}', content_rowid='id', "
                   f"tokenize='trigram')")
        op.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
        op.execute(f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {table}_fts(rowid, {names}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {table}_fts({table}_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END")
        op.execute(f"CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {names} ON {table} BEGIN "
                   f"INSERT INTO {table}_fts({table}_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO {table}_fts(rowid, {names}) VALUES (new.id, {new}); END")


def downgrade():
    for table, columns in SEARCH_COLUMNS.items():
        if _postgresql():
            for column in columns:
                op.execute(f'DROP INDEX IF EXISTS ix_{table}_{column}_trgm')
        else:
            for action in ('insert', 'delete', 'update'):
                op.execute(f'DROP TRIGGER IF EXISTS {table}_fts_{action}')
            op.execute(f'DROP TABLE IF EXISTS {table}_fts')
    for table, column, indexed in reversed(SORT_COLUMNS):
        if _postgresql():
            op.drop_index(f'ix_{table}_{column}_desc', table_name=table)
        if not indexed:
            op.drop_index(f'ix_{table}_{column}', table_name=table)
