"""Every value checked against its column before it is written, so SQLite and PostgreSQL answer alike.

SQLite stores a million characters in a VARCHAR(128) and an amount of 1e20 in NUMERIC(14, 2); PostgreSQL
refuses both with an error the user never sees (a 500). The limits are read from the model's column types
(String length, Numeric precision and scale, Integer width, `value_labels` choices), never kept in a hand
list, and a refusal is a CrmError naming the field. Text with NUL bytes or broken Unicode (a lone surrogate
from JSON) is refused here too: PostgreSQL cannot store either.
"""
from __future__ import annotations

import decimal
import re
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String, Text
from sqlalchemy.orm import ColumnProperty

from app.errors import CrmError, NotFound

MAX_ID = 2 ** 31 - 1  # ids are INTEGER columns (int4 on PostgreSQL)
TEXT_LIMIT = 10_000  # a Text column has no length of its own; a note longer than this is not a note
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_INT_LIMITS = ((BigInteger, 2 ** 63 - 1), (SmallInteger, 2 ** 15 - 1), (Integer, 2 ** 31 - 1))


def bad_text(text: str) -> bool:
    """NUL bytes or a lone UTF-16 surrogate (valid in JSON's \\ud800 escape, not storable anywhere)."""
    return _UNSTORABLE.search(text) is not None


def check_text(value: str, field: Optional[str] = None, label=None) -> str:
    if bad_text(value):
        raise CrmError(_l("%(field)s contains characters that cannot be stored (NUL bytes or broken Unicode).",
                          field=label or field or ""), field=field)
    return value


def parse_id(value, field: Optional[str] = None, label=None, malformed_status: int = 404) -> int:
    """A record id from a URL, a form or a JSON body: a whole number an INTEGER column can hold, else
    NotFound (such a record cannot exist); `malformed_status` for what is not a whole number at all."""
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 < number <= MAX_ID:
        message = (_l("%(field)s: this record does not exist.", field=label) if label
                   else _l("This record does not exist."))
        raise NotFound(message, field=field, status=malformed_status if number is None else 404)
    return number


def is_id(value) -> bool:
    try:
        parse_id(value)
    except CrmError:
        return False
    return True


def length_limit(column) -> Optional[int]:
    """The most characters a String/Text column takes (a Text column: TEXT_LIMIT)."""
    length = getattr(column.type, "length", None)
    if isinstance(column.type, String) and length:
        return length
    if isinstance(column.type, (String, Text)):
        return TEXT_LIMIT
    return None


def integer_limit(column) -> Optional[int]:
    return next((limit for kind, limit in _INT_LIMITS if isinstance(column.type, kind)), None)


def check_column(model, column, value: Any, label=None) -> Any:
    """`value` as `column` of `model` can store it, or a CrmError naming the field: text without NUL or
    broken Unicode and within the column's length, a choice among the column's `value_labels`, an integer
    within the column's width, a decimal rounded half-up to the column's scale and within its precision."""
    name = column.key
    label = label if label is not None else getattr(model, "field_labels", {}).get(name, name)
    if value is None:
        return None
    choices = getattr(model, "value_labels", {}).get(name)
    if isinstance(value, str):
        check_text(value, name, label)
        limit = length_limit(column)
        if limit is not None and len(value) > limit:
            raise CrmError(_l("%(field)s: at most %(n)d characters.", field=label, n=limit), field=name)
    if choices is not None and value not in choices:
        raise CrmError(_l("%(field)s: choose one of the offered values.", field=label), field=name)
    if isinstance(column.type, Numeric) and not isinstance(value, bool):
        return check_decimal(value, column.type.precision, column.type.scale, name, label)
    limit = integer_limit(column)
    if limit is not None and isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit:
        raise CrmError(_l("%(field)s: this number is too large.", field=label), field=name)
    return value


def check_decimal(value, precision: Optional[int], scale: Optional[int], field=None, label=None) -> decimal.Decimal:
    """1.005 -> 1.01 (half-up, as a person rounds money) on both databases; 1e20 in NUMERIC(14, 2) refused."""
    label = label or field or ""
    try:
        number = decimal.Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise CrmError(_l("%(field)s: please enter a number.", field=label), field=field)
    if not number.is_finite():
        raise CrmError(_l("%(field)s: please enter a number.", field=label), field=field)
    if scale is not None:
        try:
            number = number.quantize(decimal.Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP)
        except decimal.InvalidOperation:  # more digits than the context holds: far too large anyway
            raise CrmError(_l("%(field)s: this number is too large.", field=label), field=field)
    if precision is not None and abs(number) >= decimal.Decimal(10) ** (precision - (scale or 0)):
        raise CrmError(_l("%(field)s: this number is too large.", field=label), field=field)
    return number


def column_of(model, name: str):
    """The mapped Column behind attribute `name`, or None (a relationship, a method)."""
    from sqlalchemy import inspect

    prop = inspect(model).attrs.get(name)
    if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
        return prop.columns[0]
    return None


# FAB's form fields say these in English and FAB's Chinese catalog lacks them; the form template passes
# every error through gettext, so listing them here puts them in our catalog (tools/i18n.py extracts them)
FAB_FORM_MESSAGES = (_l("Not a valid choice"),)


def check_attr(model, name: str, value: Any, label=None) -> Any:
    """check_column for attribute `name` of `model` (services that set columns one by one)."""
    column = column_of(model, name)
    return value if column is None else check_column(model, column, value, label)
