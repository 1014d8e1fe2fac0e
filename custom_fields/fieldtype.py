"""The base of every field type (custom_fields/types.py lists them): how a raw value becomes a typed one,
is checked, is stored in one value column, and shows on a form, on screen, in the API and in a workbook."""
from __future__ import annotations

import decimal
from typing import Any, Optional

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_babel import lazy_gettext as _l
from marshmallow import fields as ma
from wtforms import StringField

from custom_fields.models import TEXT_LENGTH


class FieldValueError(ValueError):
    """A value the type refuses; `message` is shown to the user (the caller adds the field's label)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_storable(text: str) -> str:
    """NUL bytes and lone surrogates cannot be stored (PostgreSQL refuses them): refused like any bad value."""
    from app.inputs import bad_text

    if bad_text(text):
        raise FieldValueError(_l("Contains characters that cannot be stored (NUL bytes or broken Unicode)."))
    return text


def is_empty(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, (list, tuple)) and not raw)


class FieldType:
    """The base: single-line text kept in `value_text`."""

    key = "text"
    label = _l("Single-line text")
    column = "value_text"
    sortable = True  # an index walk on (field_id, column, record_id)
    filter_ops: tuple[str, ...] = ("eq",)
    can_unique = False
    has_length = False  # the definition's max_length applies
    length_limit = TEXT_LENGTH
    has_range = False
    has_options = False

    # -- raw -> typed

    def parse(self, definition, raw) -> Any:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # a number typed into a spreadsheet cell
        if isinstance(raw, bool) or not isinstance(raw, (str, int, decimal.Decimal)):
            raise FieldValueError(_l("Please enter text."))
        return check_storable(" ".join(str(raw).split()))

    def check(self, definition, value) -> None:
        limit = min(definition.max_length or self.length_limit, self.length_limit)
        if isinstance(value, str) and len(value) > limit:
            raise FieldValueError(_l("At most %(n)d characters.", n=limit))
        if self.has_range and value is not None:
            if definition.min_value is not None and value < definition.min_value:
                raise FieldValueError(_l("Must be at least %(n)s.", n=plain(definition.min_value)))
            if definition.max_value is not None and value > definition.max_value:
                raise FieldValueError(_l("Must be at most %(n)s.", n=plain(definition.max_value)))

    def coerce(self, definition, raw) -> Any:
        """None for an empty value; raises FieldValueError for one the type refuses."""
        if is_empty(raw):
            return None
        value = self.parse(definition, raw)
        self.check(definition, value)
        return value

    # -- typed -> stored and back

    def stored(self, value) -> Any:
        return value

    def columns(self, value) -> dict:
        """The value row's columns for `value` (only the type's own column is set)."""
        row = {"value_text": None, "value_long": None, "value_number": None, "value_date": None,
               "value_datetime": None, "value_bool": None, "option_id": None, "unique_value": None}
        row[self.column] = self.stored(value)
        return row

    def unique_value(self, value) -> Optional[str]:
        return str(value) if self.can_unique and value is not None else None

    def read(self, stored) -> Any:
        return stored

    # -- typed -> shown

    def display(self, definition, value) -> str:
        return "" if value is None else str(value)

    def cell(self, definition, value) -> Any:
        """The value as an Excel/CSV cell."""
        return self.display(definition, value) if value is not None else None

    def form_data(self, definition, value) -> Any:
        return "" if value is None else str(value)

    def schema_field(self, definition) -> ma.Field:
        return ma.String(allow_none=True)

    def to_json(self, definition, value) -> Any:
        return None if value is None else self.schema_field(definition)._serialize(value, None, None)

    def form_field(self, definition, label, description, current=None):
        return StringField(label, description=description, widget=BS3TextFieldWidget())




def plain(number) -> str:
    """1.50 -> "1.5", 3E+2 -> "300": no exponent, no trailing zeros."""
    return format(decimal.Decimal(number).normalize(), "f")
