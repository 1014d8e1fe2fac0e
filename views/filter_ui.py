"""How a generated list's filter panel (FAB's 搜索 → 添加过滤条件) reads to a user: operators in plain words
(FAB's own read 关联 / 不关联 and an untranslated "In"), option lists holding only their own kind's options
(客户状态 offers the customer statuses, not every option list's values), and a blank choice that says 请选择
instead of FAB's raw "__None"."""
from __future__ import annotations

from flask import g
from flask_appbuilder.fieldwidgets import DatePickerWidget, DateTimePickerWidget, Select2Widget
from flask_appbuilder.fields import QuerySelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, inspect
from wtforms import DateField, DateTimeField
from wtforms.validators import Optional

from app import scopes
from app.extensions import db
from models.choices import Choice
from models.org import Employee

# FAB filter class -> what the operator says (English msgid, Chinese in the catalog)
OPERATOR_LABELS = {
    "FilterEqual": _l("equals"),
    "FilterNotEqual": _l("does not equal"),
    "FilterContains": _l("contains"),
    "FilterNotContains": _l("does not contain"),
    "FilterStartsWith": _l("starts with"),
    "FilterNotStartsWith": _l("does not start with"),
    "FilterEndsWith": _l("ends with"),
    "FilterNotEndsWith": _l("does not end with"),
    "FilterIn": _l("is one of"),
    "FilterNotIn": _l("is none of"),
    "FilterGreater": _l("greater than"),
    "FilterSmaller": _l("less than"),
    "FilterRelationOneToManyEqual": _l("equals"),
    "FilterRelationOneToManyNotEqual": _l("does not equal"),
    "FilterRelationManyToManyEqual": _l("includes"),
    "FilterEqualFunction": _l("equals"),
}
# on a date or a time, "greater" is "later"
DATE_LABELS = {"FilterGreater": _l("later than"), "FilterSmaller": _l("earlier than"),
               "FilterEqual": _l("on"), "FilterNotEqual": _l("not on")}


def relabel_filters(view) -> None:
    """Give every filter of a view's panel its plain-words name (the instances are the view's own)."""
    columns = inspect(view.datamodel.obj).columns
    for column, filters in view._filters.get_search_filters().items():
        is_date = column in columns and isinstance(columns[column].type, (Date, DateTime))
        for flt in filters:
            name = type(flt).__name__
            label = (DATE_LABELS.get(name) if is_date else None) or OPERATOR_LABELS.get(name)
            if label is not None:
                flt.name = label


def _choices(kind):
    return lambda: db.session.query(Choice).filter(Choice.kind == kind).order_by(Choice.sort_order, Choice.id)


def _employees():
    """The employees whose records the user may see (the filter offers no one outside the scope)."""
    return db.session.query(Employee).filter(scopes.owner_predicate(Employee.id, g.user)) \
        .order_by(Employee.first_name)


def search_fields(spec) -> dict:
    """Fields of the filter panel's values: an option list of the column's own kind, the employees in
    scope for owner-like columns, each with a 请选择 blank."""
    fields = {}
    mapper = inspect(spec.model)
    labels = spec.labels
    for name in spec.filter_columns:
        rel = mapper.relationships.get(name)
        if rel is None:
            column = mapper.columns.get(name)
            if column is not None and isinstance(column.type, DateTime):
                # no default: FAB would fill in the model's default, now, with microseconds
                fields[name] = DateTimeField(labels.get(name, name), format="%Y-%m-%d %H:%M:%S",
                                             validators=[Optional()], widget=DateTimePickerWidget())
            elif column is not None and isinstance(column.type, Date):
                fields[name] = DateField(labels.get(name, name), format="%Y-%m-%d", validators=[Optional()],
                                         widget=DatePickerWidget())
            continue
        if name in spec.choices:
            query = _choices(spec.choices[name])
            get_label = "name"
        elif rel.mapper.class_ is Employee:
            query = _employees
            get_label = "first_name"
        else:
            continue
        fields[name] = QuerySelectField(labels.get(name, name), query_func=query, get_pk_func=lambda o: o.id,
                                        get_label=get_label, allow_blank=True, blank_text=_l("Please choose"),
                                        widget=Select2Widget())
    return fields


def keyword_placeholder(spec) -> str:
    """The search box says what it searches: the module's keyword columns (a group list has no phone)."""
    labels = [str(spec.labels.get(column, column)) for column in spec.keyword_columns]
    return _("Search by %(fields)s", fields=_(", ").join(labels)) if labels else ""
