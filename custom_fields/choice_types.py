"""单选 and 多选: values hold option ids, so renaming, reordering and retiring options never touch them."""
from __future__ import annotations

import re

from flask_appbuilder.fieldwidgets import Select2ManyWidget, Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields as ma
from wtforms import SelectField, SelectMultipleField

from custom_fields.fieldtype import FieldType, FieldValueError, is_empty
from custom_fields.models import TEXT_LENGTH

_SEPARATORS = re.compile(r"[,，、;；\n]+")


class SelectType(FieldType):
    """单选: the option's id in `option_id`. A form or file may name the option by id or by label."""

    key, label, column, has_options, sortable = "select", _l("Single choice"), "option_id", True, False

    def parse(self, definition, raw):
        return _option(definition, raw).id

    def display(self, definition, value):
        option = definition.option(value)
        return option.label if option is not None else ""

    def schema_field(self, definition):
        return ma.Integer(allow_none=True)

    def to_json(self, definition, value):
        return value

    def form_field(self, definition, label, description, current=None):
        return SelectField(label, description=description, widget=Select2Widget(), validate_choice=False,
                           choices=[("", _l("Please choose"))] + choices_for(definition, current))


class MultiSelectType(FieldType):
    """多选: the chosen option ids, in one value row (so UNIQUE(record, field) still holds), kept in
    `value_text` as ",3,7,". "Has option 7" is `value_text LIKE '%,7,%'`: a scan of that field's entries
    in the (field_id, value_text, record_id) index, never of the records or of other fields' values."""

    key, label, has_options, sortable, filter_ops = "multiselect", _l("Multiple choice"), True, False, ("has",)

    def parse(self, definition, raw):
        if isinstance(raw, str):
            items = [item for item in _SEPARATORS.split(raw) if item.strip()]
        elif isinstance(raw, (list, tuple, set)):
            items = list(raw)
        else:
            items = [raw]
        ids = {_option(definition, item).id for item in items if not is_empty(item)}
        return tuple(sorted(ids))

    def check(self, definition, value):
        if value and len(self.stored(value)) > TEXT_LENGTH:
            raise FieldValueError(_l("Too many options chosen."))

    def stored(self, value):
        return "," + ",".join(str(i) for i in value) + "," if value else None

    def read(self, stored):
        return tuple(int(i) for i in stored.strip(",").split(",") if i) if stored else None

    def display(self, definition, value):
        if not value:
            return ""
        chosen = [o for o in definition.options if o.id in value]
        return "、".join(o.label for o in chosen)

    def form_data(self, definition, value):
        return [str(i) for i in value or ()]

    def schema_field(self, definition):
        return ma.List(ma.Integer(), allow_none=True)

    def to_json(self, definition, value):
        return list(value) if value else None

    def form_field(self, definition, label, description, current=None):
        return SelectMultipleField(label, description=description, widget=Select2ManyWidget(),
                                   validate_choice=False, choices=choices_for(definition, current))


def _option(definition, raw):
    if isinstance(raw, bool):
        raise FieldValueError(_l("This option does not exist."))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    option = None
    if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
        option = definition.option(int(raw))
    if option is None and isinstance(raw, (str, int)):
        option = definition.option_by_label(str(raw).strip())
    if option is None:
        raise FieldValueError(_l("This option does not exist."))
    return option


def choices_for(definition, current) -> list[tuple[str, str]]:
    """Active options, plus a retired one the record already holds (so saving the form keeps it)."""
    held = set(current if isinstance(current, (list, tuple)) else ([current] if current is not None else []))
    return [(str(o.id), o.label + (" " + _("(retired)") if o.retired else "")) for o in definition.options
            if not o.retired or o.id in held]
