"""The data scope's `owner_id IN (…)` on SQLite, when a page is sorted: walk the sort's index or probe the owners.

A 销售主管 (本人及下属) over 125 of 2,000 employees sees about 6 % of 1,000,000 customers. Sorted by 最后跟进时间
and cut to 50 rows, the page is found by walking `ix_customer_last_followup_at` backwards until 50 rows are in
scope — about 800 rows. SQLite's planner does not weigh the LIMIT: it probes the owner index for every owner
(62,500 rows), then sorts them all (bench/bench_scale.py: 89 ms against the first page's 6). PostgreSQL weighs
the LIMIT and walks.

`ScopeIn` is that predicate with the numbers to decide by. On SQLite, inside a SELECT with ORDER BY on an
indexed column of the same table and a LIMIT, it renders `+owner_id IN (…)` — SQLite's documented way to keep
an index out of a term — when walking is cheaper: a walk reads about (offset + limit) / share rows, the
probes share × rows, and a walked row costs about a sixth of a probed and sorted one (measured at 1,000,000:
walking 100,000 index entries 22 ms, probing and sorting 62,500 rows 80 ms). It stays `owner_id IN (…)` for
a narrow scope (a few owners: the probes win), for a count (no ORDER BY: the owner index counts), for a sort
on a column without an index, and everywhere on PostgreSQL.

The share comes from SQLite's own statistics (sqlite_stat1, kept by ANALYZE: the migrations and `crm init`
run it): rows in the table and rows per owner. Without statistics nothing changes. The decision depends on
the offset, so a statement holding this predicate is compiled per execution (not taken from SQLAlchemy's
compiled cache): about 1 ms, only for scoped lists on SQLite.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Boolean, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BindParameter, ColumnElement, UnaryExpression
from sqlalchemy.sql.visitors import InternalTraversal

# a probed and sorted row costs about six walked index entries (see above); four keeps a margin
PROBE_TO_WALK = 4
FACTS_SECONDS = 300


@dataclass(frozen=True)
class TableFacts:
    rows: int
    rows_per_owner: float
    indexed: frozenset  # the columns an index starts with, and the rowid's


_facts: dict = {}
_lock = threading.Lock()


def table_facts(connection, table: str, owner_column: str):
    """(rows, rows per owner, leading index columns) of a SQLite table from sqlite_stat1; None without
    statistics. Kept for FACTS_SECONDS per database and table."""
    key = (str(connection.engine.url), table, owner_column)
    now = time.monotonic()
    found = _facts.get(key)
    if found is not None and now - found[0] < FACTS_SECONDS:
        return found[1]
    facts = _read_facts(connection, table, owner_column)
    with _lock:
        _facts[key] = (now, facts)
    return facts


def _read_facts(connection, table: str, owner_column: str):
    try:
        stats = dict(connection.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}).all())
    except Exception:  # no sqlite_stat1 before the first ANALYZE
        return None
    indexed, rows, per_owner = {"id"}, 0, None
    for _seq, name, *_ in connection.execute(text(f'PRAGMA index_list("{table}")')).all():
        columns = [row[2] for row in connection.execute(text(f'PRAGMA index_info("{name}")')).all()]
        if not columns or columns[0] is None:
            continue
        indexed.add(columns[0])
        numbers = (stats.get(name) or "").split()
        if len(numbers) >= 2 and numbers[0].isdigit() and numbers[1].isdigit():
            rows = max(rows, int(numbers[0]))
            if columns[0] == owner_column:
                per_owner = int(numbers[1])
    if not rows or not per_owner:
        return None
    return TableFacts(rows, per_owner, frozenset(indexed))


class ScopeIn(ColumnElement):
    """`column IN (owners)`, with what the SQLite compiler needs to choose between walking and probing."""
    __visit_name__ = "scope_in"
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate as it stands (not `… = 1` on SQLite)
    inherit_cache = False  # the choice depends on the statement's offset, which the cache key leaves out
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("owners", InternalTraversal.dp_clauseelement),
                           ("walk_rows", InternalTraversal.dp_plain_obj),
                           ("indexed", InternalTraversal.dp_plain_obj)]

    def __init__(self, column, owners: BindParameter, walk_rows: float, indexed: frozenset):
        self.column = column
        self.owners = owners
        self.walk_rows = walk_rows  # walking wins while offset + limit stays below this
        self.indexed = indexed  # the columns a sort can walk by

    @property
    def _from_objects(self):
        return self.column._from_objects


def scope_in(column, owners: BindParameter, count: int):
    """The scope predicate for `count` owners; plain `IN` when the database is not SQLite or has no statistics."""
    from app.extensions import db

    plain = column.in_(owners)
    if db.engine.dialect.name != "sqlite":
        return plain
    column = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    table = getattr(column, "table", None)
    if table is None:
        return plain
    facts = table_facts(db.session.connection(), table.name, column.name)
    if facts is None:
        return plain
    share = min(1.0, count * facts.rows_per_owner / facts.rows)
    # walking reads (offset + limit) / share entries, probing share * rows rows at PROBE_TO_WALK entries each
    return ScopeIn(column, owners, share * share * facts.rows * PROBE_TO_WALK, facts.indexed)


@compiles(ScopeIn)
def _plain(element: ScopeIn, compiler, **kw):
    return compiler.process(element.column.in_(element.owners), **kw)


@compiles(ScopeIn, "sqlite")
def _sqlite(element: ScopeIn, compiler, **kw):
    if not _walks(element, compiler):
        return compiler.process(element.column.in_(element.owners), **kw)
    unindexed = UnaryExpression(element.column, operator=operators.custom_op("+"), type_=element.column.type)
    return compiler.process(unindexed.in_(element.owners), **kw)


def _int(clause):
    value = getattr(clause, "value", None) if clause is not None else 0
    return value if isinstance(value, int) else None


def _walks(element: ScopeIn, compiler) -> bool:
    """Walk when the enclosing SELECT is sorted, first by an indexed column of the same table (not the owner),
    and its offset + limit is within the element's budget."""
    statement = compiler.stack[-1].get("selectable") if compiler.stack else None
    order = getattr(statement, "_order_by_clauses", ())
    limit = _int(getattr(statement, "_limit_clause", None))
    offset = _int(getattr(statement, "_offset_clause", None))
    if not order or not limit or offset is None or offset + limit > element.walk_rows:
        return False
    column = order[0]
    while not hasattr(column, "table") and hasattr(column, "element"):
        column = column.element  # desc(), nulls_last(), a label
    table = getattr(column, "table", None)
    return (table is not None and table.name == element.column.table.name
            and column.name != element.column.name and column.name in element.indexed)
