"""The application factory. Nothing creates an app at import time."""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import appbuilder, csrf, db, migrate


def create_app(config_object=None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_object or "config.Config")
    logging.basicConfig(level=app.config.get("LOG_LEVEL", logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import models  # noqa: F401  (registers every table)
    from app import headers, sessions

    # security headers first: their before_request (the CSP nonce) runs before every other one
    headers.init_app(app)
    from app import authcache, recycle

    recycle.install()  # binned records are invisible to every ORM statement (app/recycle.py)

    authcache.install()  # role changes move the permission caches' counter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True,
                     compare_type=True)
    with app.app_context():
        _reset_appbuilder()
        from app.index import CrmIndexView

        appbuilder.indexview = CrmIndexView
        appbuilder.base_template = "crm_base.html"
        appbuilder.init_app(app, db.session)
        from views import register

        register(appbuilder)
        _protect_forms(app)
        from views.console import init_console

        init_console(app)
    from app import cli, error_pages, lockout, request_guard, sqlite_stats
    from app.sipgw import wire

    wire(app)

    # the generic Chinese error pages first; the request guard's more precise 400/413 answers win over them
    error_pages.register(app)
    request_guard.init_app(app)
    sessions.init_app(app)
    lockout.init_app(app)
    sqlite_stats.init_app(app)
    cli.register(app)
    app.add_url_rule("/health", "health", lambda: ("ok", 200, {"Content-Type": "text/plain"}))
    return app


def _protect_forms(app: Flask) -> None:
    """CSRF tokens on every screen's form. The REST API is exempt when it is called with a bearer token (a
    cross-site form cannot set a header); a write to it authenticated by the session cookie is a browser's, and
    carries the token like a form (the screens' scripts send it as X-CSRFToken). Without that, a page elsewhere
    could post an empty form to /api/v1/employee/<id>/disable with the administrator's cookie."""
    from flask import request
    from flask_appbuilder.api import BaseApi
    from flask_login import current_user

    csrf.init_app(app)
    api_blueprints = set()
    for view in appbuilder.baseviews:
        if isinstance(view, BaseApi) and view.blueprint is not None:
            csrf.exempt(view.blueprint)
            api_blueprints.add(view.blueprint.name)

    security_api = appbuilder.sm.security_api.__name__ if appbuilder.sm.security_api else None

    @app.before_request
    def _api_writes_with_the_session_cookie():
        # the token login is no write on the cookie's behalf (it takes the password): a script may call it anyway
        if (request.blueprint in api_blueprints - {security_api} and app.config.get("WTF_CSRF_ENABLED", True)
                and request.method in app.config["WTF_CSRF_METHODS"] and "Authorization" not in request.headers
                and current_user.is_authenticated):
            csrf.protect()  # 400, the same refusal as a form's


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _reset_appbuilder() -> None:
    """AppBuilder is a module-level extension; a second app (tests, CLI) starts from a clean one."""
    appbuilder.baseviews = []
    appbuilder.menu = None
    appbuilder._addon_managers = []


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL so readers never wait for the writer; foreign keys on, as PostgreSQL has them."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
