"""The audit trail of custom-field administration (新建 / 修改 / 删除自定义字段, 调整顺序): each entry is
written in the service's own transaction, with the field's properties before and after."""
from __future__ import annotations

from typing import Optional

from app import audit
from custom_fields.models import FieldDefinition

PROPERTIES = ("label", "type", "required", "unique", "default", "help_text", "max_length", "min_value",
              "max_value", "list_default", "filterable", "hidden")
MODULE = "custom_field"


def state(row: FieldDefinition) -> dict:
    """A field's properties as the trail keeps them; its options (and its retired ones) by name."""
    values = {name: getattr(row, name) for name in PROPERTIES}
    for name in ("min_value", "max_value"):
        if values[name] is not None:
            values[name] = str(values[name])
    options = sorted(row.options, key=lambda o: (o.sort_order or 0, o.id or 0))
    values["options"] = [o.label for o in options if not o.retired] or None
    values["retired_options"] = [o.label for o in options if o.retired] or None
    return values


def _detail(row: FieldDefinition) -> dict:
    return {"module": row.module, "key": row.key, "label": row.label}


def created(row: FieldDefinition) -> None:
    after = state(row)
    audit.record("custom_field_create", module=MODULE, record_ids=[row.id], detail=_detail(row),
                 changes={k: (None, v) for k, v in after.items() if v not in (None, False)})


def changed(row: FieldDefinition, before: dict) -> None:
    changes = audit.diff(before, state(row))
    if changes:
        audit.record("custom_field_change", module=MODULE, record_ids=[row.id], changes=changes,
                     detail=_detail(row))


def deleted(row: FieldDefinition, values_removed: int) -> None:
    audit.record("custom_field_delete", module=MODULE, record_ids=[row.id],
                 changes={k: (v, None) for k, v in state(row).items() if v not in (None, False)},
                 detail={**_detail(row), "values_removed": values_removed})


def reordered(module: str, before: list[int], after: list[int], labels: Optional[dict] = None) -> None:
    if before != after:
        audit.record("custom_field_change", module=MODULE, record_ids=after,
                     changes={"order": ([(labels or {}).get(i, i) for i in before],
                                        [(labels or {}).get(i, i) for i in after])},
                     detail={"module": module})
