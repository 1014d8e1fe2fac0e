"""The uploaded file: kept under the instance directory, checked before a job exists, read in the job.

Checks, each refused with a message in the user's language and nothing written: an empty file, one past
the size limit, an old .xls, a file whose content is not what its name says, an .xlsx whose parts expand
past a limit (a zip bomb), more data rows than allowed, a header that differs from the template.
The header and the row count of an .xlsx come from streaming its XML (cheap); the job reads every cell
with calamine, which hands over cached formula results and never evaluates a formula.
"""
from __future__ import annotations

import codecs
import csv
import os
import re
import uuid
import zipfile
from pathlib import Path
from typing import Iterator
from xml.etree import ElementTree

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import CrmError

XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ROW = re.compile(rb"<(?:\w+:)?row[\s>]")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]+\d+:[A-Z]+(\d+)\"")
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _setting(name: str, default):
    return current_app.config.get(name, default)


def upload_dir() -> Path:
    from config import INSTANCE_DIR

    path = Path(_setting("IMPORT_DIR", None) or INSTANCE_DIR / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(storage) -> tuple[Path, str, str]:
    """The upload on disk -> (path, original file name, format 'xlsx'|'csv'); refuses a bad file."""
    if storage is None or not getattr(storage, "filename", None):
        raise CrmError(_l("Please choose a file to import."), field="file")
    name = os.path.basename(storage.filename.replace("\\", "/"))[:255]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    limit = int(_setting("IMPORT_MAX_BYTES", 50 * 1024 * 1024))
    path = upload_dir() / f"{uuid.uuid4().hex}.upload"
    size = 0
    try:
        with open(path, "wb") as out:
            while True:
                chunk = storage.stream.read(1024 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise CrmError(_l("The file is larger than %(size)s, the most an import takes.",
                                      size=_human(limit)), field="file")
                out.write(chunk)
        if size == 0:
            raise CrmError(_l("The file is empty."), field="file")
        with open(path, "rb") as handle:
            head = handle.read(8)
        fmt = _format(head, ext)
        final = path.with_suffix("." + fmt)
        path.rename(final)
        return final, name, fmt
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(size // 1024, 1)} KB"


def _format(head: bytes, ext: str) -> str:
    if head.startswith(XLS_MAGIC) or ext == "xls":
        raise CrmError(_l("The old .xls format is not supported: please save the file as .xlsx in Excel "
                          "(另存为 → Excel 工作簿) and import it again."), field="file")
    if ext == "xlsx":
        if not head.startswith(ZIP_MAGIC):
            raise CrmError(_l("This file is not a real Excel (.xlsx) workbook; was it renamed?"), field="file")
        return "xlsx"
    if ext == "csv":
        if head.startswith(ZIP_MAGIC) or b"\x00" in head:
            raise CrmError(_l("This file is not a real CSV text file; was it renamed?"), field="file")
        return "csv"
    raise CrmError(_l("Only .xlsx and .csv files can be imported."), field="file")


# ---------------------------------------------------------------- .xlsx

def _first_sheet(archive: zipfile.ZipFile) -> str:
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        sheet = workbook.find(f"{_NS}sheets/{_NS}sheet")
        rel_id = sheet.get(f"{_REL_NS}id")
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        for rel in rels:
            if rel.get("Id") == rel_id:
                target = rel.get("Target").lstrip("/")
                return target if target.startswith("xl/") else "xl/" + target
    except (KeyError, AttributeError, ElementTree.ParseError):
        pass
    raise CrmError(_l("This file is not a real Excel (.xlsx) workbook; was it renamed?"), field="file")


def _check_zip(archive: zipfile.ZipFile) -> None:
    limit = int(_setting("IMPORT_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024))
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > limit or (info.file_size > 1024 * 1024 and ratio > 300):
            raise CrmError(_l("The workbook expands to more data than an import takes; it is refused."),
                           field="file")


def _xlsx_probe(path: Path) -> tuple[list, int]:
    """(header cells, data rows) by streaming the first sheet's XML."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise CrmError(_l("This file is not a real Excel (.xlsx) workbook; was it renamed?"), field="file")
    with archive:
        _check_zip(archive)
        sheet = _first_sheet(archive)
        header = _xlsx_header(archive, sheet)
        rows = 0
        limit = int(_setting("IMPORT_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024))
        read = 0
        tail = b""
        with archive.open(sheet) as handle:
            while True:
                chunk = handle.read(1024 * 1024)
                if not chunk:
                    break
                read += len(chunk)
                if read > limit:
                    raise CrmError(_l("The workbook expands to more data than an import takes; it is refused."),
                                   field="file")
                data = tail + chunk
                rows += len(_ROW.findall(data))
                tail = data[-16:]
                rows -= len(_ROW.findall(tail))  # counted again with the next chunk
        rows += len(_ROW.findall(tail))
    return header, max(rows - 1, 0)


def _xlsx_header(archive: zipfile.ZipFile, sheet: str) -> list:
    cells: dict[int, tuple[str, str]] = {}
    with archive.open(sheet) as handle:
        for event, element in ElementTree.iterparse(handle, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "c":
                ref = element.get("r") or ""
                col = _col_index(ref) if ref else len(cells)
                kind = element.get("t")
                value = element.find(f"{_NS}v")
                inline = element.find(f"{_NS}is")
                if kind == "inlineStr" and inline is not None:
                    text = "".join(t.text or "" for t in inline.iter(f"{_NS}t"))
                    cells[col] = ("str", text)
                elif value is not None:
                    cells[col] = ("s" if kind == "s" else "str", value.text or "")
            elif tag == "row":
                if cells:
                    break
            elif tag == "sheetData":
                break
    if not cells:
        return []
    needed = {int(v) for k, v in cells.values() if k == "s"}
    strings = _shared_strings(archive, max(needed) if needed else -1)
    width = max(cells) + 1
    header = []
    for i in range(width):
        kind, value = cells.get(i, ("str", ""))
        header.append(strings.get(int(value), "") if kind == "s" else value)
    return header


def _shared_strings(archive: zipfile.ZipFile, upto: int) -> dict[int, str]:
    result: dict[int, str] = {}
    if upto < 0 or "xl/sharedStrings.xml" not in archive.namelist():
        return result
    index = 0
    with archive.open("xl/sharedStrings.xml") as handle:
        for event, element in ElementTree.iterparse(handle, events=("end",)):
            if element.tag == f"{_NS}si":
                result[index] = "".join(t.text or "" for t in element.iter(f"{_NS}t"))
                index += 1
                element.clear()
                if index > upto:
                    break
    return result


def _col_index(ref: str) -> int:
    letters = "".join(ch for ch in ref if ch.isalpha())
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch.upper()) - 64
    return number - 1


def read_xlsx(path: Path) -> Iterator[list]:
    """Every row of the first sheet (header included) as Python values: str, int/float, bool, date(time)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        sheet = workbook.get_sheet_by_index(0)
        yield from sheet.iter_rows()
    finally:
        workbook.close()


# ---------------------------------------------------------------- .csv

def _encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GBK/GB18030 as Chinese Excel saves a CSV."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise CrmError(_l("The CSV file is neither UTF-8 nor GBK text; please save it as CSV UTF-8."), field="file")


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file is text in `encoding`, read a megabyte at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def read_csv(path: Path) -> Iterator[list]:
    encoding = _encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        for row in csv.reader(handle):
            yield row


def read_xlsx_streaming(path: Path) -> Iterator[list]:
    """The same rows through openpyxl's read-only mode: slower than calamine (which holds the whole sheet,
    about 150 MB per 100,000 rows) but in flat memory, for the files past IMPORT_STREAM_XLSX_ROWS.
    data_only: a formula cell gives its cached result, never evaluated."""
    from openpyxl import load_workbook

    workbook = load_workbook(str(path), read_only=True, data_only=True)
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_rows(path: Path, fmt: str, rows: int = 0) -> Iterator[list]:
    if fmt != "xlsx":
        return read_csv(path)
    if rows > int(_setting("IMPORT_STREAM_XLSX_ROWS", 200_000)):
        return read_xlsx_streaming(path)
    return read_xlsx(path)


def _blank(row) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row)


# ---------------------------------------------------------------- the probe before the job

def probe(path: Path, fmt: str) -> tuple[list[str], int]:
    """(header as text, number of data rows); refuses an empty file or one past the row limit."""
    if fmt == "xlsx":
        header, rows = _xlsx_probe(path)
    else:
        header, rows = [], 0
        try:
            iterator = read_csv(path)
            header = next(iterator, [])
            for row in iterator:
                if not _blank(row):
                    rows += 1
        except csv.Error:
            raise CrmError(_l("This file is not a real CSV text file; was it renamed?"), field="file")
    header = [str(h).strip() if h is not None else "" for h in header]
    while header and not header[-1]:
        header.pop()
    if not header or rows == 0:
        raise CrmError(_l("The file has no data rows under its header."), field="file")
    limit = int(_setting("IMPORT_MAX_ROWS", 1_000_000))
    if rows > limit:
        raise CrmError(_l("The file has %(rows)d rows; an import takes at most %(n)d.", rows=rows, n=limit),
                       field="file")
    return header, rows


def header_text(cell) -> str:
    return "" if cell is None else str(cell).strip()


def is_blank(row) -> bool:
    return _blank(row)


__all__ = ["save_upload", "probe", "read_rows", "header_text", "is_blank", "upload_dir"]
