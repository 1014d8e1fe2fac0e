"""HTTP errors as a person reads them: a page in the app's layout, in the user's language, with a way back;
under /api/ a JSON body `{"message": ...}` like every other API answer. Covers 400, 403, 404, 405, 413 and 500
(FAB's and Werkzeug's own pages are raw English: "Forbidden", "Not Found")."""
from __future__ import annotations

import logging

from flask import current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request is not valid.")),
    401: (_l("Please log in"), _l("Please log in first.")),
    403: (_l("No permission"), _l("You do not have permission to do this.")),
    404: (_l("Page not found"), _l("The page or record does not exist, or is outside your data scope.")),
    405: (_l("Not allowed"), _l("This address does not accept this kind of request.")),
    413: (_l("Too large"), _l("The upload or request is too large.")),
    429: (_l("Too many requests"), _l("Too many requests; please wait a moment and try again.")),
    500: (_l("Server error"), _l("Something went wrong on the server; please try again.")),
}


def _answer(status: int, message=None, headers=None):
    title, default = MESSAGES.get(status, (_l("Error"), _l("The request could not be completed.")))
    message = message or default
    extra = (headers,) if headers else ()
    if request.path.startswith("/api/"):
        return (jsonify(message=str(message)), status, *extra)
    appbuilder = current_app.appbuilder
    try:
        return (render_template("crm/error.html", status=status, title=title, message=message,
                                appbuilder=appbuilder, base_template=appbuilder.base_template), status, *extra)
    except Exception:  # the layout needs the database (menus, the user); when that is what failed, plain text
        log.exception("the error page could not be rendered")
        return (f"{status} {title}: {message}", status,
                {**(headers or {}), "Content-Type": "text/plain; charset=utf-8"})


def answer(status: int, message=None):
    """An error page (a JSON body under /api/) with this status and message: a view's own refusal."""
    return _answer(status, message)


def handle_login_throttled(error):
    """A login from an address that failed too often: 429, the wait in Retry-After and in the message."""
    from app.extensions import db

    db.session.rollback()
    return _answer(429, error.message(), {"Retry-After": str(error.seconds)})


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    return _answer(error.code)


def handle_exception(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        from app.extensions import db

        db.session.rollback()
    except Exception:  # the page must still render
        log.exception("rollback after an error failed")
    return _answer(500)


def register(app) -> None:
    from app.lockout import LoginThrottled

    app.register_error_handler(LoginThrottled, handle_login_throttled)
    for code in MESSAGES:
        app.register_error_handler(code, handle_http_error)
    app.register_error_handler(InternalServerError, handle_exception)
    if not app.config.get("PROPAGATE_EXCEPTIONS") and not app.testing:
        app.register_error_handler(Exception, handle_exception)
