"""The workbooks of an import, written with XlsxWriter: the template (frozen header, drop-downs for 单选/是否
columns, date cells, a 填写说明 sheet) and the error workbook (the template's header after a first column
错误原因(导入时需删除本列); once fixed it imports as it is)."""
from __future__ import annotations

import datetime as dt
import decimal
import io
import uuid
from pathlib import Path
from typing import Optional

import xlsxwriter
from flask_babel import gettext as _

from app.importing.mapping import ERROR_HEADER

DATA_ROWS = 100_000  # rows the drop-downs and formats cover in the template
_DATE_TYPES = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}


def _date_format(column) -> Optional[str]:
    if column.kind == "custom":
        return _DATE_TYPES.get(column.definition.type)
    return None


def template(spec, columns) -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet(_("%(module)s import template", module=spec.label)[:31])
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000"})
    text_format = book.add_format({"num_format": "@"})
    lists = book.add_worksheet("options")
    lists.hide()
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.header, required if column.required else head)
        width = max(12, len(column.header) * 2 + 2)
        fmt = _date_format(column)
        if fmt:
            sheet.set_column(index, index, width, book.add_format({"num_format": fmt}))
            sheet.data_validation(1, index, DATA_ROWS, index, {
                "validate": "date", "criteria": ">", "value": dt.date(1900, 1, 1),
                "error_message": _("Please enter a date like 2024-01-31."), "ignore_blank": True})
        elif column.kind in ("mobile", "text", "customer") or (
                column.kind == "custom" and column.definition.type in ("text", "mobile", "textarea")):
            sheet.set_column(index, index, width, text_format)
        else:
            sheet.set_column(index, index, width)
        multi = column.kind == "custom" and column.definition.type == "multiselect"
        if column.options and not multi:
            for n, option in enumerate(column.options):
                lists.write_string(n, index, option)
            letter = xlsxwriter.utility.xl_col_to_name(index)
            sheet.data_validation(1, index, DATA_ROWS, index, {
                "validate": "list", "source": f"=options!${letter}$1:${letter}${len(column.options)}",
                "error_message": _("Please choose one of the options."), "ignore_blank": True})
    sheet.freeze_panes(1, 0)
    _instructions(book, spec, columns)
    book.close()
    return output.getvalue()


def _instructions(book, spec, columns) -> None:
    sheet = book.add_worksheet(_("Instructions"))
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    rules = [
        _("Fill in the first sheet from its second row on; do not change, add or move header cells "
          "(or map your own columns in the import dialog)."),
        _("Columns marked * are required."),
        _("Duplicates are found by %(key)s (also against records already in the system, the public pool "
          "included); within the file the first row wins.", key=next(c.bare for c in columns
                                                                        if c.name == spec.importer.key)),
        _("Duplicate handling: Skip keeps the existing record; Overwrite replaces its values with the non-empty "
          "cells of the row (only records in your data scope that you may edit)."),
        _("Mobile numbers: 11 digits; spaces, dashes and +86 are removed."),
        _("Dates: 2024-01-31, 2024/1/31 or a date cell."),
        _("Options must be one of the listed values; formulas are read as their shown value."),
        _("Rows that are skipped or fail are listed in the error workbook with the reason in its first column; "
          "fix them and import that workbook as it is."),
    ]
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 16)
    sheet.set_column(3, 3, 60)
    row = 0
    for rule in rules:
        sheet.write_string(row, 0, f"{row + 1}. {rule}")
        row += 1
    row += 1
    for index, title in enumerate((_("Column"), _("Required"), _("Type"), _("Notes and options"))):
        sheet.write_string(row, index, title, bold)
    for column in columns:
        row += 1
        kind = str(column.definition.field_type.label) if column.kind == "custom" else {
            "mobile": _("Mobile"), "choice": _("Single choice"), "bool": _("Yes/No"), "decimal": _("Number"),
            "customer": _("Customer (mobile or company name)"), "text": _("Text")}.get(column.kind, column.kind)
        notes = column.help
        if column.options:
            notes = (notes + "；" if notes else "") + "、".join(column.options)
        sheet.write_string(row, 0, column.header)
        sheet.write_string(row, 1, _("Yes") if column.required else _("No"))
        sheet.write_string(row, 2, kind)
        sheet.write_string(row, 3, notes or "", wrap)


class ErrorWorkbook:
    """Skipped and failed rows, written as they come (constant memory), saved under the upload directory."""

    def __init__(self, job, columns):
        from app.importing.files import upload_dir

        self.path = upload_dir() / f"errors-{job.id}-{uuid.uuid4().hex[:8]}.xlsx"
        self.book = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
        self.sheet = self.book.add_worksheet(_("Errors"))
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        head = self.book.add_format({"bold": True})
        self.sheet.write_string(0, 0, ERROR_HEADER, head)
        for index, column in enumerate(columns):
            self.sheet.write_string(0, index + 1, column.header, head)
        self.sheet.set_column(0, 0, 30)
        self.sheet.freeze_panes(1, 0)
        self.row = 0
        self.saved_path: Optional[str] = None

    def add(self, items) -> None:
        for row, reason in items:
            self.row += 1
            self.sheet.write_string(self.row, 0, str(reason))
            for index, value in enumerate(row.cells):
                self._cell(self.row, index + 1, value)

    def _cell(self, r, c, value) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            self.sheet.write_string(r, c, _("Yes") if value else _("No"))
        elif isinstance(value, (int, float, decimal.Decimal)):
            self.sheet.write_number(r, c, float(value))
        elif isinstance(value, dt.datetime):
            self.sheet.write_datetime(r, c, value, self.datetime)
        elif isinstance(value, dt.date):
            self.sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), self.date)
        elif isinstance(value, dt.time):
            self.sheet.write_string(r, c, value.isoformat())
        else:
            self.sheet.write_string(r, c, str(value))  # never a formula: "=..." stays text

    def close(self) -> None:
        self.book.close()
        if self.row:
            self.saved_path = str(self.path)
        else:
            Path(self.path).unlink(missing_ok=True)
