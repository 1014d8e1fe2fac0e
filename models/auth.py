"""Web sessions kept on the server, so a session can be ended: logout, a password change, a reset."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import utcnow


class LoginSession(Model):
    """One logged-in browser. The cookie carries a random key; only its SHA-256 is stored. A session whose
    row is gone (logged out, ended by a password change or an administrator) is refused, even with a
    copied cookie."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
    # the last request of this browser (stamped at most once a minute); idle longer than SESSION_IDLE_MINUTES
    # the session ends
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class LoginThrottle(Model):
    """Failed logins counted per login name (kind "login": 10 in the window lock the account) and per client
    address (kind "ip": past a few, a growing wait). One row per key, changed only by one atomic
    INSERT … ON CONFLICT DO UPDATE … RETURNING (app/lockout.py). Times are epoch seconds, so the same
    arithmetic runs in SQL on SQLite and PostgreSQL."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_login_throttle_kind_key"),
                      Index("ix_login_throttle_window_start", "window_start"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # "login" or "ip"
    key: Mapped[str] = mapped_column(String(64), nullable=False)  # the login as stored, or the address
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_start: Mapped[float] = mapped_column(Float, nullable=False)  # first failure of the current window
    locked_until: Mapped[Optional[float]] = mapped_column(Float)  # refused until then
    delay: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # "ip": the last wait, in seconds
