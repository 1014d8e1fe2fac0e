"""A fresh application on an empty database made by the real migrations, for the benchmarks that measure
through the test client: `DATABASE_URL` (SQLite in the script's instance folder by default; PostgreSQL's
public schema is dropped and made again), TestConfig, and the administrator's password."""
from __future__ import annotations

import os
import statistics
import time


def fresh_app(db_url: str | None, admin_password: str, configure=None):
    """(the app on a new database, the database's dialect name); `configure(app)` runs before the database
    is prepared."""
    os.environ["DATABASE_URL"] = db_url or f"sqlite:///{os.environ['CRM_INSTANCE_DIR']}/bench.db"
    os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 40)

    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    dialect = engine.dialect.name
    engine.dispose()

    from app import create_app
    from app.cli import prepare_database
    from config import TestConfig

    app = create_app(TestConfig)
    if configure is not None:
        configure(app)
    with app.app_context():
        prepare_database(admin_password)
    return app, dialect


def timed(fn, runs: int) -> tuple[float, float]:
    """Median and p90 ms of `runs` calls of `fn` after two warm-ups."""
    for _ in range(2):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.9) - 1)]
