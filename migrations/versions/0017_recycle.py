"""the recycle bin (回收站): deleted_at / deleted_by_id / deleted_batch on the seven deletable tables

A deleted customer, contact, opportunity, contract, product, follow-up or invoice stays in its table with
`deleted_at` set (app/recycle.py hides it everywhere else). Its unique values (a customer's mobile, a
contract's, invoice's or product's number) must be free while it is in the bin, so the unique constraints
become partial unique indexes `WHERE deleted_at IS NULL` on both databases. SQLite cannot drop a constraint:
those four tables are rebuilt (batch mode; migrations/env.py turns foreign keys off around migrations, or the
implicit DELETE of the old table would cascade to every child row), which drops their FTS5 triggers
(app/textsearch.py): they are created again here.

The data center's covering indexes (0008_stats) and the owner index the lists count on become partial as
well (`WHERE deleted_at IS NULL`, with deleted_at as their last column), so the queries that now say
`deleted_at IS NULL` still read them alone.

Revision ID: 0017_recycle
Revises: 0014_keyset
Create Date: 2026-11-29 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_recycle'
down_revision = '0014_keyset'
branch_labels = None
depends_on = None

TABLES = ('customer', 'contact', 'opportunity', 'contract', 'product', 'followup', 'invoice')
# table -> its unique column (a constraint until now; PostgreSQL named it <table>_<column>_key)
UNIQUE = {'customer': 'mobile', 'product': 'code', 'contract': 'number', 'invoice': 'number'}
# the keyword columns of app/textsearch.INDEXED (as in 0012_speed) of these tables: a table rebuilt on SQLite
# loses its FTS5 triggers
SEARCH_COLUMNS = {'customer': ('company_name', 'contact_name', 'mobile'), 'contact': ('name', 'mobile'),
                  'opportunity': ('name',), 'contract': ('number', 'name'), 'product': ('code', 'name'),
                  'followup': ('content',), 'invoice': ('number',)}
# index name -> (table, columns): made partial WHERE deleted_at IS NULL (as declared in models/stats_indexes.py
# and the models' __table_args__)
LIVE_INDEXES = {
    'ix_customer_owner_id_id': ('customer', ['owner_id', 'id']),
    'ix_customer_stats_owner': ('customer', ['owner_id', 'created_at', 'status_id', 'source_id']),
    'ix_customer_stats_time': ('customer', ['created_at', 'owner_id', 'status_id', 'source_id']),
    'ix_followup_stats_owner': ('followup', ['owner_id', 'followed_at', 'way', 'customer_id']),
    'ix_followup_stats_time': ('followup', ['followed_at', 'owner_id', 'way', 'customer_id']),
    'ix_followup_stats_next': ('followup', ['next_followup_at', 'owner_id', 'customer_id', 'followed_at']),
    'ix_followup_stats_owner_next': ('followup', ['owner_id', 'next_followup_at', 'customer_id', 'followed_at']),
    'ix_opportunity_stats_owner': ('opportunity', ['owner_id', 'created_at']),
    'ix_opportunity_stats_time': ('opportunity', ['created_at', 'owner_id']),
    'ix_contract_stats_owner': ('contract', ['owner_id', 'signed_on']),
    'ix_contract_stats_time': ('contract', ['signed_on', 'owner_id']),
    'ix_invoice_stats_owner': ('invoice', ['owner_id', 'issued_on']),
    'ix_invoice_stats_time': ('invoice', ['issued_on', 'owner_id']),
}
LIVE = sa.text('deleted_at IS NULL')


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def _fts_triggers(table):
    columns = SEARCH_COLUMNS[table]
    names = ', '.join(columns)
    new = ', '.join(f'new.{c}' for c in columns)
    old = ', '.join(f'old.{c}' for c in columns)
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_fts_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {table}_fts(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_fts_delete AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, {names}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_fts_update AFTER UPDATE OF {names} ON {table} BEGIN "
               f"INSERT INTO {table}_fts({table}_fts, rowid, {names}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {table}_fts(rowid, {names}) VALUES (new.id, {new}); END")


def _analysed_tables():
    """SQLite: the tables the planner has statistics for (ANALYZE ran once); a rebuilt table loses them."""
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        return []
    found = {row[0] for row in bind.execute(sa.text('SELECT DISTINCT tbl FROM sqlite_stat1'))}
    return [table for table in TABLES if table in found]


def upgrade():
    postgresql = _postgresql()
    # PostgreSQL: the new column has no statistics until ANALYZE, and every list now says `deleted_at IS NULL`;
    # without them the planner guesses that almost no row is live (at 1,000,000 customers the API's first
    # page went from 12 to 576 ms, the name search from 12 ms to 2.6 s, until ANALYZE ran)
    analysed = list(TABLES) if postgresql else _analysed_tables()
    # first the rebuilds (SQLite), while these tables have no partial index for batch mode to carry over
    for table, column in UNIQUE.items():
        if postgresql:
            op.drop_constraint(f'{table}_{column}_key', table, type_='unique')
        else:
            with op.batch_alter_table(table, recreate='always',
                                      naming_convention={'uq': 'uq_%(table_name)s_%(column_0_name)s'}) as batch:
                batch.drop_constraint(f'uq_{table}_{column}', type_='unique')
            _fts_triggers(table)
    for table in TABLES:
        op.add_column(table, sa.Column('deleted_at', sa.DateTime(), nullable=True))
        op.add_column(table, sa.Column('deleted_by_id', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('deleted_batch', sa.String(length=32), nullable=True))
        if postgresql:  # SQLite cannot add a constraint to a table; the model declares it (no ORM cascade)
            op.create_foreign_key(f'fk_{table}_deleted_by_id', table, 'ab_user', ['deleted_by_id'], ['id'],
                                  ondelete='SET NULL')
        # the bin's list (newest first) and the purge read only binned rows: small partial indexes
        op.create_index(f'ix_{table}_deleted_at', table, ['deleted_at'],
                        sqlite_where=sa.text('deleted_at IS NOT NULL'),
                        postgresql_where=sa.text('deleted_at IS NOT NULL'))
        op.create_index(f'ix_{table}_deleted_batch', table, ['deleted_batch'],
                        sqlite_where=sa.text('deleted_batch IS NOT NULL'),
                        postgresql_where=sa.text('deleted_batch IS NOT NULL'))
    for table, column in UNIQUE.items():
        op.create_index(f'uq_{table}_{column}_live', table, [column], unique=True,
                        sqlite_where=LIVE, postgresql_where=LIVE)
        # the binned ones by the same value: an import's duplicate check says "在回收站中"
        op.create_index(f'ix_{table}_{column}_binned', table, [column],
                        sqlite_where=sa.text('deleted_at IS NOT NULL'),
                        postgresql_where=sa.text('deleted_at IS NOT NULL'))
    for name, (table, columns) in LIVE_INDEXES.items():
        op.drop_index(name, table_name=table)
        # deleted_at as the last column although the index holds only NULLs there: SQLite counts an index as
        # covering only when it names every column of the statement (which says deleted_at IS NULL)
        op.create_index(name, table, columns + ['deleted_at'], sqlite_where=LIVE, postgresql_where=LIVE)
    for table in analysed:  # the statistics the rebuild dropped, and those of the new indexes
        op.execute(f'ANALYZE {table}')


def downgrade():
    postgresql = _postgresql()
    for name, (table, columns) in LIVE_INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    for table in TABLES:
        op.execute(sa.text(f'DELETE FROM {table} WHERE deleted_at IS NOT NULL'))
    for table, column in UNIQUE.items():
        op.drop_index(f'ix_{table}_{column}_binned', table_name=table)
        op.drop_index(f'uq_{table}_{column}_live', table_name=table)
        if postgresql:
            op.create_unique_constraint(f'{table}_{column}_key', table, [column])
    for table in TABLES:
        op.drop_index(f'ix_{table}_deleted_batch', table_name=table)
        op.drop_index(f'ix_{table}_deleted_at', table_name=table)
        if postgresql:
            op.drop_constraint(f'fk_{table}_deleted_by_id', table, type_='foreignkey')
        with op.batch_alter_table(table) as batch:
            batch.drop_column('deleted_batch')
            batch.drop_column('deleted_by_id')
            batch.drop_column('deleted_at')
        if not postgresql:
            _fts_triggers(table)
    if not postgresql:
        for table, column in UNIQUE.items():
            with op.batch_alter_table(table, recreate='always') as batch:
                batch.create_unique_constraint(f'uq_{table}_{column}', [column])
            _fts_triggers(table)
