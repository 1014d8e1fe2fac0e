"""Web sessions kept on the server, so a session can be ended: logout, a password change, a reset."""
from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String
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
