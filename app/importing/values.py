"""One cell -> one typed value for a template column, the same way for .xlsx and .csv cells: numbers typed
as text or stored as floats, dates as text or Excel serial numbers, option labels after trimming."""
from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

from flask_babel import lazy_gettext as _l

from app.errors import CrmError
from app.phone import normalise_mobile
from custom_fields.fieldtype import FieldValueError, is_empty
from custom_fields.values import _check_retired

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SERIAL = re.compile(r"[1-9][0-9]{0,5}(\.[0-9]+)?")
_TRUE = {"是", "yes", "y", "true", "1", "t", "√", "on"}
_FALSE = {"否", "no", "n", "false", "0", "f", "×", "off"}


class CellError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != dt.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return " ".join(str(value).split())


def excel_serial(value):
    """An Excel date serial (a number in a cell without a date format) -> datetime; else the value."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=float(value))
    if isinstance(value, str) and _SERIAL.fullmatch(value.strip()):
        return EXCEL_EPOCH + dt.timedelta(days=float(value.strip()))
    return value


_MOBILE_PREFIXES: dict[str, bool] = {}
_ELEVEN = re.compile(r"1[0-9]{10}")


def mobile(value, label) -> str:
    """app.phone.normalise_mobile, with its libphonenumber verdict remembered per 7-digit prefix: in mainland
    China the prefix (number segment) decides whether an 11-digit number is a valid mobile."""
    if value.__class__ is str and _ELEVEN.fullmatch(value):
        verdict = _MOBILE_PREFIXES.get(value[:7])
        if verdict is True:
            return value
    try:
        digits = normalise_mobile(value)
    except CrmError:
        raise CellError(_l("%(field)s format is incorrect", field=label))
    _MOBILE_PREFIXES[digits[:7]] = True
    return digits


def convert(column, value, max_length=None) -> Any:
    """A non-empty cell -> the value to store; CellError with the reason."""
    kind = column.kind
    if kind == "mobile":
        return mobile(value, column.bare)
    if kind == "text":
        result = text(value)
        if max_length and len(result) > max_length:
            raise CellError(_l("%(field)s: at most %(n)d characters", field=column.bare, n=max_length))
        return result
    label = column.bare
    if kind == "choice":
        name = text(value)
        found = column.choices.get(name)
        if found is None:
            raise CellError(_l("%(field)s does not exist: %(value)s", field=label, value=name))
        return found
    if kind == "bool":
        word = text(value).lower()
        if isinstance(value, bool):
            return value
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise CellError(_l("%(field)s must be 是 or 否", field=label))
    if kind == "decimal":
        try:
            number = decimal.Decimal(text(value).replace(",", "").replace("，", "").lstrip("¥￥"))
        except decimal.InvalidOperation:
            raise CellError(_l("%(field)s must be a number", field=label))
        if not number.is_finite() or abs(number) >= 10 ** 12:
            raise CellError(_l("%(field)s must be a number", field=label))
        return number.quantize(decimal.Decimal("0.01"))
    if kind == "custom":
        definition = column.definition
        field_type = definition.field_type
        raw = value
        if definition.type in ("date", "datetime"):
            raw = excel_serial(value)
        elif isinstance(value, (dt.date, dt.datetime)):
            raw = text(value)
        try:
            result = field_type.coerce(definition, raw)
            _check_retired(definition, result, None)
        except FieldValueError as error:
            raise CellError(_l("%(field)s: %(error)s", field=label, error=error.message))
        return result
    # text (and the customer reference, resolved later)
    result = text(value)
    if max_length and len(result) > max_length:
        raise CellError(_l("%(field)s: at most %(n)d characters", field=label, n=max_length))
    return result


def empty(value) -> bool:
    return is_empty(value)
