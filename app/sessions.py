"""Web sessions the server can end, and the password an employee changes themselves.

A browser session is a signed cookie; by itself it stays valid until it expires, even after logout. So each
login gets a row in login_session and the cookie carries its random key: logout deletes the row, and a copied
cookie is refused from then on. A session idle longer than SESSION_IDLE_MINUTES (default 120) ends too: its
row is deleted and the browser is sent to the login page with a message. Changing one's own password, or an
administrator's reset, disable or resignation, also moves the employee's auth_epoch, which voids every API token
issued before it."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from typing import Optional

from flask import current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from app.errors import CrmError, unit_of_work
from app.extensions import db
from models.auth import LoginSession
from models.mixins import utcnow
from models.org import Employee

SESSION_KEY = "_crm_sid"
SESSION_AUTH_AT = "_crm_auth_at"
# last_seen_at is written at most this often per session (not on every request)
TOUCH_SECONDS = 60


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _oldest_valid() -> dt.datetime:
    return utcnow() - current_app.permanent_session_lifetime


def idle_limit() -> Optional[dt.timedelta]:
    """SESSION_IDLE_MINUTES as a timedelta; 0 or less: no idle timeout."""
    minutes = float(current_app.config.get("SESSION_IDLE_MINUTES") or 0)
    return dt.timedelta(minutes=minutes) if minutes > 0 else None


def start(employee: Employee) -> None:
    """A successful login through the form: a new server-side session (expired and idle ones are swept)."""
    key = secrets.token_urlsafe(32)
    stale = LoginSession.created_at < _oldest_valid()
    idle = idle_limit()
    if idle is not None:
        stale = or_(stale, LoginSession.last_seen_at < utcnow() - idle)
    db.session.execute(delete(LoginSession).where(stale))
    now = utcnow()
    db.session.add(LoginSession(employee_id=employee.id, key_hash=_hash(key), created_at=now, last_seen_at=now))
    db.session.commit()
    session[SESSION_KEY] = key
    session[SESSION_AUTH_AT] = time.time()


def end_current() -> None:
    """Logout: this browser's session ends on the server too, so a copy of its cookie no longer works."""
    key = session.pop(SESSION_KEY, None)
    session.pop(SESSION_AUTH_AT, None)
    if key:
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == _hash(key)))
        db.session.commit()


def is_live(employee_id: int) -> bool:
    """Whether the request's session cookie belongs to a session the server still holds for this employee.
    A session idle longer than SESSION_IDLE_MINUTES is ended here (its row deleted, the cookie's key dropped),
    and the request is marked so that `_send_idle_to_login` shows the login page with a message."""
    key = session.get(SESSION_KEY)
    if not key:
        return False
    row = db.session.execute(select(LoginSession.id, LoginSession.last_seen_at).where(
        LoginSession.key_hash == _hash(key), LoginSession.employee_id == employee_id,
        LoginSession.created_at >= _oldest_valid())).first()
    if row is None:
        return False
    now, idle = utcnow(), idle_limit()
    if idle is not None and row.last_seen_at < now - idle:
        db.session.execute(delete(LoginSession).where(LoginSession.id == row.id))
        db.session.commit()
        session.pop(SESSION_KEY, None)
        session.pop(SESSION_AUTH_AT, None)
        g._crm_session_idle = True
        return False
    if row.last_seen_at < now - dt.timedelta(seconds=TOUCH_SECONDS):
        db.session.execute(update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    return True


def idle_message() -> str:
    minutes = float(current_app.config.get("SESSION_IDLE_MINUTES") or 0)
    return gettext("You have been inactive for more than %(minutes)s minutes and were logged out; please log "
                   "in again.", minutes="%g" % minutes)


def _send_idle_to_login():
    """A screen request whose session just ended for idleness goes to the login page (the PC's or the mobile
    site's) with one message, instead of FAB's "access denied"; an API request gets its usual 401."""
    endpoint = request.endpoint or ""
    if endpoint.rsplit(".", 1)[-1] == "static" or SESSION_KEY not in session or request.path.startswith("/api/"):
        return None
    from flask_login import current_user

    current_user.is_authenticated  # noqa: B018  (loads the user: is_live runs and marks an idle session)
    if not g.get("_crm_session_idle"):
        return None
    flash(idle_message(), "warning")
    if (request.endpoint or "").endswith(".login"):  # the login page itself: shown with the message
        return None
    if request.path.startswith("/m/") or request.path == "/m":
        return redirect(url_for("MobileView.login", next=request.full_path))
    return redirect(current_app.appbuilder.get_url_for_login_with(request.full_path))


def init_app(app) -> None:
    app.before_request(_send_idle_to_login)


def end_all(employee: Employee, keep_current: bool = False) -> None:
    """End the employee's sessions and API tokens (inside the caller's unit of work). With keep_current the
    request's own browser session stays (its stamp is renewed by `renew_current` after the commit)."""
    employee.auth_epoch = utcnow()
    query = delete(LoginSession).where(LoginSession.employee_id == employee.id)
    key = session.get(SESSION_KEY) if has_request_context() and keep_current else None
    if key:
        query = query.where(LoginSession.key_hash != _hash(key))
    db.session.execute(query)


def renew_current() -> None:
    if has_request_context() and SESSION_KEY in session:
        session[SESSION_AUTH_AT] = time.time()


def change_own_password(employee: Employee, old_password: Optional[str], new_password: Optional[str]) -> None:
    """个人资料 → 修改密码: the current password is asked, the new one follows the password rule; the
    employee's other sessions and API tokens end, this one continues."""
    from werkzeug.security import check_password_hash

    from app.organisation import check_password, hash_password

    with unit_of_work():
        employee = db.session.get(Employee, employee.id)
        if not old_password or not check_password_hash(employee.password or "", old_password):
            raise CrmError(_l("The current password is not correct."), field="old_password")
        new_password = check_password(new_password, login=employee.username, mobile=employee.mobile)
        if new_password == old_password:
            raise CrmError(_l("The new password must differ from the current one."), field="password")
        employee.password = hash_password(new_password)
        end_all(employee, keep_current=True)
    renew_current()
