"""Custom fields in workbooks: the columns of an export, and what an import template needs to know.

An export reads its rows in chunks; the custom values of a chunk come in one pivot query (`pivot_loader`:
one row per record, one column per field, each already of the cell's type), and each field's column is
turned into cells by one function built once per export (`column_function`). The importer reads
`columns()` for its template and header check, and sends every cell through `custom_fields.values.check`
like the form and the API do.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import BigInteger, Float, Integer, case, cast, func, select

from app.extensions import db

from custom_fields import values
from custom_fields.definitions import Definition, definitions



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


def _pivot_column(model, definition: Definition):
    """max(CASE WHEN field_id = <field> THEN <its column> END): the field's value of the record (one row per
    record and field), cast to the cell's type in SQL: 整数 as an integer, 小数/金额 as a float, 是/否 as 1/0
    (PostgreSQL has no max(boolean))."""
    kind = definition.field_type
    column = getattr(model, kind.column)
    if definition.type == "boolean":
        column = cast(column, Integer)
    elif definition.type == "integer":
        column = cast(column, BigInteger)
    elif kind.column == "value_number":
        column = cast(column, Float)
    return func.max(case((model.field_id == definition.id, column))).label(f"f{definition.id}")


def pivot_loader(module: str, defs: list[Definition]) -> Callable[[Any, Sequence[int]], list[tuple]]:
    """A function: (a select of record ids, those ids in order) -> the fields' values of each record, in
    that order ((value of each field in `defs`, None where empty) per record), in one query per call
    joined on the select (an export passes the select of its chunk's ids: no list of ids is sent), grouped
    by record on the (record_id, field_id) unique index. The values are as the driver returns them (see
    app/export_cells.py)."""
    model = values.value_model(module)
    query = select(model.record_id, *(_pivot_column(model, d) for d in defs)) \
        .where(model.field_id.in_([d.id for d in defs])).group_by(model.record_id)
    empty = (None,) * len(defs)

    def load(id_select, record_ids: Sequence[int]) -> list[tuple]:
        if not record_ids:
            return []
        result = db.session.connection().execute(query.where(model.record_id.in_(id_select)))
        try:
            found = {row[0]: row[1:] for row in result.cursor.fetchall()}
        finally:
            result.close()
        return [found.get(i, empty) for i in record_ids]
    return load


def column_function(definition: Definition, yes_no: tuple[str, str], fmt: str, masked: bool = False):
    """The function turning a chunk's column of pivot values (see `_pivot_column`) into the field's cells,
    built once per export: options by label, 是/否 as the words, text neutralised, masked if `masked`.
    None when the values are cells already (numbers, dates)."""
    from app import export_cells as cells

    kind = definition.field_type
    if definition.type == "boolean":
        function = cells.yes_no_words(yes_no)
    elif definition.type == "select":
        function = cells.mapping({o.id: cells.neutral(o.label) for o in definition.options}, "")
    elif definition.type == "multiselect":
        function = _multiselect(definition)
    elif kind.column == "value_datetime":
        function = cells.csv_datetimes if fmt == "csv" else cells.xlsx_datetimes
    elif kind.column == "value_date":
        function = None if fmt == "csv" else cells.xlsx_dates
    elif kind.column == "value_number":
        function = None
    else:
        function = cells.texts
    if masked:
        from app.fieldperms import mask_value

        first = function or (lambda column: column)
        function = cells.then(first, lambda column: cells.texts([mask_value(v) for v in column]))
    return function


def _multiselect(definition: Definition) -> Callable[[Sequence], list]:
    """",3,7," -> "选项3、选项7" in the options' order, each distinct set joined once per export."""
    from app.export_cells import neutral

    order = {o.id: n for n, o in enumerate(definition.options)}
    labels = {o.id: o.label for o in definition.options}

    class Joined(dict):
        def __missing__(self, stored):
            ids = sorted((int(i) for i in stored.strip(",").split(",") if i and int(i) in labels), key=order.get)
            text = self[stored] = neutral("、".join(labels[i] for i in ids))
            return text

    lookup = Joined({None: None}).__getitem__
    return lambda column: list(map(lookup, column))
