"""Web sessions the server can end, and the password an employee changes themselves.

A browser session is a signed cookie; by itself it stays valid until it expires, even after logout. So each
login gets a row in login_session and the cookie carries its random key: logout deletes the row, and a copied
cookie is refused from then on. Changing one's own password, or an administrator's reset, disable or
resignation, also moves the employee's auth_epoch, which voids every API token issued before it."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from typing import Optional

from flask import current_app, has_request_context, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app.errors import CrmError, unit_of_work
from app.extensions import db
from models.auth import LoginSession
from models.mixins import utcnow
from models.org import Employee

SESSION_KEY = "_crm_sid"
SESSION_AUTH_AT = "_crm_auth_at"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _oldest_valid() -> dt.datetime:
    return utcnow() - current_app.permanent_session_lifetime


def start(employee: Employee) -> None:
    """A successful login through the form: a new server-side session (expired ones are swept)."""
    key = secrets.token_urlsafe(32)
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < _oldest_valid()))
    db.session.add(LoginSession(employee_id=employee.id, key_hash=_hash(key), created_at=utcnow()))
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
    """Whether the request's session cookie belongs to a session the server still holds for this employee."""
    key = session.get(SESSION_KEY)
    if not key:
        return False
    return db.session.scalar(select(LoginSession.id).where(
        LoginSession.key_hash == _hash(key), LoginSession.employee_id == employee_id,
        LoginSession.created_at >= _oldest_valid())) is not None


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
