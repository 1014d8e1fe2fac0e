"""Reading, checking and writing the custom values of records.

- `load()` returns the values of a page of records in one query.
- `check()` is the one validation (type, required, unique within the module, length, range, option
  exists and is not retired) used by the add/edit form, the REST API and the importer.
- `save()` writes a record's values in the caller's transaction, so a record and its custom values are
  saved together or not at all.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import CrmError
from app.extensions import db
from custom_fields.definitions import Definition, definitions
from custom_fields.models import VALUE_MODELS, not_binned
from custom_fields.types import FieldValueError

_VALUE_COLUMNS = ("value_text", "value_long", "value_number", "value_date", "value_datetime", "value_bool",
                  "option_id")


def value_model(module: str) -> type:
    return VALUE_MODELS[module]


def load(module: str, record_ids: Iterable[int], defs: Optional[Iterable[Definition]] = None) -> dict[int, dict]:
    """{record_id: {field_id: typed value}} for the records, in one query (index on (record_id, field_id))."""
    ids = list(dict.fromkeys(i for i in record_ids if i is not None))
    if not ids:
        return {}
    by_id = {d.id: d for d in (defs if defs is not None else definitions(module))}
    model = value_model(module)
    query = select(model.record_id, model.field_id, *(getattr(model, c) for c in _VALUE_COLUMNS)) \
        .where(model.record_id.in_(ids))
    result: dict[int, dict] = {i: {} for i in ids}
    for row in db.session.execute(query):
        definition = by_id.get(row.field_id)
        if definition is not None:
            kind = definition.field_type
            result[row.record_id][row.field_id] = kind.read(getattr(row, kind.column))
    return result


def display(defs: Iterable[Definition], values: Mapping[int, Any]) -> dict[str, str]:
    """{cf_<key>: text as shown on screen} for one record."""
    return {d.name: d.field_type.display(d, values.get(d.id)) for d in defs}


def as_json(defs: Iterable[Definition], values: Mapping[int, Any]) -> dict[str, Any]:
    """{cf_<key>: JSON value} for one record, every field present (null when empty)."""
    return {d.name: d.field_type.to_json(d, values.get(d.id)) for d in defs}


def _message(definition: Definition, error) -> Any:
    return _l("%(field)s: %(error)s", field=definition.label, error=error)


def check(module: str, data: Mapping[str, Any], *, record_id: Optional[int] = None, creating: bool = False,
          defs: Optional[list[Definition]] = None) -> tuple[dict[int, Any], dict[str, Any]]:
    """Check the custom part of a record. `data` maps cf_<key> to a raw value (a form string, a JSON value
    or an Excel cell). Creating, a field left out gets its default, and a required one without a default
    is refused; changing, only the fields given are checked and written.

    Returns ({field_id: typed value or None}, {cf_<key>: message}); nothing is written."""
    defs = list(defs if defs is not None else definitions(module))
    by_name = {d.name: d for d in defs}
    errors: dict[str, Any] = {}
    for name in data:
        if name not in by_name:
            errors[name] = _l("Unknown field: %(field)s", field=name)
    current = _current_options(module, record_id, defs, data)
    cleaned: dict[int, Any] = {}
    for definition in defs:
        kind = definition.field_type
        if definition.name in data:
            try:
                value = kind.coerce(definition, data[definition.name])
                _check_retired(definition, value, current.get(definition.id))
            except FieldValueError as error:
                errors[definition.name] = _message(definition, error.message)
                continue
        elif creating:
            value = definition.default_value()
        else:
            continue
        if value is None and definition.required:
            errors[definition.name] = _l("%(field)s is required.", field=definition.label)
            continue
        cleaned[definition.id] = value
    for definition in defs:
        value = cleaned.get(definition.id)
        if definition.unique and value is not None and definition.name not in errors \
                and _taken(module, definition, value, record_id):
            errors[definition.name] = _l("%(field)s %(value)s already exists.", field=definition.label,
                                         value=definition.field_type.display(definition, value))
    return cleaned, errors


def clean(module: str, data: Mapping[str, Any], **kwargs) -> dict[int, Any]:
    """`check()`, raising the first refusal as CrmError(field="cf_<key>") (the API's 400)."""
    cleaned, errors = check(module, data, **kwargs)
    if errors:
        name, message = next(iter(errors.items()))
        raise CrmError(message, field=name)
    return cleaned


def _current_options(module, record_id, defs, data) -> dict[int, Any]:
    """The options a record already holds, for fields with retired options: keeping one is allowed."""
    if record_id is None or not any(d.name in data and any(o.retired for o in d.options) for d in defs):
        return {}
    return load(module, [record_id], defs).get(record_id, {})


def _check_retired(definition: Definition, value, held) -> None:
    if value is None or not definition.field_type.has_options:
        return
    held_ids = set(held if isinstance(held, tuple) else ([held] if held is not None else []))
    for option_id in value if isinstance(value, tuple) else (value,):
        if definition.option(option_id).retired and option_id not in held_ids:
            raise FieldValueError(_l("The option %(option)s is no longer in use.",
                                     option=definition.option(option_id).label))


def _taken(module: str, definition: Definition, value, record_id: Optional[int]) -> bool:
    model = value_model(module)
    kind = definition.field_type
    column = getattr(model, kind.column)
    query = select(model.record_id).where(model.field_id == definition.id, column == kind.stored(value),
                                          not_binned(module, model.record_id))
    if record_id is not None:
        query = query.where(model.record_id != record_id)
    return db.session.scalar(query.limit(1)) is not None


def save(module: str, record_id: int, cleaned: Mapping[int, Any], defs: Optional[list[Definition]] = None) -> None:
    """Write checked values for one record in the current transaction: set, change, or remove (None)."""
    if not cleaned:
        return
    by_id = {d.id: d for d in (defs if defs is not None else definitions(module, include_hidden=True))}
    model = value_model(module)
    rows = {row.field_id: row for row in db.session.scalars(
        select(model).where(model.record_id == record_id, model.field_id.in_(list(cleaned))))}
    for field_id, value in cleaned.items():
        definition, row = by_id[field_id], rows.get(field_id)
        if value is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = model(record_id=record_id, field_id=field_id)
            db.session.add(row)
        kind = definition.field_type
        for column, stored in kind.columns(value).items():
            setattr(row, column, stored)
        row.unique_value = kind.unique_value(value) if definition.unique else None
    try:
        db.session.flush()
    except IntegrityError:
        # two saves raced past the uniqueness check; the partial unique index refused the second
        db.session.rollback()
        field = next((by_id[f] for f in cleaned if by_id[f].unique), None)
        raise CrmError(_l("This value is already used by another record."), field=field.name if field else None)


def save_record(module: str, record_id: int, data: Mapping[str, Any], creating: bool) -> None:
    """Check and write the custom part of a record (raw cf_<key> values); the first refusal raises."""
    defs = definitions(module)
    if not data and not creating:
        return
    save(module, record_id, clean(module, data, record_id=record_id, creating=creating, defs=defs), defs)


def value_count(module: str, field_id: int) -> int:
    """How many records hold a value for the field (an index-only count on (field_id))."""
    model = value_model(module)
    return db.session.scalar(select(func.count()).select_from(model).where(model.field_id == field_id)) or 0


def split(data: Mapping[str, Any], prefix: str = "cf_") -> tuple[dict, dict]:
    """A record's data -> (built-in fields, custom fields)."""
    plain = {k: v for k, v in data.items() if not k.startswith(prefix)}
    custom = {k: v for k, v in data.items() if k.startswith(prefix)}
    return plain, custom


__all__ = ["load", "display", "as_json", "check", "clean", "save", "save_record", "value_count", "split"]
