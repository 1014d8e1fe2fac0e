"""Custom fields in workbooks: the columns of an export, and what an import template needs to know.

An export streams its rows; the custom values of each batch of rows are loaded in one query
(`with_values`). The importer (next issue) reads `columns()` for its template and header check, and
sends every cell through `custom_fields.values.check` like the form and the API do.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Iterable, Iterator, Optional

from flask_babel import gettext as _

from custom_fields import values
from custom_fields.definitions import Definition, definitions

BATCH = 2000


def columns(module: str) -> list[dict[str, Any]]:
    """The module's custom columns for a template or an export, in screen order: the header is the
    field's label (unique in the module, and never the label of a built-in field)."""
    result = []
    for definition in definitions(module):
        kind = definition.field_type
        result.append({
            "header": definition.label, "name": definition.name, "key": definition.key, "type": definition.type,
            "type_label": str(kind.label), "required": definition.required, "unique": definition.unique,
            "options": [o.label for o in definition.active_options] if kind.has_options else [],
            "help": definition.help_text or "", "example": example(definition),
        })
    return result


def example(definition: Definition) -> str:
    """A sample cell for the template's hint row."""
    samples = {"text": "", "textarea": "", "integer": "100", "decimal": "3.14", "money": "1000.00",
               "date": "2024-01-31", "datetime": "2024-01-31 14:30", "mobile": "13800000000",
               "email": "name@example.com", "url": "https://example.com", "boolean": _("Yes") + "/" + _("No")}
    if definition.field_type.has_options:
        labels = [o.label for o in definition.active_options]
        return labels[0] if definition.type == "select" else "、".join(labels[:2])
    return samples.get(definition.type, "")


def headers(defs: Iterable[Definition]) -> list[str]:
    return [d.label for d in defs]


def cells(defs: Iterable[Definition], record_values: dict) -> tuple:
    """One record's custom cells: numbers as numbers, dates as dates, options by label."""
    return tuple(d.field_type.cell(d, record_values.get(d.id)) for d in defs)


def with_values(module: str, defs: list[Definition], rows: Iterable[tuple],
                batch: Optional[int] = None) -> Iterator[tuple]:
    """Rows whose last item is the record id -> the rows without it, followed by the custom cells.
    One values query per batch of rows, however many fields there are."""
    iterator = iter(rows)
    size = batch or BATCH
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        loaded = values.load(module, [row[-1] for row in chunk], defs)
        for row in chunk:
            yield tuple(row[:-1]) + cells(defs, loaded.get(row[-1], {}))
