"""The audit trail (审计日志): one append-only row per act — who, when, from where, what, what changed.

Rows are only ever inserted (app/audit.py refuses an update or a delete through the ORM); only
`crm audit-purge` removes rows older than the retention setting."""
from __future__ import annotations

import datetime as dt
import json
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.mixins import utcnow

# stable English codes (the API's `action`) and their labels
AUDIT_ACTIONS = {
    "login": _l("Login"), "login_failed": _l("Failed login"), "logout": _l("Logout"),
    "export": _l("Export"), "import": _l("Import"), "delete": _l("Delete"), "restore": _l("Restore"),
    "transfer": _l("Transfer"), "claim": _l("Claim"), "assign": _l("Assign"), "release": _l("Return to pool"),
    "auto_release": _l("Automatic return to pool"), "role_change": _l("Role permission change"),
    "employee_change": _l("Employee change"), "seat_binding": _l("Seat binding"),
    "lockout_lifted": _l("Lockout lifted"),
}


class AuditLog(Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action_at", "action", "at"),
                      Index("ix_audit_log_actor_at", "actor_id", "at"), Index("ix_audit_log_module_at", "module", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    actor_name: Mapped[Optional[str]] = mapped_column(String(64))  # kept when the account goes
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    module: Mapped[Optional[str]] = mapped_column(String(32))
    record_ids: Mapped[Optional[str]] = mapped_column(Text)  # "3,7,9"
    changes: Mapped[Optional[str]] = mapped_column(Text)  # JSON {field: [before, after]}
    detail: Mapped[Optional[str]] = mapped_column(Text)  # JSON: row count and filter of an export, ...

    actor = relationship("Employee", foreign_keys=[actor_id])

    def action_label(self) -> str:
        return str(AUDIT_ACTIONS.get(self.action, self.action))

    @property
    def changes_dict(self) -> Optional[dict]:
        return json.loads(self.changes) if self.changes else None

    @property
    def detail_dict(self) -> Optional[dict]:
        return json.loads(self.detail) if self.detail else None

    def __repr__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M:%S}"
