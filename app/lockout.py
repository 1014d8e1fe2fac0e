"""Failed logins, counted atomically in the table login_throttle (one row per login name, one per client address).

- **An account** (kind "login"): LOGIN_LOCKOUT_FAILURES failures within LOGIN_LOCKOUT_MINUTES lock it until the
  window has passed again; while it lasts even the right password is refused (form, API and /m/ alike), and
  an administrator can lift it (`lift`). A successful login starts the count afresh.
- **An address** (kind "ip"): past LOGIN_IP_FREE_FAILURES failures in the window (any accounts), each further
  failure makes the address wait 1, 2, 4 … seconds (at most LOGIN_IP_MAX_DELAY_SECONDS); while it waits, a login
  from it is answered 429 with Retry-After. No server thread ever sleeps.

Each failure is one statement, INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite ≥ 3.35 and PostgreSQL), so
parallel wrong passwords count exactly: the failure that reaches the limit sets locked_until, and the
ones after it, seeing the lock inside the same statement, no longer count. Only failures write; a right
password reads one row. Times are epoch seconds (`now()`, which LOGIN_CLOCK_OFFSET_SECONDS moves for tests).
"""
from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Optional

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, or_, select
from werkzeug.exceptions import TooManyRequests

from app.extensions import db
from models.auth import LoginThrottle

log = logging.getLogger(__name__)
LOGIN, IP = "login", "ip"
PURGE_SHARE = 0.05  # one new window in 20 also deletes the rows whose window and lock are over
T = LoginThrottle.__table__


def now() -> float:
    return time.time() + float(current_app.config.get("LOGIN_CLOCK_OFFSET_SECONDS", 0) or 0)


def limit() -> int:
    return int(current_app.config.get("LOGIN_LOCKOUT_FAILURES", 10))


def window_seconds() -> float:
    return float(current_app.config.get("LOGIN_LOCKOUT_MINUTES", 15)) * 60


def ip_free_failures() -> int:
    return int(current_app.config.get("LOGIN_IP_FREE_FAILURES", 20))


def ip_max_delay() -> int:
    return max(1, int(current_app.config.get("LOGIN_IP_MAX_DELAY_SECONDS", 60)))


@dataclass
class State:
    failures: int
    locked_until: Optional[float]

    def seconds_left(self, at: Optional[float] = None) -> int:
        if self.locked_until is None:
            return 0
        return max(0, math.ceil(self.locked_until - (now() if at is None else at)))


class LoginThrottled(TooManyRequests):
    """429: this address failed too often; the answer says in how many seconds to try again."""

    def __init__(self, seconds: int):
        super().__init__(retry_after=seconds)
        self.seconds = seconds

    def message(self):
        return _l("Too many failed logins from this address; please try again in %(seconds)d seconds.",
                  seconds=self.seconds)


def lockout_message(seconds_left: int):
    return _l("This account is locked after %(failures)d failed logins; please try again in %(minutes)d minutes "
              "or ask an administrator.", failures=limit(), minutes=max(1, math.ceil(seconds_left / 60)))


def _key(value) -> str:
    """Logins are found case-insensitively (FAB's AUTH_USERNAME_CI), so 'Admin' and 'admin' share one count."""
    return str(value or "").lower()[:64]


def _locked_state(kind: str, key: str, at: float) -> Optional[State]:
    row = db.session.execute(select(T.c.failures, T.c.locked_until).where(
        T.c.kind == kind, T.c.key == key, T.c.locked_until > at)).first()
    return State(row.failures, row.locked_until) if row else None


def account_lock(login) -> Optional[State]:
    """The lock of this login, or None when it may try."""
    if limit() <= 0 or not login:
        return None
    return _locked_state(LOGIN, _key(login), now())


LOGIN_ENDPOINTS = {"AuthDBView.login", "CrmSecurityApi.login", "MobileView.login"}


def init_app(app) -> None:
    app.before_request(_guard_login)


def _guard_login() -> None:
    """A login (form, API, /m/) from an address that must wait is answered 429 before any view runs: no
    password is hashed for it (app/error_pages.py writes the answer)."""
    from flask import request

    if request.method == "POST" and request.endpoint in LOGIN_ENDPOINTS:
        check_address(request.remote_addr)


def check_address(address) -> None:
    """Raise LoginThrottled while this address must wait."""
    if not address or ip_free_failures() < 0:
        return
    at = now()
    state = _locked_state(IP, _key(address), at)
    if state is not None:
        raise LoginThrottled(max(1, state.seconds_left(at)))


def _upsert(kind: str, key: str, at: float) -> State:
    """Count one failure of `key` in one statement and return the row as it now is."""
    window = window_seconds()
    expired = T.c.window_start < at - window
    if kind == LOGIN:
        cap = limit()
        locked = and_(T.c.locked_until.is_not(None), T.c.locked_until > at)
        failures = case((locked, T.c.failures), (expired, 1), else_=T.c.failures + 1)
        values = {
            "failures": failures,
            "window_start": case((locked, T.c.window_start), (expired, at), else_=T.c.window_start),
            "locked_until": case((locked, T.c.locked_until), (failures >= cap, at + window), else_=None),
        }
        first = {"failures": 1, "window_start": at, "locked_until": at + window if cap <= 1 else None, "delay": 0}
    else:
        free, most = ip_free_failures(), ip_max_delay()
        failures = case((expired, 1), else_=T.c.failures + 1)
        previous = case((expired, 0), else_=T.c.delay)
        delay = case((failures <= free, 0), (previous < 1, 1), (previous * 2 > most, most), else_=previous * 2)
        values = {
            "failures": failures,
            "window_start": case((expired, at), else_=T.c.window_start),
            "delay": delay,
            "locked_until": case((delay > 0, at + delay), else_=None),
        }
        first = {"failures": 1, "window_start": at, "delay": 1 if free < 1 else 0,
                 "locked_until": at + 1 if free < 1 else None}
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(T).values(kind=kind, key=key, **first)
                 .on_conflict_do_update(index_elements=[T.c.kind, T.c.key], set_=values)
                 .returning(T.c.failures, T.c.locked_until))
    row = db.session.execute(statement).one()
    return State(row.failures, row.locked_until)


def record_failure(login, address) -> Optional[State]:
    """Count a failed login of `login` from `address` (its own transaction, committed here: the caller's
    reads must not turn SQLite's write into a stale-snapshot error). Returns the account's lock if it is
    locked now (by this failure or an earlier one)."""
    db.session.commit()
    at = now()
    account = None
    try:
        if login and limit() > 0:
            account = _upsert(LOGIN, _key(login), at)
        if address and ip_free_failures() >= 0:
            _upsert(IP, _key(address), at)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if account is not None and account.failures == 1 and random.random() < PURGE_SHARE:
        _purge(at)
    if account is not None and account.locked_until is not None and account.locked_until > at:
        return account
    return None


def record_success(login) -> Optional[State]:
    """A right password: the account's count starts afresh, unless it is locked (then the lock is returned
    and the login must be refused: a lock set by a parallel failure wins). Writes only when a count exists."""
    if not login or limit() <= 0:
        return None
    at = now()
    row = db.session.execute(select(T.c.failures, T.c.locked_until).where(
        T.c.kind == LOGIN, T.c.key == _key(login))).first()
    if row is None:
        return None
    if row.locked_until is not None and row.locked_until > at:
        return State(row.failures, row.locked_until)
    db.session.commit()
    db.session.execute(delete(T).where(T.c.kind == LOGIN, T.c.key == _key(login),
                                       or_(T.c.locked_until.is_(None), T.c.locked_until <= at)))
    db.session.commit()
    return _locked_state(LOGIN, _key(login), at)  # locked between the read and the delete


def _purge(at: float) -> None:
    """Drop the rows whose window and lock are over (own transaction; a failure here only logs)."""
    try:
        db.session.execute(delete(T).where(T.c.window_start < at - 2 * window_seconds(),
                                           or_(T.c.locked_until.is_(None), T.c.locked_until < at)))
        db.session.commit()
    except Exception:  # a busy database: the next new window will do
        db.session.rollback()
        log.warning("could not purge old login_throttle rows", exc_info=True)


def lift(login) -> bool:
    """An administrator lifts the lock of `login` (inside the caller's transaction): its count starts afresh.
    True if it was locked."""
    was_locked = _locked_state(LOGIN, _key(login), now()) is not None
    db.session.execute(delete(T).where(T.c.kind == LOGIN, T.c.key == _key(login)))
    return was_locked


def locked_logins() -> set[str]:
    """The logins locked right now (read once per request: the employee list marks them 已锁定)."""
    if has_request_context() and "_crm_locked_logins" in g:
        return g._crm_locked_logins
    keys = set(db.session.scalars(select(T.c.key).where(T.c.kind == LOGIN, T.c.locked_until > now())))
    if has_request_context():
        g._crm_locked_logins = keys
    return keys


def lift_employee_lock(employee_id):
    """解除锁定: an administrator lets a locked employee try again at once (audited `lockout_lifted`)."""
    from app import audit
    from app.errors import CrmError, unit_of_work
    from app.organisation import get_employee

    with unit_of_work():
        employee = get_employee(employee_id)
        if not lift(employee.username):
            raise CrmError(_l("This account is not locked."))
        audit.record("lockout_lifted", module="employee", record_ids=[employee.id],
                     detail={"login": employee.username})
    return employee
