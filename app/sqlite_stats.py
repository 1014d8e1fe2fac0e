"""SQLite's planner statistics (sqlite_stat1), kept current as the tables grow.

PostgreSQL's autovacuum keeps its statistics; SQLite has only what ANALYZE last wrote, and a database that
grew from the demo data to 1,000,000 customers has none. Without them the planner guesses, and a scoped list
sorted by 最后跟进时间 took 350 ms instead of 6 (bench/bench_scale.py on a copy with sqlite_stat1 emptied), as
does app/scope_plan.py's choice, which reads them. `PRAGMA optimize` (SQLite 3.40 here) re-analyzes only after
a 25-fold growth and only tables this connection used; `PRAGMA analysis_limit` samples, and its estimates
(ten million index entries for one million rows) led the planner to a full scan.

So: a table with at least MIN_ROWS rows is analyzed in full when it has no statistics or its size (its largest
rowid: one index probe) has halved or doubled since. ANALYZE of 1,000,000 customers takes about 0.5 s; the
check costs a few index probes. It runs after an import job, in `crm init` / `crm demo-data`, and in the
server every SQLITE_ANALYZE_SECONDS (default 3600; 0: never) on a background thread after a request.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import text

MIN_ROWS = 1_000
_due = 0.0
worker = None  # the last refresh's thread
_lock = threading.Lock()


def _tables(connection) -> list[str]:
    rows = connection.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).all()
    virtual = [name for name, sql in rows if (sql or "").startswith("CREATE VIRTUAL")]
    # a full-text index's own tables (customer_fts_data, …) are the extension's business
    return [name for name, _sql in rows if name not in virtual and not any(name.startswith(f"{v}_") for v in virtual)]


def stale_tables(connection) -> list[str]:
    """The tables whose statistics are missing or off by a factor of two."""
    try:
        known: dict[str, int] = {}
        for table, stat in connection.execute(text("SELECT tbl, stat FROM sqlite_stat1")).all():
            first = (stat or "").split(" ", 1)[0]
            if first.isdigit():
                known[table] = max(known.get(table, 0), int(first))
    except Exception:  # no sqlite_stat1 yet: nothing was ever analyzed
        known = {}
    stale = []
    for table in _tables(connection):
        try:
            rows = connection.execute(text(f'SELECT max(rowid) FROM "{table}"')).scalar() or 0
        except Exception:  # a table without rowid
            continue
        if rows < MIN_ROWS:
            continue
        before = known.get(table)
        if not before or rows > 2 * before or rows * 2 < before:
            stale.append(table)
    return stale


def refresh(connection) -> list[str]:
    """ANALYZE the stale tables (SQLite only); the tables analyzed."""
    if connection.dialect.name != "sqlite":
        return []
    stale = stale_tables(connection)
    for table in stale:
        connection.execute(text(f'ANALYZE "{table}"'))
    if stale:
        connection.commit()
    return stale


def refresh_engine(engine) -> list[str]:
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as connection:
        return refresh(connection)


def init_app(app) -> None:
    """Every SQLITE_ANALYZE_SECONDS (read per request), after a request, refresh on a thread of its own."""
    if not str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        return

    @app.after_request
    def _maybe_refresh(response):
        global _due, worker
        seconds = float(app.config.get("SQLITE_ANALYZE_SECONDS") or 0)
        now = time.monotonic()
        if seconds > 0 and now >= _due and _lock.acquire(blocking=False):
            _due = now + seconds
            worker = threading.Thread(target=_run, args=(app,), name="sqlite-analyze", daemon=True)
            worker.start()
        return response


def _run(app) -> None:
    from app.extensions import db

    try:
        with app.app_context():
            analyzed = refresh_engine(db.engine)
            if analyzed:
                app.logger.info("ANALYZE: %s", ", ".join(analyzed))
    except Exception:  # a busy database: the next round tries again
        app.logger.exception("refreshing SQLite statistics failed")
    finally:
        _lock.release()
