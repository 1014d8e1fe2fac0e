"""Custom fields (自定义字段) as EAV: definitions, their options, and one value table per module.

Why one value table per module rather than one shared table: `record_id` can then be a real foreign key to
the module's table with ON DELETE CASCADE (deleting a customer removes its values in the database), and a
module's values never share index pages with another module's.

A value row exists only when the record has a value for the field, and exactly one typed column of it is
set (the type's `column` in custom_fields/types.py). That is what lets every typed index be a *partial*
index (`WHERE value_x IS NOT NULL`): each row lands in one typed index instead of six, and
"field = value", ranges and ordering on a field are index scans on (field_id, value_x, record_id) on
SQLite and PostgreSQL alike (shared/research/perf.md §5).
"""
from __future__ import annotations

import datetime as dt
import decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from models.crm import Contact, Customer
from models.mixins import utcnow
from models.sales import Contract, Invoice, Product

# module key -> the record model, in the manual's order (the settings screen lists them so)
RECORD_MODELS = {"customer": Customer, "contact": Contact, "product": Product, "contract": Contract,
                 "invoice": Invoice}

TEXT_LENGTH = 255  # value_text (indexed): single-line text, mobile, e-mail, web address, multi-select ids
NUMBER = Numeric(20, 6)


class FieldDefinition(Model):
    """One custom field of one module. `key` is generated ("f12") and never changes, so API clients
    and import templates can rely on `cf_<key>` while the label is renamed."""

    __tablename__ = "custom_field"
    __table_args__ = (
        UniqueConstraint("module", "key", name="uq_custom_field_module_key"),
        UniqueConstraint("module", "label", name="uq_custom_field_module_label"),
        Index("ix_custom_field_module_order", "module", "sort_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    module: Mapped[str] = mapped_column(String(16), nullable=False)
    key: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(64), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    unique: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    default: Mapped[Optional[str]] = mapped_column(Text)  # as text; select types keep option ids ("3" / "3,7")
    help_text: Mapped[Optional[str]] = mapped_column(String(255))
    max_length: Mapped[Optional[int]] = mapped_column(Integer)
    min_value: Mapped[Optional[decimal.Decimal]] = mapped_column(NUMBER)
    max_value: Mapped[Optional[decimal.Decimal]] = mapped_column(NUMBER)
    list_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    filterable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    options: Mapped[list["FieldOption"]] = relationship(
        back_populates="field", cascade="all, delete-orphan", order_by="(FieldOption.sort_order, FieldOption.id)")

    def __repr__(self) -> str:
        return f"{self.module}.{self.key} {self.label}"


class FieldOption(Model):
    """An option of a 单选/多选 field. Values hold the option's id, so renaming and reordering never
    touch them; a retired option is no longer offered, and the records that hold it keep it."""

    __tablename__ = "custom_field_option"
    __table_args__ = (UniqueConstraint("field_id", "label", name="uq_custom_field_option_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_field.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    label: Mapped[str] = mapped_column(String(64), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    field: Mapped[FieldDefinition] = relationship(back_populates="options")


class FieldModule(Model):
    """When a module's fields last changed (the settings list shows it; a deleted field leaves no row
    of its own to date the change by)."""

    __tablename__ = "custom_field_module"

    module: Mapped[str] = mapped_column(String(16), primary_key=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class FieldValueMixin:
    """The columns of every module's value table. `unique_value` is set only for fields marked unique,
    so a partial unique index makes "unique within the module" hold in the database, not only in a
    check that two concurrent saves could both pass."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value_text: Mapped[Optional[str]] = mapped_column(String(TEXT_LENGTH))
    # multi-line text is kept out of the indexed column: a btree entry has a size limit on PostgreSQL
    value_long: Mapped[Optional[str]] = mapped_column(Text)
    value_number: Mapped[Optional[decimal.Decimal]] = mapped_column(NUMBER)
    value_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    value_datetime: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    value_bool: Mapped[Optional[bool]] = mapped_column(Boolean)
    unique_value: Mapped[Optional[str]] = mapped_column(String(TEXT_LENGTH))

    @declared_attr
    def field_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("custom_field.id", ondelete="CASCADE"), nullable=False)

    @declared_attr
    def option_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("custom_field_option.id"))


def _partial(table: str, column: str) -> Index:
    """(field_id, value_x, record_id) WHERE value_x IS NOT NULL. Option ids are unique across fields, so
    the option index leads with option_id: it serves "field = option" as well, and the foreign-key check
    when an option row is deleted."""
    condition = text(f"{column} IS NOT NULL")
    columns = (column, "record_id") if column == "option_id" else ("field_id", column, "record_id")
    return Index(f"ix_{table}_{column}", *columns, sqlite_where=condition, postgresql_where=condition)


def _value_model(module: str, record_model: type) -> type:
    table = f"{module}_field_value"
    record_table = record_model.__tablename__
    unique_condition = text("unique_value IS NOT NULL")
    attrs = {
        "__tablename__": table,
        "__table_args__": (
            UniqueConstraint("record_id", "field_id", name=f"uq_{table}_record_field"),
            # leads with field_id: counting or deleting one field's values, and the foreign-key check when
            # a definition is deleted, must not scan every value of the module
            Index(f"ix_{table}_field_id", "field_id"),
            *(_partial(table, column) for column in ("value_text", "value_number", "value_date",
                                                     "value_datetime", "value_bool", "option_id")),
            Index(f"uq_{table}_unique_value", "field_id", "unique_value", unique=True,
                  sqlite_where=unique_condition, postgresql_where=unique_condition),
        ),
        "record_id": mapped_column(ForeignKey(f"{record_table}.id", ondelete="CASCADE"), nullable=False),
        "__doc__": f"Custom values of {record_model.__name__} records: one row per (record, field).",
    }
    name = "".join(part.capitalize() for part in module.split("_")) + "FieldValue"
    return type(name, (FieldValueMixin, Model), attrs)


VALUE_MODELS: dict[str, type] = {module: _value_model(module, model) for module, model in RECORD_MODELS.items()}
CustomerFieldValue = VALUE_MODELS["customer"]
ContactFieldValue = VALUE_MODELS["contact"]
ProductFieldValue = VALUE_MODELS["product"]
ContractFieldValue = VALUE_MODELS["contract"]
InvoiceFieldValue = VALUE_MODELS["invoice"]


def not_binned(module: str, record_id):
    """The value rows of records not in the recycle bin (app/recycle.py), for statements that read value rows
    without their record: NOT EXISTS a binned record with that id (Core, which the ORM hook leaves alone;
    the probe is the record's primary key, or on PostgreSQL an anti-join with the few binned ids)."""
    from sqlalchemy import exists

    table = RECORD_MODELS[module].__table__
    return ~exists().where(table.c.id == record_id, table.c.deleted_at.isnot(None))
