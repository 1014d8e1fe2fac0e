"""Migration 0018_headers: login_session.last_seen_at; a session open at the upgrade counts as last seen when it
started, and the column is NOT NULL afterwards (down and up again on the test database)."""
import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from models.auth import LoginSession
from tests import factories as f

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0018_headers.py"


def _run(step: str):
    spec = importlib.util.spec_from_file_location("migration_0018", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    db.session.remove()
    with db.engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            getattr(module, step)()


def test_open_sessions_count_as_seen_when_they_started(ctx):
    person_id = f.employee("迁移会话").id
    started = dt.datetime(2026, 11, 1, 8, 30)
    db.session.add(LoginSession(employee_id=person_id, key_hash="a" * 64, created_at=started, last_seen_at=started))
    db.session.commit()
    _run("downgrade")
    assert "last_seen_at" not in {c["name"] for c in inspect(db.engine).get_columns("login_session")}
    _run("upgrade")
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("login_session")}
    assert columns["last_seen_at"]["nullable"] is False
    row = db.session.execute(text("SELECT created_at, last_seen_at FROM login_session")).one()
    assert row.last_seen_at == row.created_at
    with pytest.raises(IntegrityError):
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO login_session (employee_id, key_hash, created_at) "
                                    "VALUES (:e, :k, :c)"), {"e": person_id, "k": "b" * 64, "c": started})
