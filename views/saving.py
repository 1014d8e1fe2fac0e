"""Saving a generated module's records, for the screen's forms and the REST API alike: through the module's
service when it declares one, otherwise through app.records, with the module's after_save hook and its custom
values (cf_<key>) written in the record's own transaction.
"""
from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l

from app import records
from app.errors import CrmError
from custom_fields import values as custom_values
from views.module_spec import ModuleSpec


def save(spec: ModuleSpec, item, data: dict, user, custom: Optional[dict] = None):
    """Create (item None) or change a record through the module's service, or app.records. `custom` holds
    the raw cf_<key> values: checked and written in the record's own transaction (the `after` hook)."""
    if spec.service is not None:
        return spec.service.create(data, user) if item is None else spec.service.update(item, data, user)
    created = item is None
    if created and spec.owned and data.get("owner", ...) in (None, ""):
        data = {k: v for k, v in data.items() if k != "owner"}  # no owner given: the creator's (never the pool)
    if custom and not spec.custom_fields:
        name = next(iter(custom))
        raise CrmError(_l("Unknown field: %(field)s", field=name), field=name)

    def after(obj):
        if spec.after_save is not None:
            spec.after_save(obj, created, user)
        if spec.custom_fields:
            custom_values.save_record(spec.custom_fields, obj.id, custom or {}, creating=created)
    if created:
        return records.create_record(spec.model, data, user, after=after)
    return records.update_record(item, data, user, after=after)


def remove(spec: ModuleSpec, item, user) -> None:
    if spec.service is not None:
        spec.service.delete(item, user)
    else:
        records.delete_record(item, user)
