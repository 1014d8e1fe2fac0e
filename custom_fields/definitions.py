"""The current field definitions of a module, as plain read-only snapshots.

Definitions are read from the database on every request (one query per module, options joined, remembered on `flask.g`
for the rest of that request only). No process keeps them longer, so a field added in one web process
is in every other process's forms, lists, API and exports from its next request, with no restart and
no cache to expire.
"""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Optional

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from custom_fields.models import RECORD_MODELS, FieldDefinition, FieldModule
from custom_fields.types import TYPES, FieldType

PREFIX = "cf_"  # a custom field is `cf_<key>` in forms, list columns, the API and query arguments


@dataclass(frozen=True)
class Option:
    id: int
    label: str
    sort_order: int
    retired: bool


@dataclass(frozen=True)
class Definition:
    id: int
    module: str
    key: str
    label: str
    type: str
    required: bool
    unique: bool
    default: Optional[str]
    help_text: Optional[str]
    max_length: Optional[int]
    min_value: Optional[decimal.Decimal]
    max_value: Optional[decimal.Decimal]
    list_default: bool
    filterable: bool
    hidden: bool
    sort_order: int
    options: tuple[Option, ...] = ()
    updated_at: Optional[dt.datetime] = None

    @property
    def name(self) -> str:
        """The name of the field in forms, list columns, the API and query arguments."""
        return PREFIX + self.key

    @property
    def field_type(self) -> FieldType:
        return TYPES[self.type]

    @property
    def sortable(self) -> bool:
        return self.field_type.sortable

    def option(self, option_id) -> Optional[Option]:
        return next((o for o in self.options if o.id == option_id), None)

    def option_by_label(self, label: str) -> Optional[Option]:
        return next((o for o in self.options if o.label == label), None)

    @property
    def active_options(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if not o.retired)

    def default_value(self):
        """The typed default, or None (a default that no longer fits, e.g. a retired option, is dropped)."""
        if self.default in (None, ""):
            return None
        try:
            value = self.field_type.coerce(self, self.default)
        except ValueError:
            return None
        if self.type == "select" and self.option(value).retired:
            return None
        if self.type == "multiselect":
            value = tuple(i for i in value if not self.option(i).retired) or None
        return value

    def as_dict(self) -> dict:
        """How the API and the import template describe the field."""
        kind = self.field_type
        return {
            "id": self.id, "module": self.module, "key": self.key, "name": self.name, "label": self.label,
            "type": self.type, "type_label": str(kind.label), "required": self.required, "unique": self.unique,
            "default": self.default, "help_text": self.help_text, "max_length": self.max_length,
            "min_value": None if self.min_value is None else format(self.min_value.normalize(), "f"),
            "max_value": None if self.max_value is None else format(self.max_value.normalize(), "f"),
            "list_default": self.list_default, "filterable": self.filterable, "hidden": self.hidden,
            "sort_order": self.sort_order, "sortable": kind.sortable, "filter_operators": list(kind.filter_ops),
            "options": [{"id": o.id, "label": o.label, "sort_order": o.sort_order, "retired": o.retired}
                        for o in self.options] if kind.has_options else [],
        }


def snapshot(row: FieldDefinition) -> Definition:
    return Definition(
        id=row.id, module=row.module, key=row.key, label=row.label, type=row.type, required=row.required,
        unique=row.unique, default=row.default, help_text=row.help_text, max_length=row.max_length,
        min_value=row.min_value, max_value=row.max_value, list_default=row.list_default,
        filterable=row.filterable, hidden=row.hidden, sort_order=row.sort_order, updated_at=row.updated_at,
        options=tuple(Option(o.id, o.label, o.sort_order, o.retired) for o in row.options),
    )


def _memo() -> dict:
    if not has_app_context():
        return {}
    if "custom_field_definitions" not in g:
        g.custom_field_definitions = {}
    return g.custom_field_definitions


def forget(module: Optional[str] = None) -> None:
    """Drop this request's copy after a change, so the rest of the request sees the new definitions."""
    memo = _memo()
    if module is None:
        memo.clear()
    else:
        memo.pop(module, None)


def all_definitions(module: str) -> tuple[Definition, ...]:
    """Every field of the module, hidden ones included, in screen order."""
    if module not in RECORD_MODELS:
        raise KeyError(f"no custom fields for module {module!r}")
    memo = _memo()
    if module not in memo:
        rows = db.session.scalars(select(FieldDefinition).where(FieldDefinition.module == module)
                                  .options(joinedload(FieldDefinition.options))
                                  .order_by(FieldDefinition.sort_order, FieldDefinition.id)).unique()
        memo[module] = tuple(snapshot(row) for row in rows)
    return memo[module]


def definitions(module: str, include_hidden: bool = False) -> list[Definition]:
    """The module's custom fields as staff see them (hidden ones left out unless asked for).

    The public entry point for code outside custom_fields/ (e.g. the importer's template)."""
    return [d for d in all_definitions(module) if include_hidden or not d.hidden]


def by_name(module: str, include_hidden: bool = False) -> dict[str, Definition]:
    return {d.name: d for d in definitions(module, include_hidden)}


def changed_at(module: str) -> Optional[dt.datetime]:
    row = db.session.get(FieldModule, module)
    return row.changed_at if row is not None else None
