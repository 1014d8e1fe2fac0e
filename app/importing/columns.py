"""What a module's import template holds: the declared built-in columns, then every visible custom field —
for an importer, only the fields their role may see: an importer who cannot see a field cannot import it
(the template leaves it out, a file's column of it is an unexpected column to map away), and a module whose
natural key (a customer's 手机) or a required built-in column (a contact's 客户) is hidden from them cannot be
imported at all."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from flask_babel import gettext as _


@dataclass(frozen=True)
class ImportColumn:
    """One built-in template column. `kind`: text, mobile, choice (an option list of models.choices),
    bool, decimal, customer (a customer named by mobile or company name)."""

    name: str  # the model attribute (a choice's relationship name for kind="choice")
    kind: str = "text"
    required: bool = False
    choice_kind: Optional[str] = None
    max_length: Optional[int] = None
    label: Any = None  # the header; default: the model's field label
    help: Any = None


@dataclass(frozen=True)
class ImportSpec:
    """ModuleSpec.importer: the natural key (a unique column) and the template's built-in columns."""

    key: str
    columns: Sequence[ImportColumn] = field(default_factory=tuple)
    owner_choice: bool = False  # the dialog asks for 负责人 (none = the public pool)
    after_insert: Optional[Callable] = None  # (rows [{id, owner_id}], user, now) in the chunk's transaction
    undo_keep: Optional[Callable] = None  # () -> predicates (correlated to the record) that keep it on undo


@dataclass
class TemplateColumn:
    """A column of the template as the importer sees it (built-in or custom)."""

    header: str  # with a leading * when required
    name: str  # model attribute or cf_<key>
    kind: str  # text / mobile / choice / bool / decimal / customer / custom
    required: bool
    options: list = field(default_factory=list)
    help: str = ""
    definition: Any = None  # the custom field's Definition
    column: Optional[ImportColumn] = None
    choices: dict = field(default_factory=dict)  # label -> choice id

    @property
    def bare(self) -> str:
        return self.header.lstrip("*")


def _choices(kind: str) -> dict:
    from sqlalchemy import select

    from app.extensions import db
    from models.choices import Choice

    rows = db.session.execute(select(Choice.name, Choice.id).where(Choice.kind == kind, Choice.retired.is_(False))
                              .order_by(Choice.sort_order, Choice.id))
    return {name: pk for name, pk in rows}


def template_columns(spec, user=None) -> list[TemplateColumn]:
    """The template's columns; with `user`, those their field permissions let them fill in on a new record
    (all but the hidden ones: app.fieldperms.writable_columns); refuses (403) a module whose key or a required
    built-in column is hidden."""
    columns = _all_columns(spec)
    if user is None:
        return columns
    from flask_babel import lazy_gettext as _l

    from app import fieldperms
    from app.errors import CrmError

    access = fieldperms.field_access(user, spec.module)
    allowed = set(fieldperms.writable_columns(spec.module, [c.name for c in columns], access, creating=True))
    # the key and the required built-in columns (a contact's 客户) cannot be left out: a role that cannot see
    # one cannot import the module
    needed = [c for c in columns if c.name == spec.importer.key or (c.required and c.kind != "custom")]
    missing = next((c for c in needed if c.name not in allowed), None)
    if missing is not None:
        raise CrmError(_l("Your role cannot see the field %(field)s, so you cannot import %(records)s.",
                          field=missing.bare, records=spec.label), status=403)
    return [c for c in columns if c.name in allowed]


def _all_columns(spec) -> list[TemplateColumn]:
    from custom_fields.definitions import definitions

    importer = spec.importer
    labels = spec.labels
    result = []
    for column in importer.columns:
        label = str(column.label or labels.get(column.name, column.name))
        choices = _choices(column.choice_kind) if column.kind == "choice" else {}
        options = list(choices) if column.kind == "choice" else ([_("Yes"), _("No")] if column.kind == "bool" else [])
        result.append(TemplateColumn(header=("*" if column.required else "") + label, name=column.name,
                                     kind=column.kind, required=column.required, options=options,
                                     help=str(column.help or ""), column=column, choices=choices))
    if spec.custom_fields:
        for definition in definitions(spec.custom_fields):
            kind = definition.field_type
            options = [o.label for o in definition.active_options] if kind.has_options else (
                [_("Yes"), _("No")] if definition.type == "boolean" else [])
            result.append(TemplateColumn(header=("*" if definition.required else "") + definition.label,
                                         name=definition.name, kind="custom", required=definition.required,
                                         options=options, help=definition.help_text or str(kind.label),
                                         definition=definition))
    return result
