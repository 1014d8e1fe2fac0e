"""One writer at a time for a key (a mobile number, a seat): the check-then-write steps that follow run
alone, in one transaction, on PostgreSQL (an advisory lock) and on SQLite (the database's write lock)."""
from __future__ import annotations

import zlib

from sqlalchemy import text

from app.extensions import db


def serialise(key: str) -> None:
    """Call first in a transaction; held until it commits or rolls back."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode())})
    else:
        # any write statement opens the write transaction (BEGIN + RESERVED lock): other writers wait on
        # busy_timeout, and what this transaction reads next is not changed under it
        db.session.execute(text("DELETE FROM sms_message WHERE 0 = 1"))
