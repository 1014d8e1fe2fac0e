"""Background jobs: imports (导入). A job's row is its whole state: options, progress, counts, the error
workbook's path and the heartbeat the sweep reads to fail a job whose worker died."""
from __future__ import annotations

import datetime as dt
import json
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.mixins import utcnow

JOB_STATES = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}
DUPLICATE_MODES = {"skip": _l("Skip"), "overwrite": _l("Overwrite")}


class ImportJob(Model):
    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_user_created", "user_id", "created_at"),
                      Index("ix_import_job_status", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    file_path: Mapped[Optional[str]] = mapped_column(String(512))
    file_format: Mapped[str] = mapped_column(String(8), nullable=False)
    duplicate: Mapped[str] = mapped_column(String(16), nullable=False, default="skip")
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    mapping: Mapped[Optional[str]] = mapped_column(Text)  # JSON {file column: template column | null}
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    imported: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    overwritten: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[Optional[str]] = mapped_column(Text)
    error_path: Mapped[Optional[str]] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    heartbeat_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    undone_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    undo_message: Mapped[Optional[str]] = mapped_column(Text)

    user = relationship("Employee", foreign_keys=[user_id])
    owner = relationship("Employee", foreign_keys=[owner_id])

    @property
    def mapping_dict(self) -> Optional[dict]:
        return json.loads(self.mapping) if self.mapping else None

    @property
    def duration(self) -> Optional[float]:
        if self.started_at is None:
            return None
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()

    def counts(self) -> dict:
        return {"status": self.status, "total": self.total, "done": self.done, "imported": self.imported,
                "overwritten": self.overwritten, "skipped": self.skipped, "failed": self.failed}

    def __repr__(self) -> str:
        return f"{self.module} {self.file_name}"
