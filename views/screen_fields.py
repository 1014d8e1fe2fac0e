"""A generated screen's fields, from the ModuleSpec and the model's columns: the add/edit form's replacement
fields (option lists by kind, scoped record and employee pickers, flags and defaults that are not required),
the list's relationship filter pickers, the form's checks from the column types, and how a cell reads on
screen. Also _view_name: the generated view's class name, which names its Flask endpoints (the pickers'
lookup URLs use it, and so does the API's class name).
"""
from __future__ import annotations

from flask import g, url_for
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.fields import QuerySelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime, Integer, Numeric, String, Text, inspect
from wtforms import StringField
from wtforms.validators import DataRequired

from app import inputs
from app.errors import CrmError
from app.extensions import db
from models.choices import Choice
from models.org import Employee
from views.module_spec import ModuleSpec
from views.widgets import EmployeeSelectField, RecordSelectField


# ---------------------------------------------------------------- forms

def _choice_query(kind):
    return lambda: db.session.query(Choice).filter(Choice.kind == kind, Choice.retired.is_(False)) \
        .order_by(Choice.sort_order, Choice.id)


def _current_user():
    user = getattr(g, "user", None)
    return user if user is not None and not user.is_anonymous else None


def form_fields(spec: ModuleSpec) -> dict:
    """Replacement fields for relationships: option lists by kind, AJAX pickers for owned records,
    employees in scope for the owner."""
    extra = {}
    mapper = inspect(spec.model)
    labels = spec.labels
    for name in set(spec.form_columns) | set(spec.edit_columns or ()):
        rel = mapper.relationships.get(name)
        if rel is None:
            column = mapper.columns.get(name)
            if name in getattr(spec.model, "required_fields", ()):
                extra[name] = StringField(labels.get(name, name), validators=[DataRequired()],
                                          widget=BS3TextFieldWidget())
                continue
            optional = _optional_field(column, labels.get(name, name), getattr(spec.model, "value_labels", {}))
            if optional is not None:
                extra[name] = optional
            continue
        label = labels.get(name, name)
        target = rel.mapper.class_
        if name in spec.choices:
            extra[name] = QuerySelectField(label, query_func=_choice_query(spec.choices[name]),
                                           get_pk_func=lambda o: o.id, allow_blank=True,
                                           blank_text=_l("Please choose"), widget=Select2Widget())
        elif target is Employee:
            # a new record belongs to whoever adds it unless they pick someone active in their scope (typed
            # into the picker); no blank choice: the pool is reached only by 退回公海
            extra[name] = EmployeeSelectField(label, validators=[DataRequired()], default=_current_user,
                                              view=_view_name(spec.key))  # also in 自定义字段's preview
        else:
            # a link the record cannot be without (a follow-up's 客户) is required: the form marks it with *
            required = all(not column.nullable for column in rel.local_columns)
            extra[name] = RecordSelectField(label, validators=[DataRequired()] if required else [], model=target,
                                            lookup_url=_lookup_url(spec.key, name))
    return extra


def search_fields(spec: ModuleSpec) -> dict:
    """The list's filter boxes for relationships (客户, 负责人, ...): pickers that ask /lookup/ as the user types,
    within the data scope and the field permissions. FAB's own would list every record of the target,
    anyone's, by a label the employee may not be allowed to see. Departments are few: a plain list."""
    from models.org import Department

    mapper = inspect(spec.model)
    labels = spec.labels
    extra = {}
    for name in spec.filter_columns:
        rel = mapper.relationships.get(name)
        if rel is None or name in spec.choices or rel.uselist:
            continue
        if rel.mapper.class_ is Department:
            extra[name] = QuerySelectField(labels.get(name, name), query_func=lambda: db.session.query(
                Department).order_by(Department.path), get_pk_func=lambda o: o.id, allow_blank=True,
                blank_text=_l("Please choose"), widget=Select2Widget())
            continue
        extra[name] = RecordSelectField(labels.get(name, name), model=rel.mapper.class_,
                                        lookup_url=_lookup_url(spec.key, name))
    return extra


def _optional_field(column, label, value_labels):
    """FAB marks every NOT NULL column required; a flag, or a column with a default, is not."""
    from flask_appbuilder.fieldwidgets import DateTimePickerWidget
    from wtforms import BooleanField, DateTimeField, IntegerField, SelectField
    from wtforms.validators import Optional as OptionalValue

    if column is None:
        return None
    if column.key in value_labels:
        choices = [(k, v) for k, v in value_labels[column.key].items()]
        return SelectField(label, choices=choices, widget=Select2Widget(),
                           validators=[] if column.nullable or column.default is not None else [DataRequired()])
    if isinstance(column.type, Boolean):
        return BooleanField(label)
    if column.nullable or column.default is None:
        return None
    if isinstance(column.type, Integer):
        return IntegerField(label, validators=[OptionalValue()], widget=BS3TextFieldWidget())
    if isinstance(column.type, DateTime):
        return DateTimeField(label, validators=[OptionalValue()], format="%Y-%m-%d %H:%M:%S",
                             widget=DateTimePickerWidget())
    return None


def column_validators(spec: ModuleSpec) -> dict:
    """The form's checks from the model's column types (a String's length, a Numeric's precision), so a
    form shows every such error at once; app.records checks the same again for the API and the importer."""
    from wtforms import ValidationError
    from wtforms.validators import Length

    mapper = inspect(spec.model)
    mobiles = getattr(spec.model, "mobile_fields", ())
    result = {}

    def fits(column):
        def check(form, field):
            try:
                inputs.check_column(spec.model, column, field.data, spec.labels.get(column.key, column.key))
            except CrmError as error:
                raise ValidationError(str(error.message))
        return check

    for name in set(spec.form_columns) | set(spec.edit_columns or ()):
        column = mapper.columns.get(name)
        if column is None or name in mobiles:
            continue
        if isinstance(column.type, Numeric):
            result[name] = [fits(column)]
        elif isinstance(column.type, (String, Text)) and inputs.length_limit(column):
            result[name] = [Length(max=inputs.length_limit(column))]
    return result


def _lookup_url(key, column):
    return lambda: url_for(f"{_view_name(key)}.lookup", column=column)


def _view_name(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_")) + "View"


# ---------------------------------------------------------------- display

def _format_value(value):
    """How a cell reads on screen: no "None", dates without microseconds, money with separators."""
    import datetime as dt
    import decimal

    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, decimal.Decimal):
        return f"{value:,.2f}"
    return value


def formatters(spec: ModuleSpec) -> dict:
    value_labels = getattr(spec.model, "value_labels", {})
    result = {}
    for column in set(spec.list_columns) | set(spec.show_columns or ()):
        labels = value_labels.get(column)
        if labels:
            result[column] = lambda v, labels=labels: str(labels.get(v, v)) if v is not None else ""
        else:
            result[column] = _format_value
    return result

