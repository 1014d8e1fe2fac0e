"""A small streaming .xlsx writer for exports: the worksheet XML is written chunk by chunk straight into the
zip stream, so memory holds one chunk of rows whatever the export's size.

Cells are built a column at a time: each column of a chunk is looked at once (the set of its cells' types, in
C) and turned into its cells' XML by one list comprehension for that kind — inline text (`t="inlineStr"`),
numbers, dates and times as numbers with a date style; a column of mixed types goes cell by cell. Each row is
then one str.join of its cells. Text is XML-escaped only when the column holds a character that needs it (the
column joined into one string is searched once). XlsxWriter did the same per cell, at about 5 µs a cell.

Text cells keep what the exporter gave them (formula-looking text was neutralised already; an inline string
is never a formula anyway). Characters XML 1.0 cannot hold are dropped, `_xHHHH_` (Excel's escape) is
escaped, and text longer than Excel's 32,767-character cell limit is cut there, as XlsxWriter did.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from itertools import repeat
from typing import IO, Iterable, Sequence
from xml.sax.saxutils import escape as _xml_escape

MAX_TEXT = 32_767  # Excel's limit of a cell's text
_EPOCH = dt.date(1899, 12, 30).toordinal()  # serial 0 in Excel's 1900 date system (from 1900-03-01 on)
_LEAP_BUG = dt.date(1900, 3, 1).toordinal()  # before it, Excel counts a 1900-02-29 that never was
_FIRST = dt.date(1900, 1, 1).toordinal()  # serial 1; earlier dates are no dates to Excel: written as text
_NEEDS_WORK = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
STYLE_BOLD, STYLE_DATE, STYLE_DATETIME = 1, 2, 3

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>')
# cellXfs: 0 default, 1 bold (the header), 2 yyyy-mm-dd, 3 yyyy-mm-dd hh:mm
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_SHEET_START = (
    _HEAD + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData>')
_SHEET_END = ('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
              'footer="0.3"/></worksheet>')


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def clean_text(value: str) -> str:
    """Text as a cell's XML: cut at Excel's limit, characters XML 1.0 cannot hold dropped, escaped (CR too)."""
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT]
    # a raw CR would be read back as LF (XML's line-end normalisation): written as a character reference
    return _xml_escape(_EXCEL_ESCAPE.sub(r"_x005F_\1", _ILLEGAL.sub("", value)), {"\r": "&#13;"})


def _texts(column: Sequence) -> Sequence:
    """A text column's values ready for the XML; the column is searched once, as one string, for anything
    that needs work (most need none), and its longest cell measured once."""
    present = [v for v in column if v]
    if not present:
        return column
    if _NEEDS_WORK.search("\n".join(present)) or max(map(len, present)) > MAX_TEXT:
        return [clean_text(v) if v else v for v in column]
    return column


def _date_serial(value: dt.date):
    """A date's Excel serial number; None for a date Excel cannot show (before 1900). A time is kept to the
    second, as the screen and the CSV show it: a fraction of a second read back differs by reader (openpyxl and
    calamine round the last millisecond differently)."""
    ordinal = value.toordinal()
    if ordinal < _FIRST:
        return None
    days = ordinal - _EPOCH - (ordinal < _LEAP_BUG)
    if value.__class__ is dt.datetime:
        return days + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return days


def _cell(value, ref: str) -> str:
    """One cell of any type (a column of mixed types)."""
    if value is None or value == "":
        return ""
    kind = value.__class__
    if kind is str:
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{clean_text(value)}</t></is></c>'
    if (kind is int and abs(value) < 1e308) or (kind is float and math.isfinite(value)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if kind is dt.datetime or kind is dt.date:
        serial = _date_serial(value)
        if serial is not None:
            style = STYLE_DATETIME if kind is dt.datetime else STYLE_DATE
            return f'<c r="{ref}" s="{style}"><v>{serial!r}</v></c>'
        return _cell(value.isoformat(" ") if kind is dt.datetime else value.isoformat(), ref)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e308:
        return f'<c r="{ref}"><v>{float(value)!r}</v></c>'
    return _cell(str(value), ref)


def _finite(column: Sequence) -> bool:
    try:
        return math.isfinite(sum(filter(None, column)))
    except OverflowError:  # an int too large for a float
        return False


def column_cells(column: Sequence, letter: str, numbers: Sequence[str]) -> list[str]:
    """A chunk's column -> the XML of its cells ('' for an empty one); `numbers` are the rows' numbers as text."""
    kinds = set(map(type, column))
    kinds.discard(type(None))
    if kinds <= {str}:
        column = _texts(column)
        return [f'<c r="{letter}{n}" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>' if v else ""
                for v, n in zip(column, numbers)]
    if kinds <= {int, float} and _finite(column):
        return [f'<c r="{letter}{n}"><v>{v!r}</v></c>' if v is not None else "" for v, n in zip(column, numbers)]
    if len(kinds) == 1 and kinds <= {dt.date, dt.datetime} and min(filter(None, column)).toordinal() >= _LEAP_BUG:
        if dt.date in kinds:
            epoch = _EPOCH
            return [f'<c r="{letter}{n}" s="{STYLE_DATE}"><v>{v.toordinal() - epoch}</v></c>' if v else ""
                    for v, n in zip(column, numbers)]
        serial = _date_serial
        return [f'<c r="{letter}{n}" s="{STYLE_DATETIME}"><v>{serial(v)!r}</v></c>' if v else ""
                for v, n in zip(column, numbers)]
    return [_cell(v, f"{letter}{n}") for v, n in zip(column, numbers)]


class SheetWriter:
    """One worksheet written into an open zip file: `header`, then `rows` chunk by chunk, then `close`."""

    def __init__(self, archive: zipfile.ZipFile, width: int):
        self.stream = archive.open("xl/worksheets/sheet1.xml", "w")
        self.letters = [column_letter(i) for i in range(width)]
        self.row = 0
        self.stream.write(_SHEET_START.encode())

    def header(self, titles: Sequence[str]) -> None:
        self.row += 1
        cells = (f'<c r="{letter}1" t="inlineStr" s="{STYLE_BOLD}"><is><t xml:space="preserve">'
                 f'{clean_text(str(title))}</t></is></c>' for letter, title in zip(self.letters, titles))
        self.stream.write(('<row r="1">' + "".join(cells) + "</row>").encode())

    def rows(self, chunk: Sequence[Sequence], piece: int = 500) -> None:
        """A chunk of rows, `piece` rows at a time (the XML of a piece is what is held in memory)."""
        for start in range(0, len(chunk), piece):
            self._rows(chunk[start:start + piece])

    def _rows(self, chunk: Sequence[Sequence]) -> None:
        if not chunk:
            return
        while len(self.letters) < len(chunk[0]):
            self.letters.append(column_letter(len(self.letters)))
        first = self.row + 1
        self.row += len(chunk)
        numbers = [str(n) for n in range(first, self.row + 1)]
        columns = [column_cells(column, letter, numbers)
                   for column, letter in zip(zip(*chunk), self.letters)]
        starts = [f'<row r="{n}">' for n in numbers]
        self.stream.write("".join(map("".join, zip(starts, *columns, repeat("</row>")))).encode())

    def close(self) -> None:
        self.stream.write(_SHEET_END.encode())
        self.stream.close()


def write(target: IO[bytes], headers: Sequence[str], chunks: Iterable[Sequence[Sequence]],
          sheet_name: str = "Sheet1", compresslevel: int = 1) -> None:
    """An .xlsx of one sheet into the open binary file `target`: a bold, frozen header row, then the chunks of
    rows (cells: str, int, float, date, datetime, None; anything else as its text)."""
    name = clean_text(sheet_name[:31]).replace('"', "&quot;") or "Sheet1"
    workbook = (_HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
                f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        sheet = SheetWriter(archive, len(headers))
        sheet.header(headers)
        for chunk in chunks:
            sheet.rows(chunk)
        sheet.close()
