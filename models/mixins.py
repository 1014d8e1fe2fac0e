"""Column groups shared by several models."""
import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class AuditMixin(TimestampMixin):
    """Who created and last changed the record (filled by the services from the logged-in employee)."""

    @declared_attr
    def created_by_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def updated_by_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def created_by(cls):
        return relationship("Employee", foreign_keys=[cls.created_by_id], lazy="select")

    @declared_attr
    def updated_by(cls):
        return relationship("Employee", foreign_keys=[cls.updated_by_id], lazy="select")


class OwnedMixin:
    """A record with an owner (负责人) and the owner's department at the time it was assigned.

    The data scope (app/scopes.py) is one predicate on `owner_id`; an empty owner means the
    record sits in the public pool (公海).
    """

    @declared_attr
    def owner_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("ab_user.id"), nullable=True, index=True)

    @declared_attr
    def department_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("department.id"), nullable=True, index=True)

    @declared_attr
    def owner(cls):
        return relationship("Employee", foreign_keys=[cls.owner_id], lazy="joined")

    @declared_attr
    def department(cls):
        return relationship("Department", foreign_keys=[cls.department_id], lazy="select")

    def owner_name(self) -> str:
        return self.owner.first_name if self.owner else ""


class BinnedMixin:
    """A record that goes to the recycle bin (回收站) when deleted: it stays in its table with `deleted_at`
    set and is invisible everywhere else (app/recycle.py). Records deleted together (a customer with its
    contacts, follow-ups, opportunities, contracts and invoices) share `deleted_batch` and come back
    together."""

    deleted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    deleted_batch: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)

    @declared_attr
    def deleted_by_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True)

    @declared_attr
    def deleted_by(cls):
        return relationship("Employee", foreign_keys=[cls.deleted_by_id], lazy="select")


def live_unique(table: str, column: str) -> tuple:
    """A unique value among the records not in the bin (a partial unique index), and an index on the
    binned ones by the same value (an import's duplicate check finds them: "在回收站中")."""
    from sqlalchemy import Index, text

    return (Index(f"uq_{table}_{column}_live", column, unique=True, sqlite_where=text("deleted_at IS NULL"),
                  postgresql_where=text("deleted_at IS NULL")),
            Index(f"ix_{table}_{column}_binned", column, sqlite_where=text("deleted_at IS NOT NULL"),
                  postgresql_where=text("deleted_at IS NOT NULL")))


def binned_indexes(table: str) -> tuple:
    from sqlalchemy import Index, text

    return (Index(f"ix_{table}_deleted_at", "deleted_at", sqlite_where=text("deleted_at IS NOT NULL"),
                  postgresql_where=text("deleted_at IS NOT NULL")),
            Index(f"ix_{table}_deleted_batch", "deleted_batch", sqlite_where=text("deleted_batch IS NOT NULL"),
                  postgresql_where=text("deleted_batch IS NOT NULL")))
