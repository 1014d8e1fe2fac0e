"""Check-then-write as one step under concurrency (pool limits, claims, releases).

PostgreSQL: the rows that guard a rule are locked with SELECT … FOR NO KEY UPDATE, always in id order.
(NO KEY: a plain FOR UPDATE also blocks the key-share locks that foreign-key checks take, e.g. an
owner history row naming the employee, and two changes then deadlock.)

SQLite has no row locks: the transaction takes the database's write lock up front (BEGIN IMMEDIATE),
before it reads what it checks, so writers run one after another (and wait busy_timeout for each other
instead of failing)."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from app.extensions import db


def write_lock(model=None, ids: Iterable[int] = ()) -> None:
    """Call first in a unit of work. Locks the rows `ids` of `model` (PostgreSQL) or the database (SQLite)."""
    ids = sorted({int(i) for i in ids if i is not None})
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        # pysqlite opens a transaction only before a write: without one open, start it as the writer;
        # with one open, a write already holds the lock
        if not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    if model is not None and ids:
        db.session.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id)
                           .with_for_update(key_share=True))
