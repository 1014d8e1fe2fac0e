"""The audit trail of a CRM record's creation and change (新建 / 修改), custom values included.

`snapshot(obj)` reads a record as the trail keeps it: its plain fields, a many-to-one field by its name
(a customer's status as its label, an owned record by its id only: "#12", never another record's
fields), and its custom values as shown on screen (cf_<key>). Mobile numbers — the fields that can be
masked — are kept masked (138****8000) on both sides, so the trail never discloses one in full.

`record_created(obj, user)` / `record_changed(obj, before, user)` add the entry in the record's own
transaction (app/records.py calls them after the save, custom values written)."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import inspect

from app import audit, fieldperms
from models.mixins import OwnedMixin
from models.org import Employee

# bookkeeping the trail leaves out (who changed it and when is the entry itself)
SKIPPED = fieldperms.SYSTEM_FIELDS | {"department", "owned_since", "released_at", "release_reason",
                                       "updated_by", "created_by"}


def _module(obj) -> str:
    return obj.__tablename__


def _related_text(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, OwnedMixin) and not isinstance(value, Employee):
        return f"#{value.id}"
    if isinstance(value, Employee):
        return value.first_name
    return str(value)


def _custom(obj) -> dict[str, Any]:
    module = fieldperms.CUSTOM_FIELD_MODULES.get(type(obj))
    if module is None or obj.id is None:
        return {}
    from custom_fields import definitions, values

    defs = definitions(module, include_hidden=True)
    if not defs:
        return {}
    loaded = values.load(module, [obj.id], defs).get(obj.id, {})
    return {d.name: (text if text not in ("", None) else None)
            for d, text in ((d, d.field_type.display(d, loaded.get(d.id))) for d in defs)}


def snapshot(obj) -> dict[str, Any]:
    """{field: value as the trail keeps it} of one record (mobile numbers masked)."""
    model = type(obj)
    mapper = inspect(model)
    fields = fieldperms._shape(model)[0]
    result: dict[str, Any] = {}
    for field in fields:
        if field in SKIPPED:
            continue
        if field in mapper.relationships:
            result[field] = _related_text(getattr(obj, field))
        else:
            value = getattr(obj, field)
            result[field] = None if value == "" else value
    result.update(_custom(obj))
    masked = set(getattr(model, "mobile_fields", ()))
    module = fieldperms.CUSTOM_FIELD_MODULES.get(model)
    if module is not None:
        from custom_fields import definitions

        masked |= {d.name for d in definitions(module, include_hidden=True) if d.type == "mobile"}
    for field in masked & set(result):
        result[field] = fieldperms.mask_mobile(result[field])
    return result


def name_of(obj) -> Optional[str]:
    """The record's name as the trail keeps it: its label field (a mobile masked), else its number."""
    model = type(obj)
    column = getattr(model, "label_column", "name")
    value = getattr(obj, column, None) if column in inspect(model).columns else None
    if value in (None, ""):
        return f"#{obj.id}"
    if column in getattr(model, "mobile_fields", ()):
        return fieldperms.mask_mobile(str(value))
    return str(value)[:200]


def record_created(obj, user=None) -> None:
    after = snapshot(obj)
    changes = {field: (None, value) for field, value in after.items() if value is not None}
    audit.record("create", module=_module(obj), record_ids=[obj.id], changes=changes or None,
                 detail={"name": name_of(obj)}, actor=user)


def record_changed(obj, before: dict, user=None) -> None:
    """An entry only when something changed (saving an untouched form writes none)."""
    changes = audit.diff(before, snapshot(obj))
    if changes:
        audit.record("update", module=_module(obj), record_ids=[obj.id], changes=changes,
                     detail={"name": name_of(obj)}, actor=user)
