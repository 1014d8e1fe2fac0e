"""Customers and what hangs off them: contacts, groups, follow-ups, the owner history and the pool rules."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.choices import Choice
from models.mixins import AuditMixin, BinnedMixin, OwnedMixin, binned_indexes, live_unique, utcnow

COMMON_LABELS = {
    "owner": _l("Owner"), "owner_name": _l("Owner"), "department": _l("Department"), "note": _l("Note"),
    "created_at": _l("Created at"), "updated_at": _l("Updated at"), "created_by": _l("Created by"),
    "updated_by": _l("Updated by"), "customer": _l("Customer"), "mobile": _l("Mobile"),
}


customer_group_member = Table(
    "customer_group_member",
    Model.metadata,
    Column("group_id", ForeignKey("customer_group.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Customer(BinnedMixin, OwnedMixin, AuditMixin, Model):
    """客户. No owner = in the public pool (公海)."""

    __tablename__ = "customer"
    label_column = "company_name"
    unique_fields = ("mobile",)
    mobile_fields = ("mobile",)
    # as in the manual's import template: a customer must have a mobile number, the company name is optional
    required_fields = ("mobile",)
    field_labels = {
        **COMMON_LABELS, "company_name": _l("Company name"), "contact_name": _l("Contact name"),
        "status": _l("Customer status"), "level": _l("Customer level"), "source": _l("Customer source"),
        "address": _l("Address"), "last_followup_at": _l("Last follow-up"), "released_at": _l("Returned at"),
        "release_reason": _l("Reason for return"), "owned_since": _l("Owned since"),
    }
    __table_args__ = (
        # the lists count a scope's customers from this index alone: partial, and naming deleted_at (SQLite's
        # covering test wants every column the statement names, and it says deleted_at IS NULL) — 0017_recycle
        Index("ix_customer_owner_id_id", "owner_id", "id", "deleted_at", sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_customer_status_id_id", "status_id", "id"),
        Index("ix_customer_company_name", "company_name"),
        *live_unique("customer", "mobile"), *binned_indexes("customer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_name: Mapped[Optional[str]] = mapped_column(String(128))
    contact_name: Mapped[Optional[str]] = mapped_column(String(64))
    mobile: Mapped[Optional[str]] = mapped_column(String(11))
    status_id: Mapped[Optional[int]] = mapped_column(ForeignKey("choice.id"))
    level_id: Mapped[Optional[int]] = mapped_column(ForeignKey("choice.id"))
    source_id: Mapped[Optional[int]] = mapped_column(ForeignKey("choice.id"))
    address: Mapped[Optional[str]] = mapped_column(String(255))
    note: Mapped[Optional[str]] = mapped_column(Text)
    last_followup_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, index=True)
    # when the current owner got it: the auto-return rule counts from here when there is no follow-up
    owned_since: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    released_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    release_reason: Mapped[Optional[str]] = mapped_column(String(255))
    import_job_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)  # the import that created it

    status: Mapped[Optional[Choice]] = relationship(foreign_keys=[status_id], lazy="joined")
    level: Mapped[Optional[Choice]] = relationship(foreign_keys=[level_id], lazy="joined")
    source: Mapped[Optional[Choice]] = relationship(foreign_keys=[source_id], lazy="joined")
    contacts: Mapped[list["Contact"]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    followups: Mapped[list["FollowUp"]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    groups: Mapped[list["CustomerGroup"]] = relationship(secondary=customer_group_member, back_populates="customers")

    def in_pool(self) -> bool:
        return self.owner_id is None

    def __repr__(self) -> str:
        return self.company_name or self.contact_name or self.mobile or f"#{self.id}"


class Contact(BinnedMixin, OwnedMixin, AuditMixin, Model):
    """联系人; owned with its customer (a transfer moves it too)."""

    __tablename__ = "contact"
    owner_follows = "customer"
    mobile_fields = ("mobile",)
    field_labels = {**COMMON_LABELS, "name": _l("Name"), "position": _l("Position"), "email": _l("Email"),
                    "wechat": _l("WeChat")}
    __table_args__ = binned_indexes("contact")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    mobile: Mapped[Optional[str]] = mapped_column(String(11), index=True)
    position: Mapped[Optional[str]] = mapped_column(String(64))
    email: Mapped[Optional[str]] = mapped_column(String(128))
    wechat: Mapped[Optional[str]] = mapped_column(String(64))
    note: Mapped[Optional[str]] = mapped_column(Text)
    import_job_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)  # the import that created it

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    def __repr__(self) -> str:
        return self.name


class CustomerGroup(Model):
    """分组: an employee's own folders for their customers."""

    __tablename__ = "customer_group"
    label_column = "name"
    field_labels = {"name": _l("Group name"), "hidden": _l("Hidden"), "sort_order": _l("Order"),
                    "member_count": _l("Customers")}
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_customer_group_owner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    owner = relationship("Employee", foreign_keys=[owner_id])
    customers: Mapped[list[Customer]] = relationship(secondary=customer_group_member, back_populates="groups")

    def member_count(self) -> int:
        return len(self.customers)

    def __repr__(self) -> str:
        return self.name


FOLLOWUP_WAYS = [("call", _l("Phone call")), ("visit", _l("Visit")), ("wechat", _l("WeChat")), ("other", _l("Other"))]


class FollowUp(BinnedMixin, OwnedMixin, Model):
    """跟进记录. The owner is the employee who followed up."""

    __tablename__ = "followup"
    label_column = "content"
    field_labels = {**COMMON_LABELS, "owner": _l("Followed up by"), "owner_name": _l("Followed up by"),
                    "way": _l("Way"), "way_label": _l("Way"), "content": _l("Content"),
                    "followed_at": _l("Followed up at"), "next_followup_at": _l("Next follow-up")}
    __table_args__ = (Index("ix_followup_customer_id_at", "customer_id", "followed_at"),
                      *binned_indexes("followup"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False)
    way: Mapped[str] = mapped_column(String(16), nullable=False, default="call")
    content: Mapped[str] = mapped_column(Text, nullable=False)
    followed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    next_followup_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # the call this follow-up records (the call-center issue adds the call table and its key)
    call_record_id: Mapped[Optional[int]] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship(back_populates="followups")

    value_labels = {"way": dict(FOLLOWUP_WAYS)}

    def way_label(self) -> str:
        return str(dict(FOLLOWUP_WAYS).get(self.way, self.way))

    def __repr__(self) -> str:
        return (self.content or "")[:40] or f"#{self.id}"


OWNER_ACTIONS = {
    "create": _l("Created"), "claim": _l("Claimed"), "assign": _l("Assigned"), "release": _l("Returned to the pool"),
    "transfer": _l("Transferred"), "resign": _l("Handed over on resignation"), "import": _l("Imported"),
    "auto_release": _l("Returned to the pool automatically"),
}


class OwnerHistory(Model):
    """Every change of a customer's owner: who had it, who has it now, why, when and by whom."""

    __tablename__ = "owner_history"
    __table_args__ = (
        Index("ix_owner_history_customer_at", "customer_id", "at"),
        Index("ix_owner_history_actor_action_at", "actor_id", "action", "at"),
        Index("ix_owner_history_from_owner", "from_owner_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False)
    from_owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    to_owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[Optional[str]] = mapped_column(String(255))
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    from_owner = relationship("Employee", foreign_keys=[from_owner_id])
    to_owner = relationship("Employee", foreign_keys=[to_owner_id])
    actor = relationship("Employee", foreign_keys=[actor_id])

    def action_label(self) -> str:
        return str(OWNER_ACTIONS.get(self.action, self.action))


class PoolRules(Model):
    """公海规则, one row: set by an administrator. Zero means "no limit"."""

    __tablename__ = "pool_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    daily_claim_limit: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reclaim_cooldown_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_owned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    auto_release_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
