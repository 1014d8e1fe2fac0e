"""Import jobs: created from a checked upload, run by in-process threads (default) or RQ workers (when
REDIS_URL is set: `flask --app app crm worker`), watched through a heartbeat; a sweep fails a job whose
worker died, and undo removes what a job created within 24 hours when nobody has changed it since."""
from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, func, or_, select, update

from app import scopes
from app.errors import CrmError, NotFound
from app.extensions import db
from app.importing import files, mapping
from app.importing.columns import template_columns
from models.jobs import DUPLICATE_MODES, JOB_STATES, ImportJob
from models.mixins import utcnow
from models.org import AccountState, Employee

UNDO_HOURS = 24


def _config(name, default):
    return current_app.config.get(name, default)


def create(spec, user: Employee, storage, duplicate: str, owner, mapping_raw, dry_run) -> ImportJob:
    """Check the request and the file; on success a queued job (and the file kept for it)."""
    if duplicate not in ("skip", "overwrite"):
        raise CrmError(_l("Duplicate handling must be skip or overwrite."), field="duplicate")
    owner_id = _owner(spec, user, owner)
    column_mapping = mapping.parse_mapping(mapping_raw)
    path, name, fmt = files.save_upload(storage)
    try:
        header, rows = files.probe(path, fmt)
        mapping.resolve(header, template_columns(spec, user), column_mapping)
        job = ImportJob(module=spec.key, user_id=user.id, file_name=name, file_path=str(path), file_format=fmt,
                        duplicate=duplicate, owner_id=owner_id, dry_run=bool(dry_run), status="queued",
                        total=rows, done=0, imported=0, overwritten=0, skipped=0, failed=0,
                        mapping=json.dumps(column_mapping, ensure_ascii=False) if column_mapping else None)
        db.session.add(job)
        db.session.flush()
        from app import audit

        audit.record("import", module=spec.module, record_ids=[job.id], actor=user,
                     detail={"file_name": name, "rows": rows, "dry_run": bool(dry_run), "duplicate": duplicate})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    enqueue(job.id)
    return job


def _owner(spec, user, owner) -> Optional[int]:
    if not spec.importer.owner_choice or owner in (None, "", "null"):
        return None
    try:
        owner_id = int(owner)
    except (TypeError, ValueError):
        raise CrmError(_l("This employee does not exist."), field="owner")
    employee = db.session.get(Employee, owner_id)
    if employee is None or employee.state != AccountState.ACTIVE.value:
        raise CrmError(_l("This employee does not exist."), field="owner")
    if not scopes.can_own(user, owner_id):
        raise CrmError(_l("You cannot give records to this employee."), field="owner")
    return owner_id


def parse_bool(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


# ---------------------------------------------------------------- running

def enqueue(job_id: int) -> None:
    url = _config("REDIS_URL", None)
    if url:
        from redis import Redis
        from rq import Queue

        queue = Queue(_config("IMPORT_QUEUE", "crm-import"), connection=Redis.from_url(url))
        queue.enqueue("app.importing.jobs.run_in_worker", job_id, job_timeout=int(_config("IMPORT_TIMEOUT", 3600)))
        return
    app = current_app._get_current_object()
    thread = threading.Thread(target=_thread_main, args=(app, job_id), name=f"import-{job_id}", daemon=True)
    thread.start()


def _thread_main(app, job_id: int) -> None:
    with app.app_context():
        try:
            _run(job_id)
        finally:
            db.session.remove()


def _run(job_id: int) -> None:
    from app.importing.runner import run_job

    run_job(job_id)


def run_in_worker(job_id: int) -> None:
    """The RQ entry point; `crm worker` runs it inside the application's context."""
    try:
        _run(job_id)
    finally:
        db.session.remove()


def stale_before() -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=float(_config("IMPORT_STALE_SECONDS", 60)))


def sweep(job_id: Optional[int] = None) -> int:
    """Fail the running jobs whose worker stopped beating (killed, or its process restarted)."""
    condition = and_(ImportJob.status == "running", ImportJob.heartbeat_at < stale_before())
    if job_id is not None:
        condition = and_(condition, ImportJob.id == job_id)
    result = db.session.execute(update(ImportJob).where(condition).values(
        status="failed", finished_at=utcnow(),
        message=str(_l("The import was interrupted (its worker stopped). The rows counted were saved; import the "
                       "same file again with Skip to add the rest."))))
    db.session.commit()
    return result.rowcount


# ---------------------------------------------------------------- reading jobs

def visible_jobs(user: Employee):
    query = select(ImportJob).order_by(ImportJob.id.desc())
    if scopes.ALL not in scopes.user_scopes(user):
        query = query.where(ImportJob.user_id == user.id)
    return query


def get(job_id, user: Employee) -> ImportJob:
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise NotFound(_l("This import does not exist."))
    job = db.session.scalar(visible_jobs(user).where(ImportJob.id == job_id))
    if job is None:
        raise NotFound(_l("This import does not exist."))
    if job.status == "running" and job.heartbeat_at and job.heartbeat_at < stale_before():
        sweep(job.id)
        db.session.refresh(job)
    return job


def as_json(job: ImportJob) -> dict:
    from views.modules import SPECS

    spec = next((s for s in SPECS if s.key == job.module), None)
    return {"id": job.id, "module": job.module, "module_label": str(spec.label) if spec else job.module,
            "status_label": str(JOB_STATES.get(job.status, job.status)),
            "duplicate_label": str(DUPLICATE_MODES.get(job.duplicate, job.duplicate)), "file_name": job.file_name, "duplicate": job.duplicate,
            "owner_id": job.owner_id, "dry_run": job.dry_run, **job.counts(), "message": job.message,
            "has_errors": bool(job.error_path), "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "duration": round(job.duration, 1) if job.duration is not None else None,
            "user": job.user.first_name if job.user else None,
            "owner": job.owner.first_name if job.owner else None,
            "undone_at": job.undone_at.isoformat() if job.undone_at else None, "undo_message": job.undo_message,
            "can_undo": can_undo(job)}


def can_undo(job: ImportJob) -> bool:
    return (job.status == "done" and not job.dry_run and job.undone_at is None and job.imported > 0
            and job.finished_at is not None and utcnow() - job.finished_at < dt.timedelta(hours=UNDO_HOURS))


# ---------------------------------------------------------------- undo

def undo(job: ImportJob, user: Employee) -> dict:
    """撤销本次导入: delete what the job created that nobody changed since; say what was kept and why."""
    from views.modules import SPECS

    if job.undone_at is not None:
        raise CrmError(_l("This import was already undone."))
    if not can_undo(job):
        raise CrmError(_l("Only a finished import of the last 24 hours that created records can be undone."))
    spec = next(s for s in SPECS if s.key == job.module)
    table = spec.model.__table__
    created = and_(table.c.import_job_id == job.id)
    unchanged = table.c.updated_at == table.c.created_at
    blockers = spec.importer.undo_keep() if spec.importer.undo_keep else []
    blocked = or_(*[exists().where(b) for b in blockers]) if blockers else None
    keep = ~unchanged if blocked is None else or_(~unchanged, blocked)
    total = db.session.scalar(select(func.count()).select_from(table).where(created)) or 0
    kept = db.session.scalar(select(func.count()).select_from(table).where(created, keep)) or 0
    ids = select(table.c.id).where(created, ~keep)
    removed = db.session.execute(delete(table).where(table.c.id.in_(ids))).rowcount
    message = str(_l("%(removed)d record(s) removed; %(kept)d kept because they were changed or have related "
                     "records since the import.", removed=removed, kept=kept))
    job.undone_at = utcnow()
    job.undo_message = message
    db.session.commit()
    return {"removed": removed, "kept": kept, "created": total, "message": message}
