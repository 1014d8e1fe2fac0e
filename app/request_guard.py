"""Malformed requests answered before any view runs, and refusals that escape a view answered as 4xx.

Each of these once reached the database or the parser and came back as a 500: a body over the size
limit, JSON with a lone surrogate or a NUL byte, a `q` nested thousands deep (a RecursionError and
3,000 log lines), `page_<View>=x` or `psize_<View>=-1` on a list. Every refusal is answered in the
user's language: JSON `{"message": ...}` for the API, a page in the app's layout for the screens.
"""
from __future__ import annotations

import json
import logging
import re

import prison
from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import DataError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from app.errors import CrmError
from app.inputs import bad_text

log = logging.getLogger(__name__)

SCREEN_PAGE_SIZE_MAX = 100  # the list's page-size menu offers up to 100
MAX_PAGE = 1_000_000
MAX_NESTING = 16  # a list filter is three levels deep: (filters:!((col:..,value:!(..))))
_FAB_PAGING = re.compile(r"^(page|psize)_[A-Z]\w*$")  # FAB's list paging: page_CustomerView, psize_CustomerView


def init_app(app) -> None:
    app.before_request(guard_request)
    logging.getLogger("flask_appbuilder.api").addFilter(_not_a_refusal)
    app.register_error_handler(CrmError, _crm_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(BadRequest, _bad_request)
    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(OverflowError, _data_error)  # SQLite: an integer past 2^63


def _not_a_refusal(record: logging.LogRecord) -> bool:
    """FAB's @safe logs every exception with its traceback before views/base.py turns a refusal into a 4xx:
    a refused value is the caller's mistake, not a server error, and must not fill the log."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, (CrmError, DataError, OverflowError))


def is_api() -> bool:
    return request.path.startswith("/api/")


def refusal(message, status: int = 400, field=None):
    """A 4xx in the user's language: JSON for the API, a page for the screens."""
    if is_api() or request.is_json:
        body = {"message": str(message)}
        if field:
            body["field"] = field
        return jsonify(body), status
    try:
        page = render_template("crm/refusal.html", message=str(message), status=status,
                               appbuilder=current_app.appbuilder, base_template=current_app.appbuilder.base_template)
    except Exception:  # the layout needs a working session and database; the message must still get out
        log.exception("could not render the refusal page")
        page = f"<!doctype html><meta charset=utf-8><p>{escape(str(message))}</p><p><a href='/'>{_('Home')}</a></p>"
    return page, status


def _crm_error(error: CrmError):
    from app.extensions import db

    db.session.rollback()
    return refusal(error.message, error.status, error.field)


def _too_large(error):
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)} KB"
    return refusal(_l("The request is too large (at most %(size)s).", size=size), 413)


def _bad_request(error):
    return refusal(_l("The request is not valid."), 400)


def _data_error(error):
    """The database refused a value no check caught: still the user's mistake, never a 500."""
    from app.extensions import db

    db.session.rollback()
    log.warning("value refused by the database: %s", getattr(error, "orig", error))
    return refusal(_l("A value is not valid for this field (too long, too large or of the wrong kind)."), 400)


# ---------------------------------------------------------------- the checks

def guard_request():
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length and request.content_length > limit:
        raise RequestEntityTooLarge()
    for source in (request.args, request.form) if request.method in ("POST", "PUT", "PATCH") else (request.args,):
        for key, values in source.lists():
            if bad_text(key) or any(bad_text(v) for v in values):
                return refusal(_l("%(field)s contains characters that cannot be stored (NUL bytes or broken "
                                  "Unicode).", field=key.strip("\x00")), 400, key)
    if request.is_json and request.content_length:
        problem = _json_problem()
        if problem is not None:
            return problem
    if is_api():
        return _check_rison()
    return _check_screen_paging()


def _json_problem():
    try:
        body = json.loads(request.get_data(cache=True), strict=False)
    except RecursionError:
        return refusal(_l("The request body is nested too deeply."), 400)
    except ValueError:
        return refusal(_l("The request body is not valid JSON."), 400)
    field = _bad_json_text(body)
    if field is not None:
        return refusal(_l("%(field)s contains characters that cannot be stored (NUL bytes or broken Unicode).",
                          field=field), 400, field)
    return None


def _bad_json_text(value, key="body"):
    """The key under which a string with NUL or a lone surrogate sits, or None."""
    stack = [(key, value)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, str):
            if bad_text(value):
                return key
        elif isinstance(value, dict):
            for k, v in value.items():
                if bad_text(k):
                    return "body"
                stack.append((k, v))
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)
    return None


def too_deep(text: str, limit: int = MAX_NESTING) -> bool:
    """Brackets nested deeper than `limit` outside quoted strings (rison quotes with ', escapes with !)."""
    depth, quote, escaped = 0, None, False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "!" and quote == "'":
                escaped = True
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth > limit:
                return True
        elif ch in ")]}":
            depth -= 1
    return False


def parse_q(text: str):
    """`q` as FAB reads it (rison, else JSON), or a CrmError in the user's language."""
    if too_deep(text):
        raise CrmError(_l("The query (q) is nested too deeply."))
    try:
        return prison.loads(text)
    except prison.decoder.ParserException:
        pass
    except Exception:  # '(((' recurses without end, '(a:' is a TypeError: FAB catches only ParserException
        raise CrmError(_l("The query (q) is not valid rison or JSON."), status=422)
    try:
        return json.loads(text)
    except Exception:
        raise CrmError(_l("The query (q) is not valid rison or JSON."))


def _check_rison():
    """FAB's list `q`: never parsed when nested past MAX_NESTING; its paging checked when it is an object.
    A `q` that is not rison at all is left to the endpoint (FAB answers 400, translated in views/base.py)."""
    text = request.args.get("q")
    if not text:
        return None
    if too_deep(text):
        return refusal(_l("The query (q) is nested too deeply."), 400)
    try:
        args = parse_q(text)
    except CrmError as error:
        if error.status == 422:  # FAB would parse it again and fail with a 500: refuse it here
            return refusal(error.message, 400)
        return None
    if not isinstance(args, dict):
        return None
    page, page_size = args.get("page", 0), args.get("page_size", 1)
    if not _whole(page) or not 0 <= page <= MAX_PAGE:
        return refusal(_l("page must be a whole number from 0 to %(n)d.", n=MAX_PAGE), 400, "page")
    if not _whole(page_size) or page_size < 1:
        return refusal(_l("page_size must be a whole number of at least 1."), 400, "page_size")
    filters = args.get("filters", [])
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        return refusal(_l("filters must be a list like !((col:name,opr:ct,value:x))."), 400, "filters")
    return None


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_screen_paging():
    """page_<View>=N and psize_<View>=N on the lists: whole numbers, the page size at most 100."""
    changed = False
    args = request.args.to_dict(flat=False)
    for key, values in args.items():
        match = _FAB_PAGING.match(key)  # page_CustomerView, psize_CustomerView: FAB's names, by view class
        if match is None:
            continue
        is_page, is_size = match.group(1) == "page", match.group(1) == "psize"
        for i, value in enumerate(values):
            try:
                number = int(value)
            except ValueError:
                number = -1
            if number < (1 if is_size else 0) or (is_page and number > MAX_PAGE):
                if is_size:
                    message = _l("The page size must be a whole number from 1 to %(n)d.", n=SCREEN_PAGE_SIZE_MAX)
                else:
                    message = _l("The page number must be a whole number from 0 to %(n)d.", n=MAX_PAGE)
                return refusal(message, 400)
            if is_size and number > SCREEN_PAGE_SIZE_MAX:
                values[i] = str(SCREEN_PAGE_SIZE_MAX)
                changed = True
    if changed:  # FAB reads request.args itself: hand it the capped page size
        request.args = ImmutableMultiDict([(k, v) for k, vs in args.items() for v in vs])
    return None
