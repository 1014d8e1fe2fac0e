"""The cells of an export, converted a column at a time.

An export is built in chunks of rows (app/exporting.py). Each column gets one function, chosen once per export
from the column's SQL type (or its custom field's type), that turns the chunk's whole column into cells:
text neutralised (a cell a spreadsheet would run as a formula becomes text), yes/no as the words translated
once, option ids as their labels, decimals as numbers, masked columns masked. A column whose values are
already cells (whole numbers, dates in a workbook) has no function at all.

A column function takes the chunk's values of that column (a tuple, None where empty) and returns a list of
the same length; None stays None. The values are what the database driver returns (the export reads its
chunks without SQLAlchemy's per-row result processing): on SQLite a date or a time comes as ISO text and
a yes/no as 1/0, on PostgreSQL as Python objects; the functions take either.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any, Callable, Optional, Sequence

from sqlalchemy import types as sqltypes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ColumnFunction = Optional[Callable[[Sequence], list]]


def neutral(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


_FORMULA_AFTER_SEPARATOR = re.compile("\x00[=+\\-@\t\r]")


def texts(column: Sequence) -> list | Sequence:
    """Text cells, formula-looking ones neutralised. Most columns have none: that is checked on the column
    joined into one string (NUL cannot be stored, so it separates the cells) before any cell is looked at."""
    try:
        joined = "\x00" + "\x00".join(filter(None, column))
    except TypeError:  # not all text (SQLite keeps what it was given): each cell by its own type
        return [plain(v, ("", "")) for v in column]
    if not _FORMULA_AFTER_SEPARATOR.search(joined):
        return column
    return [("'" + v if v.startswith(FORMULA_START) else v) if v is not None else None for v in column]


def numbers(column: Sequence) -> list:
    """Decimals (Numeric columns) as numbers."""
    return [None if v is None else float(v) for v in column]


def csv_datetimes(column: Sequence) -> list:
    """A CSV time as the screen shows it, to the second (str() of a datetime may carry microseconds;
    SQLite's text has them too)."""
    return [None if v is None else v[:19] if v.__class__ is str else v.isoformat(" ", "seconds") for v in column]


def xlsx_datetimes(column: Sequence) -> list:
    """A workbook's time cell needs a datetime (SQLite gives ISO text)."""
    parse = dt.datetime.fromisoformat
    return [parse(v) if v.__class__ is str else v for v in column]


def xlsx_dates(column: Sequence) -> list:
    parse = dt.date.fromisoformat
    return [parse(v[:10]) if v.__class__ is str else v for v in column]


class _Table(dict):
    """A lookup table whose misses give its default, so a column is looked up by `map` in C."""

    def __init__(self, items, default):
        super().__init__(items)
        self.default = default

    def __missing__(self, key):
        return self.default


def mapping(table: dict, default: Any = None) -> Callable[[Sequence], list]:
    """Values looked up in `table` (built once per export); None stays None, an unknown value -> default."""
    lookup = _Table({**table, None: None}, default).__getitem__
    return lambda column: list(map(lookup, column))


def yes_no_words(yes_no: tuple[str, str]) -> Callable[[Sequence], list]:
    """True/False (or 1/0) -> the words, translated once per export."""
    return mapping({True: neutral(yes_no[0]), False: neutral(yes_no[1])})


def generic(yes_no: tuple[str, str]) -> Callable[[Sequence], list]:
    """A column of no known type: each cell by its own type."""
    def column(values):
        return [plain(v, yes_no) for v in values]
    column.generic = True
    return column


def per_cell(function: Callable[[Any], Any], yes_no: tuple[str, str]) -> Callable[[Sequence], list]:
    """A column with a formatter of its own (a masked column, a record number): the formatter, then the cell."""
    return lambda column: [None if v is None else plain(function(v), yes_no) for v in column]


def then(first: Callable[[Sequence], list], second: Callable[[Sequence], list]) -> Callable[[Sequence], list]:
    return lambda column: second(first(column))


def plain(value, yes_no):
    """One cell of any type: text neutralised, yes/no as words, decimals as numbers."""
    kind = value.__class__
    if kind is str:
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return yes_no[0] if value else yes_no[1]
    if kind is decimal.Decimal:
        return float(value)
    return value


def for_type(sql_type, yes_no: tuple[str, str], fmt: str) -> ColumnFunction:
    """The column function of a built-in column, from its SQL type; None: the values are cells already."""
    if isinstance(sql_type, sqltypes.Boolean):
        return yes_no_words(yes_no)
    if isinstance(sql_type, (sqltypes.String, sqltypes.Enum)):
        return texts
    if isinstance(sql_type, sqltypes.Integer):
        return None
    if isinstance(sql_type, sqltypes.Float):
        return None
    if isinstance(sql_type, sqltypes.Numeric):
        return numbers
    if isinstance(sql_type, sqltypes.DateTime):
        return csv_datetimes if fmt == "csv" else xlsx_datetimes
    if isinstance(sql_type, sqltypes.Date):
        return None if fmt == "csv" else xlsx_dates
    return generic(yes_no)


RAW_TYPES = (sqltypes.String, sqltypes.Integer, sqltypes.Numeric, sqltypes.Boolean, sqltypes.Date,
             sqltypes.DateTime)


def raw_ok(sql_types) -> bool:
    """Whether columns of these types may be read as the driver returns them (see the module's doc): the
    plain types above, whose driver values the column functions take. Any other type goes through
    SQLAlchemy's result processing."""
    return all(isinstance(t, RAW_TYPES) and not isinstance(t, sqltypes.Enum) for t in sql_types)


def builtin(expression, formatter, yes_no: tuple[str, str], fmt: str) -> ColumnFunction:
    """The column function of a built-in column: its formatter (a label table, a mask, a record number)
    if it has one, else its SQL type's."""
    if callable(formatter):
        column = per_cell(formatter, yes_no)
    elif formatter is not None:
        labels = {key: neutral(str(label)) for key, label in formatter.items()}
        column = lambda values: [None if v is None else labels[v] if v in labels else neutral(str(v))  # noqa: E731
                                 for v in values]
    else:
        sql_type = getattr(expression, "type", None)
        column = for_type(sql_type, yes_no, fmt)
        if not getattr(column, "generic", False):  # a generic column's cells may be times: wrapped below
            return column
    return then(column, _csv_times) if fmt == "csv" else column


def _csv_times(column: list) -> list:
    return [v.isoformat(" ", "seconds") if v.__class__ is dt.datetime else v for v in column]


def convert(columns: list, functions: Sequence[ColumnFunction]) -> list[tuple]:
    """A chunk's columns -> its rows of cells, one column function at a time."""
    for index, function in enumerate(functions):
        if function is not None:
            columns[index] = function(columns[index])
    return list(zip(*columns))
