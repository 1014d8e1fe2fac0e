"""Fixtures: one app per test run, on SQLite (default) or on PostgreSQL when DATABASE_URL says so.

The schema is made by the Alembic migrations, as in production. After each test every CRM table
is emptied and the administrator re-created, so tests do not see each other's data.
"""
from __future__ import annotations

import os
import re
import tempfile

import pytest

_tmp = tempfile.mkdtemp(prefix="crm-test-")
os.environ.setdefault("CRM_INSTANCE_DIR", _tmp)
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/test.db")

ADMIN_PASSWORD = "admin-pass-123"
# kept between tests: what `crm init` makes (permissions, roles, option lists)
SECURITY_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role",
                   "alembic_version", "role_profile", "choice", "crm_cache_version"}


def _reset_schema(engine) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            # virtual tables (the FTS5 search tables) first: dropping one drops its shadow tables
            tables = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table' "
                                                       "AND name NOT LIKE 'sqlite_%' "
                                                       "ORDER BY sql NOT LIKE 'CREATE VIRTUAL TABLE%'"))]
            for table in tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))


@pytest.fixture(scope="session")
def app():
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from config import TestConfig

    url = TestConfig.SQLALCHEMY_DATABASE_URI
    engine = create_engine(url)
    try:
        _reset_schema(engine)
    except OperationalError as error:  # a missing database must fail the run, never skip it
        pytest.exit(f"cannot reach the test database {url}: {error}", returncode=3)
    engine.dispose()

    from app import create_app
    from app.cli import prepare_database

    application = create_app(TestConfig)
    with application.app_context():
        prepare_database(ADMIN_PASSWORD)
    yield application


@pytest.fixture(autouse=True)
def _clean_data(request):
    yield
    if "app" not in request.fixturenames:
        return
    wipe_data(request.getfixturevalue("app"))


def wipe_data(application) -> None:
    """Empty every CRM table and re-create the administrator (what `crm init` made stays)."""
    from flask_appbuilder import Model

    from app.cli import ensure_admin
    from app.extensions import db

    with application.app_context():
        db.session.rollback()
        for table in reversed(Model.metadata.sorted_tables):
            if table.name not in SECURITY_TABLES:
                db.session.execute(table.delete())
        db.session.commit()
        ensure_admin(ADMIN_PASSWORD)
        db.session.remove()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        from app.extensions import db

        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def api_login(client, username, password):
    response = client.post("/api/v1/security/login",
                           json={"username": username, "password": password, "provider": "db"})
    return response


def bearer(client, username="admin", password=ADMIN_PASSWORD) -> dict:
    response = api_login(client, username, password)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


@pytest.fixture
def csrf(app):
    """The app with CSRF checks on, as production runs (TestConfig turns them off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def token_of(client, url) -> str:
    """The CSRF token of the form on `url`, as a browser sends it back ("" when CSRF checks are off and the page
    has none)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    if not client.application.config["WTF_CSRF_ENABLED"]:
        return match.group(1) if match else ""
    assert match, f"no csrf_token on {url}"
    return match.group(1)


@pytest.fixture
def admin_headers(client):
    return bearer(client)


def web_login(client, username="admin", password=ADMIN_PASSWORD):
    return client.post("/login/", data={"username": username, "password": password}, follow_redirects=True)
