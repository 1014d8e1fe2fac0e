"""The field types, one entry each: how a raw value (a form string, a JSON value, an Excel cell) becomes a
typed value, how it is checked, which value column keeps it, and how it shows on a form, on screen, in the
API and in a workbook. The form, the REST API and the importer all go through `FieldType.coerce`, so a
value is accepted or refused the same way everywhere.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
from urllib.parse import urlparse

from flask_appbuilder.fieldwidgets import (BS3TextAreaFieldWidget, DatePickerWidget, DateTimePickerWidget,
                                           Select2Widget)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields as ma
from wtforms import SelectField, StringField, TextAreaField

from custom_fields.choice_types import MultiSelectType, SelectType
from custom_fields.fieldtype import FieldType, FieldValueError, check_storable, plain as _plain  # noqa: F401

_TRUE = {"1", "true", "yes", "y", "t", "on", "是", "√"}
_FALSE = {"0", "false", "no", "n", "f", "off", "否", "×"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class TextType(FieldType):
    can_unique = True
    has_length = True


class LongTextType(FieldType):
    key, label, column = "textarea", _l("Multi-line text"), "value_long"
    sortable, filter_ops, has_length, length_limit = False, (), True, 10000

    def parse(self, definition, raw):
        if not isinstance(raw, str):
            return super().parse(definition, raw)
        return check_storable(raw.strip().replace("\r\n", "\n"))

    def form_field(self, definition, label, description, current=None):
        return TextAreaField(label, description=description, widget=BS3TextAreaFieldWidget())


class MobileType(FieldType):
    key, label, can_unique = "mobile", _l("Mobile"), True

    def parse(self, definition, raw):
        from app.errors import CrmError
        from app.phone import normalise_mobile

        try:
            return normalise_mobile(super().parse(definition, raw))
        except CrmError as error:
            raise FieldValueError(error.message)


class EmailType(FieldType):
    key, label, can_unique = "email", _l("Email"), True

    def parse(self, definition, raw):
        value = super().parse(definition, raw).lower()
        if not _EMAIL.match(value):
            raise FieldValueError(_l("Please enter a valid e-mail address."))
        return value


class UrlType(FieldType):
    key, label, can_unique = "url", _l("Web address"), True

    def parse(self, definition, raw):
        value = super().parse(definition, raw).replace(" ", "")
        if "://" not in value:
            value = "http://" + value
        parts = urlparse(value)
        if parts.scheme not in ("http", "https") or "." not in parts.netloc:
            raise FieldValueError(_l("Please enter a valid web address."))
        return value


class IntegerType(FieldType):
    key, label, column = "integer", _l("Whole number"), "value_number"
    filter_ops, can_unique, has_range = ("eq", "gte", "lte"), True, True
    limit = 10 ** 14

    def parse(self, definition, raw):
        number = _number(raw, _l("Please enter a whole number."))
        if number != number.to_integral_value():
            raise FieldValueError(_l("Please enter a whole number."))
        if abs(number) >= self.limit:
            raise FieldValueError(_l("This number is too large."))
        return int(number)

    def stored(self, value):
        return decimal.Decimal(value)

    def read(self, stored):
        return None if stored is None else int(stored)

    def cell(self, definition, value):
        return value

    def schema_field(self, definition):
        return ma.Integer(allow_none=True)

    def to_json(self, definition, value):
        return value


class DecimalType(FieldType):
    key, label, column = "decimal", _l("Decimal number"), "value_number"
    filter_ops, has_range, places = ("eq", "gte", "lte"), True, 6

    def parse(self, definition, raw):
        number = _number(raw, _l("Please enter a number."))
        if -number.as_tuple().exponent > self.places:
            raise FieldValueError(_l("At most %(n)d decimal places.", n=self.places))
        if abs(number) >= 10 ** 14:
            raise FieldValueError(_l("This number is too large."))
        return number

    def read(self, stored):
        return None if stored is None else _trim(stored, self.places)

    def display(self, definition, value):
        return "" if value is None else _plain(value)

    def cell(self, definition, value):
        return None if value is None else float(value)

    def form_data(self, definition, value):
        return "" if value is None else _plain(value)

    def schema_field(self, definition):
        return ma.Decimal(as_string=True, allow_none=True)

    def to_json(self, definition, value):
        return None if value is None else _plain(value)


class MoneyType(DecimalType):
    key, label, places = "money", _l("Amount of money"), 2

    def read(self, stored):
        return None if stored is None else decimal.Decimal(stored).quantize(decimal.Decimal("0.01"))

    def display(self, definition, value):
        return "" if value is None else f"{value:,.2f}"

    def form_data(self, definition, value):
        return "" if value is None else f"{value:.2f}"

    def to_json(self, definition, value):
        return None if value is None else f"{value:.2f}"


class DateType(FieldType):
    key, label, column, filter_ops = "date", _l("Date"), "value_date", ("eq", "gte", "lte")
    formats = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")

    def parse(self, definition, raw):
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = str(raw).strip() if isinstance(raw, str) else None
        for fmt in self.formats if text else ():
            try:
                return dt.datetime.strptime(text.split()[0], fmt).date()  # "2024-01-31 00:00:00" too
            except ValueError:
                continue
        raise FieldValueError(_l("Please enter a date like 2024-01-31."))

    def display(self, definition, value):
        return "" if value is None else value.strftime("%Y-%m-%d")

    def cell(self, definition, value):
        return value

    def form_data(self, definition, value):
        return self.display(definition, value)

    def schema_field(self, definition):
        return ma.Date(allow_none=True)

    def form_field(self, definition, label, description, current=None):
        return StringField(label, description=description, widget=DatePickerWidget())


class DateTimeType(FieldType):
    key, label, column, filter_ops = "datetime", _l("Date and time"), "value_datetime", ("eq", "gte", "lte")
    formats = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
               "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")

    def parse(self, definition, raw):
        if isinstance(raw, dt.datetime):
            return raw.replace(tzinfo=None, microsecond=0)
        if isinstance(raw, dt.date):
            return dt.datetime.combine(raw, dt.time())
        text = raw.strip() if isinstance(raw, str) else ""
        for fmt in self.formats if text else ():
            try:
                return dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise FieldValueError(_l("Please enter a date and time like 2024-01-31 14:30."))

    def display(self, definition, value):
        return "" if value is None else value.strftime("%Y-%m-%d %H:%M")

    def cell(self, definition, value):
        return value

    def form_data(self, definition, value):
        return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")

    def schema_field(self, definition):
        return ma.DateTime(format="%Y-%m-%dT%H:%M:%S", allow_none=True)

    def form_field(self, definition, label, description, current=None):
        return StringField(label, description=description, widget=DateTimePickerWidget())


class BooleanType(FieldType):
    key, label, column = "boolean", _l("Yes / No"), "value_bool"

    def parse(self, definition, raw):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw)
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FieldValueError(_l("Please choose Yes or No."))

    def display(self, definition, value):
        return "" if value is None else (_("Yes") if value else _("No"))

    def form_data(self, definition, value):
        return "" if value is None else ("1" if value else "0")

    def schema_field(self, definition):
        return ma.Boolean(allow_none=True)

    def form_field(self, definition, label, description, current=None):
        return SelectField(label, description=description, widget=Select2Widget(), validate_choice=False,
                           choices=[("", _l("Please choose")), ("1", _l("Yes")), ("0", _l("No"))])


def _number(raw, message) -> decimal.Decimal:
    if isinstance(raw, bool):
        raise FieldValueError(message)
    if isinstance(raw, float):
        raw = repr(raw)
    text = str(raw).strip().replace(",", "").replace("，", "").lstrip("¥￥")
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise FieldValueError(message)
    if not number.is_finite():
        raise FieldValueError(message)
    return number


def _trim(number, places) -> decimal.Decimal:
    number = decimal.Decimal(number).quantize(decimal.Decimal(1).scaleb(-places))
    return number.normalize() if number != number.to_integral_value() else number.quantize(decimal.Decimal(1))




TYPES: dict[str, FieldType] = {t.key: t for t in (
    TextType(), LongTextType(), IntegerType(), DecimalType(), MoneyType(), DateType(), DateTimeType(),
    SelectType(), MultiSelectType(), MobileType(), EmailType(), UrlType(), BooleanType(),
)}
