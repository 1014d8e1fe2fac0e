"""Administering custom fields: add, change, reorder, hide and delete fields and their options. Used by
the settings screens and by /api/v1/custom_field/ alike; each function is one transaction."""
from __future__ import annotations

import decimal
from typing import Any, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, String, cast, delete, func, select, update

from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.inputs import is_id
from custom_fields import audit as field_audit
from custom_fields.definitions import forget, snapshot
from custom_fields.models import RECORD_MODELS, VALUE_MODELS, FieldDefinition, FieldModule, FieldOption
from custom_fields.types import TYPES, FieldValueError
from custom_fields.values import value_count
from models.mixins import utcnow

FLAGS = ("required", "unique", "list_default", "filterable", "hidden")


class NeedsConfirmation(CrmError):
    """Deleting a field that holds values: the caller must ask, and say how many records lose a value."""

    status = 409

    def __init__(self, message, count: int):
        super().__init__(message, field="confirm")
        self.count = count


def get_field(field_id) -> FieldDefinition:
    row = db.session.get(FieldDefinition, int(field_id)) if is_id(field_id) else None
    if row is None:
        raise NotFound(_l("This custom field does not exist."))
    return row


def create_field(module: str, data: dict[str, Any]) -> FieldDefinition:
    if module not in RECORD_MODELS:
        raise CrmError(_l("Custom fields cannot be added to this module."), field="module")
    with unit_of_work():
        last = db.session.scalar(select(func.max(FieldDefinition.sort_order)).where(FieldDefinition.module == module))
        row = FieldDefinition(module=module, key="", sort_order=(last or 0) + 1)
        data = {"type": "text", **data}
        if "filterable" not in data:  # staff expect every field in 自定义字段筛选: on unless asked otherwise
            kind = TYPES.get(data["type"])
            data["filterable"] = bool(kind and kind.filter_ops)
        _apply(row, data, has_values=False)
        db.session.add(row)
        db.session.flush()
        row.key = f"f{row.id}"  # stable, unique in the module, never reused (ids are not)
        _resolve_default(row, data)
        _touch(module)
        db.session.flush()
        field_audit.created(row)
    forget(module)
    return row


def update_field(field_id, data: dict[str, Any]) -> FieldDefinition:
    with unit_of_work():
        row = get_field(field_id)
        before = field_audit.state(row)
        was_unique = row.unique
        _apply(row, data, has_values=value_count(row.module, row.id) > 0)
        db.session.flush()
        _resolve_default(row, data)
        if row.unique != was_unique:
            _set_unique(row)
        _touch(row.module)
        db.session.flush()
        field_audit.changed(row, before)
    forget(row.module)
    return row


def delete_field(field_id, confirm: bool = False) -> int:
    """Delete a field and every value it holds, in one transaction; returns how many values went.
    With values and without `confirm`, refuses with NeedsConfirmation (the count in its message)."""
    with unit_of_work():
        row = get_field(field_id)
        count = value_count(row.module, row.id)
        if count and not confirm:
            raise NeedsConfirmation(_l("%(n)d records hold a value for %(field)s. Deleting the field removes "
                                       "these values as well; confirm to go on.", n=count, field=row.label), count)
        model = VALUE_MODELS[row.module]
        field_audit.deleted(row, count)
        db.session.execute(delete(model).where(model.field_id == row.id))
        module = row.module
        db.session.delete(row)
        _touch(module)
    forget(module)
    return count


def reorder(module: str, field_ids: Iterable[int]) -> None:
    """Put the module's fields in this order (every field of the module, each once)."""
    with unit_of_work():
        rows = {row.id: row for row in db.session.scalars(select(FieldDefinition).where(
            FieldDefinition.module == module))}
        try:
            ids = [int(i) for i in field_ids]
        except (TypeError, ValueError):
            ids = []
        if sorted(ids) != sorted(rows):
            raise CrmError(_l("The new order must list every field of the module once."))
        before = [row.id for row in sorted(rows.values(), key=lambda r: (r.sort_order, r.id))]
        field_audit.reordered(module, before, ids, {i: row.label for i, row in rows.items()})
        for position, field_id in enumerate(ids, 1):
            rows[field_id].sort_order = position
        _touch(module)
    forget(module)


def move_field(field_id, step: int) -> None:
    """Move a field one place up (-1) or down (+1)."""
    row = get_field(field_id)
    ids = list(db.session.scalars(select(FieldDefinition.id).where(FieldDefinition.module == row.module)
                                  .order_by(FieldDefinition.sort_order, FieldDefinition.id)))
    position = ids.index(row.id)
    target = position + (1 if step > 0 else -1)
    if 0 <= target < len(ids):
        ids[position], ids[target] = ids[target], ids[position]
    reorder(row.module, ids)


def set_hidden(field_id, hidden: bool) -> FieldDefinition:
    return update_field(field_id, {"hidden": bool(hidden)})


# ---------------------------------------------------------------- checks


def _apply(row: FieldDefinition, data: dict[str, Any], has_values: bool) -> None:
    if "type" in data and data["type"] != row.type:
        if data["type"] not in TYPES:
            raise CrmError(_l("Unknown field type: %(type)s", type=data["type"]), field="type")
        if has_values:
            raise CrmError(_l("The type of %(field)s cannot be changed: records already hold values of it. "
                              "Add a new field instead.", field=row.label), field="type")
        row.type = data["type"]
    kind = TYPES[row.type]
    if "label" in data or row.label is None:
        row.label = _label(row, data.get("label"))
    for flag in FLAGS:
        if flag in data:
            setattr(row, flag, _flag(data[flag], flag))
    if row.unique and not kind.can_unique:
        raise CrmError(_l("A field of type %(type)s cannot be unique.", type=kind.label), field="unique")
    if row.filterable and not kind.filter_ops:
        raise CrmError(_l("A field of type %(type)s cannot be used as a filter.", type=kind.label),
                       field="filterable")
    if "help_text" in data:
        row.help_text = _text(data["help_text"], 255, "help_text")
    if "max_length" in data:
        row.max_length = _max_length(kind, data["max_length"])
    if "min_value" in data:
        row.min_value = _number(data["min_value"], "min_value")
    if "max_value" in data:
        row.max_value = _number(data["max_value"], "max_value")
    if not kind.has_length:
        row.max_length = None
    if not kind.has_range:
        row.min_value = row.max_value = None
    if row.min_value is not None and row.max_value is not None and row.min_value > row.max_value:
        raise CrmError(_l("The minimum is larger than the maximum."), field="min_value")
    if kind.has_options:
        if "options" in data:
            _apply_options(row, data["options"])
        if not any(not o.retired for o in row.options):
            raise CrmError(_l("A choice field needs at least one option in use."), field="options")
    elif row.options:
        row.options.clear()  # no values can hold them: the type changed only because there were none


def _label(row: FieldDefinition, label) -> str:
    label = _text(label, 64, "label")
    if not label:
        raise CrmError(_l("%(field)s is required.", field=_l("Field name")), field="label")
    model = RECORD_MODELS[row.module]
    if label in {str(v) for v in getattr(model, "field_labels", {}).values()}:
        raise CrmError(_l("%(label)s is already a built-in field of this module.", label=label), field="label")
    clash = select(FieldDefinition.id).where(FieldDefinition.module == row.module, FieldDefinition.label == label)
    if row.id is not None:
        clash = clash.where(FieldDefinition.id != row.id)
    if db.session.scalar(clash) is not None:
        raise CrmError(_l("This module already has a field named %(label)s.", label=label), field="label")
    return label


def _apply_options(row: FieldDefinition, items) -> None:
    """Options in their new order: a label (new), or {"id", "label", "retired"}. An existing option left
    out is retired, never deleted: records that hold it keep it."""
    if not isinstance(items, (list, tuple)):
        raise CrmError(_l("Options must be a list."), field="options")
    existing = {o.id: o for o in row.options}
    seen_ids, labels, ordered = set(), set(), []
    for item in items:
        item = {"label": item} if isinstance(item, str) else item
        if not isinstance(item, dict):
            raise CrmError(_l("Options must be a list."), field="options")
        label = _text(item.get("label"), 64, "options")
        option_id = item.get("id")
        if option_id not in (None, ""):
            option = existing.get(int(option_id)) if str(option_id).isdigit() else None
            if option is None or option.id in seen_ids:
                raise CrmError(_l("This option does not exist."), field="options")
            seen_ids.add(option.id)
        elif not label:
            continue  # an empty new row of the form
        else:
            option = FieldOption(label=label)
            row.options.append(option)
        if not label:
            raise CrmError(_l("An option needs a name."), field="options")
        if label in labels:
            raise CrmError(_l("The option %(option)s is listed twice.", option=label), field="options")
        labels.add(label)
        option.label = label
        option.retired = _flag(item.get("retired", False), "options")
        ordered.append(option)
    for option in existing.values():
        if option.id not in seen_ids:
            option.retired = True
            ordered.append(option)
    for position, option in enumerate(ordered, 1):
        option.sort_order = position


def _resolve_default(row: FieldDefinition, data: dict) -> None:
    """Check the default with the field's own type (options now have ids) and keep it in canonical form."""
    if "default" not in data and row.default is None:
        return
    raw = data.get("default", row.default)
    if raw in (None, "") or (isinstance(raw, (list, tuple)) and not raw):
        row.default = None
        return
    definition = snapshot(row)
    try:
        value = definition.field_type.coerce(definition, raw)
    except FieldValueError as error:
        raise CrmError(_l("%(field)s: %(error)s", field=_l("Default value"), error=error.message), field="default")
    kind = definition.field_type
    row.default = ",".join(map(str, value)) if isinstance(value, tuple) else kind.form_data(definition, value)


def _set_unique(row: FieldDefinition) -> None:
    """Turning "unique" on fills the unique index from existing values, after refusing duplicates."""
    model = VALUE_MODELS[row.module]
    if not row.unique:
        db.session.execute(update(model).where(model.field_id == row.id).values(unique_value=None))
        return
    kind = TYPES[row.type]
    column = getattr(model, kind.column)
    duplicate = db.session.execute(select(column, func.count()).where(model.field_id == row.id, column.isnot(None))
                                   .group_by(column).having(func.count() > 1).limit(1)).first()
    if duplicate is not None:
        shown = kind.display(snapshot(row), kind.read(duplicate[0]))
        raise CrmError(_l("%(n)d records share the value %(value)s: the field cannot be made unique until they "
                          "differ.", n=duplicate[1], value=shown), field="unique")
    text = cast(cast(column, BigInteger), String) if row.type == "integer" else column
    db.session.execute(update(model).where(model.field_id == row.id, column.isnot(None)).values(unique_value=text))


def _touch(module: str) -> None:
    state = db.session.get(FieldModule, module)
    if state is None:
        db.session.add(FieldModule(module=module, changed_at=utcnow()))
    else:
        state.changed_at = utcnow()


def _flag(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1", "true", "false", "on", "", None):
        return value in (1, "1", "true", "on")
    raise CrmError(_l("Must be true or false."), field=field)


def _text(value, limit: int, field: str) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CrmError(_l("Please enter text."), field=field)
    value = value.strip()
    if len(value) > limit:
        raise CrmError(_l("At most %(n)d characters.", n=limit), field=field)
    return value or None


def _max_length(kind, value) -> Optional[int]:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= kind.length_limit:
        raise CrmError(_l("The maximum length must be between 1 and %(n)d.", n=kind.length_limit), field="max_length")
    return number


def _number(value, field: str) -> Optional[decimal.Decimal]:
    if value in (None, ""):
        return None
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise CrmError(_l("Please enter a number."), field=field)
    if not number.is_finite() or abs(number) >= 10 ** 14:
        raise CrmError(_l("Please enter a number."), field=field)
    return number
