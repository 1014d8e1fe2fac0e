"""Export of a (filtered) list to .xlsx or .csv, streamed: rows come from the database in batches of
plain tuples, never as 100k ORM objects, and the workbook is written in constant memory.

XlsxWriter rather than tablib: for 100k rows tablib builds the whole workbook in memory (625 MB, 41 s
on these machines, shared/research/perf.md §6); XlsxWriter's constant_memory mode takes 80 MB, 20 s.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import io
import tempfile
from typing import Any, Iterable, Iterator

from flask import Response, send_file, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.orm import aliased

from app.extensions import db

FORMATS = ("xlsx", "csv")
BATCH = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Cells that a spreadsheet would run as a formula are made text (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_plan(spec, columns=None):
    """Column expressions and headers for `columns` of the spec's model; relationships show their label."""
    model = spec.model
    mapper = inspect(model)
    expressions, headers, joins, formatters = [], [], [], []
    labels = spec.labels
    value_labels = getattr(model, "value_labels", {})
    for name in columns or spec.export_columns:
        headers.append(str(labels.get(name, name)))
        if name in mapper.relationships:
            rel = mapper.relationships[name]
            target = aliased(rel.mapper.class_)
            label_column = getattr(rel.mapper.class_, "label_column", "name")
            expressions.append(getattr(target, label_column))
            joins.append((target, getattr(model, name).of_type(target)))
        else:
            expressions.append(getattr(model, name))
        formatters.append(value_labels.get(name))
    return expressions, headers, joins, formatters


def rows(spec, filters, columns=None, custom=(), access=None) -> tuple[list[str], Iterator[tuple]]:
    """Headers and rows of the export. A module with custom fields gets them as the last columns (their
    values loaded once per batch of rows); `custom` are custom-field conditions of the list's filter;
    `access` the employee's field permissions (hidden columns left out, masked ones masked)."""
    from app import fieldperms
    from custom_fields import definitions, io, query as custom_query

    columns = list(columns or spec.export_columns)
    if access:
        columns = fieldperms.readable_columns(spec.module, columns, access)
        masked = {c for c in columns if fieldperms.access_for(spec.module, c, access) == fieldperms.MASKED}
    else:
        masked = set()
    expressions, headers, joins, formatters = export_plan(spec, columns)
    formatters = [_masking if name in masked else formatter for name, formatter in zip(columns, formatters)]
    if access is not None:
        _related_labels(spec, columns, expressions, formatters, joins)
    module = getattr(spec, "custom_fields", None)
    defs = definitions(module) if module else []
    if access:
        defs = [d for d in defs if fieldperms.access_for(spec.module, d.name, access) != fieldperms.HIDDEN]
    custom_masked = [bool(access) and fieldperms.access_for(spec.module, d.name, access) == fieldperms.MASKED
                     for d in defs]
    query = db.session.query(*expressions, spec.model.id).select_from(spec.model)
    for target, relationship in joins:
        query = query.outerjoin(relationship)
    if filters is not None:
        query = filters.apply_all(query)
    if custom:
        query = query.filter(custom_query.matching_ids(spec.model, module, list(custom)))
    query = query.order_by(spec.model.id).yield_per(BATCH)

    # one cell function per column, built once: 是/否 translated once per export, not once per cell
    yes_no = (_("Yes"), _("No"))
    converters = [_converter(formatter, yes_no) for formatter in formatters] + \
        [_custom_converter(d, mask, yes_no) for d, mask in zip(defs, custom_masked)]

    def generate():
        # bound when the rows are read: a streamed export reads them after the view's session is closed
        bound = query.with_session(db.session())
        if defs:
            for row, loaded in _with_custom_values(module, defs, bound):
                values = loaded.get(row[-1], {})
                yield tuple([convert(value) for convert, value in zip(converters, row[:-1])]
                            + [convert(values.get(d.id)) for convert, d in zip(converters[len(formatters):], defs)])
        else:
            for row in bound:
                yield tuple([convert(value) for convert, value in zip(converters, row)])

    return headers + io.headers(defs), generate()


def _related_labels(spec, columns, expressions, formatters, joins) -> None:
    """A column naming another module's record (a contact's 客户) shows its label as the employee may see it
    in that module: hidden -> the record's number (#12), masked -> masked."""
    from flask import g, has_request_context

    from app import fieldperms

    user = g.get("user") if has_request_context() else None
    mapper = inspect(spec.model)
    targets = iter(joins)
    for index, name in enumerate(columns):
        if name not in mapper.relationships:
            continue
        target, _relationship = next(targets)
        access = fieldperms.label_access(mapper.relationships[name].mapper.class_, user)
        if access == fieldperms.HIDDEN:
            expressions[index] = target.id
            formatters[index] = lambda value: None if value is None else f"#{value}"
        elif access == fieldperms.MASKED:
            formatters[index] = _masking


def _masking(value):
    from app.fieldperms import mask_value

    return mask_value(value)


def _with_custom_values(module, defs, rows) -> Iterator[tuple]:
    """(row, {record id: {field id: value}}) with the custom values of each batch of rows loaded in one
    query as the batch comes (the rows end with the record id)."""
    from itertools import islice

    from custom_fields import values as custom_values

    iterator = iter(rows)
    while True:
        chunk = list(islice(iterator, BATCH))
        if not chunk:
            return
        loaded = custom_values.load(module, [row[-1] for row in chunk], defs)
        for row in chunk:
            yield row, loaded


def _converter(formatter, yes_no):
    """The cell function of a built-in column (see _cell)."""
    if callable(formatter):
        return lambda value: _plain(formatter(value), yes_no)
    if formatter is not None:
        return lambda value: None if value is None else _plain(str(formatter.get(value, value)), yes_no)
    return lambda value: _plain(value, yes_no)


def _custom_converter(definition, masked, yes_no):
    """The cell function of a custom field: its type's cell (options by label, numbers as numbers), then
    masked where the employee sees it masked; a yes/no field reads the words translated once."""
    if definition.type == "boolean":
        cell = lambda value: None if value is None else (yes_no[0] if value else yes_no[1])  # noqa: E731
    else:
        kind = definition.field_type
        cell = lambda value: kind.cell(definition, value)  # noqa: E731
    if masked:
        return lambda value: _plain(_masking(cell(value)), yes_no)
    return lambda value: _plain(cell(value), yes_no)


def _plain(value, yes_no):
    """A cell's value as written: text neutralised, yes/no as words, decimals as numbers."""
    kind = value.__class__
    if kind is str:
        return "'" + value if value.startswith(_FORMULA_START) else value
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return yes_no[0] if value else yes_no[1]
    if kind is decimal.Decimal:
        return float(value)
    return value


def _csv_value(value):
    """A CSV cell as the screen shows it: times to the second (str() of a datetime has microseconds)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def _filename(spec, fmt: str) -> str:
    return f"{spec.key}-{dt.date.today():%Y%m%d}.{fmt}"


def _filter_text(filters, custom) -> list:
    """The list filter an export used, as the audit trail keeps it: [[column, operation, value], ...]."""
    described = []
    if filters is not None:
        for flt, value in zip(getattr(filters, "filters", ()), getattr(filters, "values", ())):
            described.append([getattr(flt, "column_name", ""), str(getattr(flt, "name", "")), str(value)[:200]])
    described += [[str(c)[:200]] for c in custom or ()]
    return described


def _audited(spec, fmt, filters, custom, data: Iterable[tuple], commit: bool) -> Iterator[tuple]:
    """Yield the rows and, once all went out, write the export into the audit trail with their count."""
    from app import audit

    count = 0
    for row in data:
        count += 1
        yield row
    audit.record("export", module=spec.module,
                 detail={"rows": count, "format": fmt, "filter": _filter_text(filters, custom)})
    if commit:
        db.session.commit()


def export_response(spec, filters, fmt: str, datamodel=None, custom=(), access=None) -> Response:
    headers, data = rows(spec, filters, custom=custom, access=access)
    data = _audited(spec, fmt, filters, custom, data, commit=True)
    if fmt == "csv":
        return Response(stream_with_context(_owning_connection(_csv_stream(headers, data))),
                        mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{_filename(spec, "csv")}"'})
    handle = write_xlsx(headers, data)
    return send_file(handle, as_attachment=True, download_name=_filename(spec, "xlsx"),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _owning_connection(chunks: Iterator[str]) -> Iterator[str]:
    """A streamed body runs after the view's teardown closed the request's session. It reads through the
    session of the context stream_with_context pushes again, and gives that connection back when the body
    is done, fails, or is closed early (the client went away). Reading through the view's closed session
    instead would silently reopen it and keep its connection forever."""
    try:
        yield from chunks
    finally:
        db.session.remove()


def _csv_stream(headers, data: Iterable[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield codecs.BOM_UTF8.decode("utf-8")  # so Excel opens UTF-8 Chinese text correctly
    writer.writerow([neutralise(h) for h in headers])  # a custom field's label is user text too
    for count, row in enumerate(data, 1):
        writer.writerow([_csv_value(v) for v in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(headers, data: Iterable[tuple], sheet_name: str = "Sheet1"):
    """Write rows to a temporary .xlsx in constant memory; returns the open file, positioned at 0."""
    import xlsxwriter

    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for col, header in enumerate(headers):
        sheet.write_string(0, col, neutralise(header), bold)
    for row_number, row in enumerate(data, 1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(row_number, col, value)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(row_number, col, value, datetime_format)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row_number, col, value, date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(row_number, col, value)
            else:
                sheet.write_string(row_number, col, str(value))
    workbook.close()
    handle.seek(0)
    return handle
