"""Export of a (filtered) list to .xlsx or .csv, streamed: rows come from the database in batches of
plain tuples, never as 100k ORM objects, and the workbook is written in constant memory.

Not tablib: for 100k rows it builds the whole workbook in memory (625 MB, 41 s on these machines). The
.xlsx is streamed by app/xlsx_stream.py, a chunk of rows at a time, a column at a time.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import tempfile
from typing import Any, Iterable, Iterator, Optional

from flask import Response, current_app, send_file, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import aliased

from app import export_cells
from app.extensions import db
from models.mixins import BinnedMixin

FORMATS = ("xlsx", "csv")
BATCH = 2000
_FORMULA_START = export_cells.FORMULA_START


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


def rows(spec, filters, columns=None, custom=(), access=None, fmt: str = "xlsx",
         chunk_size: Optional[int] = None) -> tuple[list[str], Iterator[list[tuple]]]:
    """Headers and the export's cells, in chunks of rows (lists of tuples). A module with custom fields gets
    them as the last columns; `custom` are custom-field conditions of the list's filter; `access` the
    employee's field permissions (hidden columns left out, masked ones masked).

    The rows are read in keyset chunks (`id > last id of the previous chunk`, in id order, `chunk_size` rows,
    EXPORT_CHUNK_ROWS by default), and each chunk's custom values in one pivot query on the chunk's ids, so
    however large the export only one chunk is in memory. Every column is converted by one function built
    here, once per export (app/export_cells.py)."""
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
    model_id = spec.model.id

    def filtered(query):
        if filters is not None:
            query = filters.apply_all(query)
        if custom:
            query = query.filter(custom_query.matching_ids(spec.model, module, list(custom)))
        if issubclass(spec.model, BinnedMixin):
            # the chunks run on the connection, past the session's hook that hides the recycle bin
            query = query.filter(spec.model.deleted_at.is_(None))
        return query.order_by(model_id)

    query = db.session.query(*expressions, model_id).select_from(spec.model)
    for target, relationship in joins:
        query = query.outerjoin(relationship)
    query = filtered(query)
    id_query = filtered(db.session.query(model_id).select_from(spec.model))  # the chunk's ids, for the values
    size = chunk_size or current_app.config.get("EXPORT_CHUNK_ROWS", BATCH)

    # one function per column, built once: 是/否 translated once per export, not once per cell
    yes_no = (_("Yes"), _("No"))
    functions = [export_cells.builtin(expression, formatter, yes_no, fmt)
                 for expression, formatter in zip(expressions, formatters)]
    functions += [io.column_function(d, yes_no, fmt, mask) for d, mask in zip(defs, custom_masked)]
    load = io.pivot_loader(module, defs) if defs else None
    width = len(expressions)
    raw = export_cells.raw_ok(getattr(e, "type", None) for e in expressions)

    def generate():
        # bound when the rows are read: a streamed export reads them after the view's session is closed
        connection = db.session().connection()
        last = None
        while True:
            after = () if last is None else (model_id > last,)
            chunk = _fetch(connection, query.filter(*after).limit(size).statement, raw)
            if not chunk:
                return
            columns = list(zip(*chunk))
            if load is not None:
                ids = id_query.filter(*after).limit(size).subquery()
                columns = columns[:width] + list(zip(*load(select(ids.c[0]), columns[-1])))
            else:
                columns = columns[:width]
            last = chunk[-1][-1]
            yield export_cells.convert(columns, functions)
            if len(chunk) < size:
                return

    return headers + io.headers(defs), generate()


def _fetch(connection, statement, raw: bool) -> list:
    """A chunk's rows as tuples. `raw`: as the driver returns them, without SQLAlchemy's per-row result
    processing (about a third of an export's time); the column functions take driver values."""
    result = connection.execute(statement)
    try:
        return result.cursor.fetchall() if raw else [tuple(row) for row in result]
    finally:
        result.close()


def _related_labels(spec, columns, expressions, formatters, joins) -> None:
    """A column naming another module's record (a contact's 客户) shows its label as the employee may see it
    in that module: hidden -> the record's number (#12), masked -> masked; a pool customer as 公海 sees it
    (fieldperms.FieldView: the stricter of both settings), chosen per row in SQL."""
    from flask import g, has_request_context
    from sqlalchemy import String, case, cast, literal

    from app import fieldperms

    user = g.get("user") if has_request_context() else None
    mapper = inspect(spec.model)
    targets = iter(joins)
    for index, name in enumerate(columns):
        if name not in mapper.relationships:
            continue
        target, _relationship = next(targets)
        view = fieldperms.label_view(mapper.relationships[name].mapper.class_, user)
        if view is None:
            continue
        access = view.access(view.label_field)
        pool = view.pool_view()
        if access == fieldperms.HIDDEN:
            expressions[index] = target.id
            formatters[index] = lambda value: None if value is None else f"#{value}"
            continue
        if pool is not None and pool.access(view.label_field) == fieldperms.HIDDEN:
            # (a label field is never a mobile number: it cannot be masked for the pool alone)
            number = literal("#", String) + cast(target.id, String)
            expressions[index] = case((view.pooled(target), number), else_=expressions[index])
        if access == fieldperms.MASKED:
            formatters[index] = _masking


def _masking(value):
    from app.fieldperms import mask_value

    return mask_value(value)


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


def _audited(spec, fmt, filters, custom, chunks: Iterable[list], commit: bool) -> Iterator[list]:
    """Yield the chunks of rows and, once all went out, write the export into the audit trail with the
    number of rows."""
    from app import audit

    count = 0
    for chunk in chunks:
        count += len(chunk)
        yield chunk
    audit.record("export", module=spec.module,
                 detail={"rows": count, "format": fmt, "filter": _filter_text(filters, custom)})
    if commit:
        db.session.commit()


def export_response(spec, filters, fmt: str, datamodel=None, custom=(), access=None) -> Response:
    headers, chunks = rows(spec, filters, custom=custom, access=access, fmt=fmt)
    chunks = _audited(spec, fmt, filters, custom, chunks, commit=True)
    if fmt == "csv":
        return Response(stream_with_context(_owning_connection(_csv_stream(headers, chunks))),
                        mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{_filename(spec, "csv")}"'})
    handle = write_xlsx(headers, chunks)
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


def _csv_stream(headers, chunks: Iterable[list]) -> Iterator[str]:
    """The CSV body: a BOM, the header, then one piece of text per chunk of rows (cells converted already:
    csv writes None as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield codecs.BOM_UTF8.decode("utf-8")  # so Excel opens UTF-8 Chinese text correctly
    writer.writerow([neutralise(h) for h in headers])  # a custom field's label is user text too
    for chunk in chunks:
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(headers, chunks: Iterable[list], sheet_name: str = "Sheet1"):
    """Write chunks of rows (cells converted already) to a temporary .xlsx in constant memory; returns the
    open file, positioned at 0. The worksheet is streamed into the zip by app/xlsx_stream.py (XlsxWriter's
    per-cell calls were most of an export's time)."""
    from app import xlsx_stream

    handle = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        xlsx_stream.write(handle, [neutralise(h) for h in headers], chunks, sheet_name)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle
