"""The audit trail as a service: `record()` adds an entry to the current transaction, so it is written
with the act or not at all. Entries are append-only: the ORM refuses to update or delete one; only
`purge()` (the `crm audit-purge` command) removes entries past the retention setting."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable, Optional

from flask import current_app, g, has_request_context, request
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from app.extensions import db
from models.audit import AuditLog, AuditLogRecord
from models.mixins import utcnow

DEFAULT_RETENTION_DAYS = 365
MASK = "****"
# acts whose record ids are not the module's records (an import's is its job's): not indexed as records
NOT_RECORDS = ("import", "export")


class AppendOnly(RuntimeError):
    pass


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


def record(action: str, module: Optional[str] = None, record_ids: Iterable = (), changes: Optional[dict] = None,
           detail: Optional[dict] = None, actor=None, actor_name: Optional[str] = None) -> AuditLog:
    """Add one entry (not committed: the caller's transaction carries it). `changes` is
    {field: (before, after)}; values the actor saw masked must be passed masked."""
    if actor is None and has_request_context():
        user = g.get("user")
        actor = user if user is not None and not getattr(user, "is_anonymous", True) else None
    entry = AuditLog(
        at=utcnow(), action=action, module=module, actor_id=getattr(actor, "id", None),
        actor_name=(actor_name or getattr(actor, "username", None) or "")[:64] or None,
        record_ids=",".join(str(i) for i in record_ids) or None,
        changes=json.dumps({k: [_text(b), _text(a)] for k, (b, a) in changes.items()}, ensure_ascii=False,
                           default=str)
        if changes else None,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None)
    if has_request_context():
        entry.ip = (request.remote_addr or "")[:45] or None
        entry.user_agent = (request.user_agent.string or "")[:255] or None
    if module and entry.record_ids and action not in NOT_RECORDS:
        ids = dict.fromkeys(int(i) for i in entry.record_ids.split(",")
                            if i.isascii() and i.isdigit() and int(i) < 2 ** 31)
        entry.records = [AuditLogRecord(module=module, record_id=i) for i in ids]
    db.session.add(entry)
    return entry


def diff(before: dict, after: dict, masked: Iterable[str] = ()) -> dict:
    """{field: (before, after)} of the fields that changed; a masked field keeps its mask on both sides."""
    hidden = set(masked)
    return {field: ((MASK, MASK) if field in hidden else (before.get(field), after.get(field)))
            for field in after if before.get(field) != after.get(field)}


def retention_days() -> int:
    return int(current_app.config.get("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def purge(now: Optional[dt.datetime] = None) -> int:
    """Remove the entries older than the retention setting; the only way an entry ever goes."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days())
    db.session.execute(delete(AuditLogRecord).where(AuditLogRecord.entry_id.in_(
        select(AuditLog.id).where(AuditLog.at < cutoff))).execution_options(synchronize_session=False))
    result = db.session.execute(delete(AuditLog).where(AuditLog.at < cutoff)
                                .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, _flush_context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (AuditLog, AuditLogRecord)) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnly("audit log entries cannot be changed or deleted")
