"""Column groups shared by several models."""
import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, func
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
