"""Field-level permission (hidden / read-only / masked / editable, set per role in 角色权限) applied to
the generated screens and API: lists, details, forms, exports and JSON alike (app/fieldperms.py holds
the rule; this file only applies it)."""
from __future__ import annotations

from typing import Optional

from flask import g, has_request_context
from flask_appbuilder.exceptions import InvalidColumnFilterFABException, InvalidOrderByColumnFABException
from flask_babel import gettext as _
from sqlalchemy import inspect

from app import fieldperms


def current_access(spec) -> Optional[dict]:
    """{field: access} for the logged-in employee on the spec's module, once per request; None where
    the module has no field rules (a screen whose model is not the module's, e.g. customer groups)."""
    if not has_request_context():
        return None
    if getattr(spec, "field_access_from", None):
        return borrowed_access(spec)
    if fieldperms.MODULE_MODELS.get(spec.module) is not spec.model:
        return None
    user = g.get("user")
    if user is None or user.is_anonymous:
        return None
    cache = g.setdefault("_crm_field_access", {})
    if spec.module not in cache:
        cache[spec.module] = fieldperms.field_access(user, spec.module)
    return cache[spec.module]


def borrowed_access(spec) -> Optional[dict]:
    """{column: access} for columns that show another module's field (a call's customer number follows the
    customer's and the contact's 手机 permission, fieldperms.call_number_access): hidden there, hidden here;
    masked there, masked here."""
    user = g.get("user")
    if user is None or user.is_anonymous:
        return None
    cache = g.setdefault("_crm_field_access", {})
    result = {}
    for column, source in spec.field_access_from.items():
        if callable(source):
            key = ("borrowed", spec.key, column)
            if key not in cache:
                cache[key] = source(user)
            result[column] = cache[key]
            continue
        module, field_name = source
        if module not in cache:
            cache[module] = fieldperms.field_access(user, module)
        result[column] = fieldperms.access_for(module, field_name, cache[module])
    return result


def masked_columns(spec, columns, access) -> set:
    return {c for c in columns if fieldperms.access_for(spec.module, c, access) == fieldperms.MASKED}


def searchable(spec, column: str, access) -> bool:
    """May the employee search, filter or sort the spec's records on `column` (a cf_<key> too)?"""
    return not access or fieldperms.access_for(spec.module, column, access) in fieldperms.SEARCHABLE


def _is_keyword(filter_instance) -> bool:
    """The list's search box: it searches only the fields the employee may search (views/query_filters.py)."""
    return getattr(filter_instance, "keyword", False)


def drop_protected_filters(spec, filters) -> None:
    """Take out of a screen's parsed filters (?_flt_<i>_<column>=) those on a field the employee may not
    search: they are ignored, as an unknown filter is. A detail page's related tab keeps its own filter (the
    contacts *of this customer*), which names no value."""
    access = current_access(spec)
    if not access or filters is None:
        return
    kept = [(f, v) for f, v in zip(filters.filters, filters.values)
            if _is_keyword(f) or getattr(f, "is_related_view", False) or searchable(spec, f.column_name, access)]
    filters.filters, filters.values = [f for f, _v in kept], [v for _f, v in kept]


def related_label_formatters(spec, columns) -> dict:
    """Formatters for the columns that show another module's record by its label (a contact's 客户): the
    label as the employee may see it in that module (hidden -> #id, masked -> masked; a pool customer as
    公海 sees it: FieldView.label)."""
    user = g.get("user") if has_request_context() else None
    if user is None or getattr(user, "is_anonymous", True):
        return {}
    mapper = inspect(spec.model)
    cache = g.setdefault("_crm_label_views", {})
    result = {}
    for column in columns:
        rel = mapper.relationships.get(column)
        if rel is None:
            continue
        view = fieldperms.label_view(rel.mapper.class_, user, cache)
        if view is not None and not view.labels_in_full():
            result[column] = view.label
    return result


def _restricted(static_name, pick):
    """A view attribute FAB sets once at start-up, narrowed per request by the employee's field access."""

    def getter(self):
        columns = getattr(self, static_name, None)
        access = current_access(self.spec) if columns is not None else None
        return columns if access is None else pick(self.spec.module, columns, access)

    def setter(self, value):
        setattr(self, static_name, value)

    return property(getter, setter)


class FieldPermissionScreenHooks:
    list_columns = _restricted("_static_list_columns", fieldperms.readable_columns)
    show_columns = _restricted("_static_show_columns", fieldperms.readable_columns)
    add_columns = _restricted("_static_add_columns", lambda m, c, a: fieldperms.writable_columns(m, c, a, True))
    edit_columns = _restricted("_static_edit_columns", fieldperms.writable_columns)

    order_columns = _restricted("_static_order_columns", fieldperms.searchable_columns)

    @property
    def formatters_columns(self):
        formatters = self._static_formatters_columns
        related = related_label_formatters(self.spec, list(self._static_list_columns) +
                                           list(self._static_show_columns))
        if related:
            formatters = {**formatters, **related}
        access = current_access(self.spec)
        if not access:
            return formatters
        custom = [d.name for d in self._custom_defs()] if self.spec.custom_fields else []
        masked = masked_columns(self.spec, list(self._static_list_columns) + list(self._static_show_columns) + custom,
                                access)
        if not masked:
            return formatters
        return {**formatters, **{column: fieldperms.mask_value for column in masked}}

    @formatters_columns.setter
    def formatters_columns(self, value):
        self._static_formatters_columns = value

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", **kwargs):
        """No filter and no sorting on a field the employee may not search (a custom one too): they
        would give the hidden or masked value away one request at a time."""
        drop_protected_filters(self.spec, filters)
        if order_column and not searchable(self.spec, order_column, current_access(self.spec)):
            order_column, order_direction = "", ""
        return super()._get_list_widget(filters, actions=actions, order_column=order_column,
                                        order_direction=order_direction, **kwargs)

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None):
        """"Add filter" offers only the fields the employee may search."""
        access = current_access(self.spec)
        protected = [c for c in self.search_columns if not searchable(self.spec, c, access)] if access else []
        return super()._get_search_widget(form=form, exclude_cols=list(exclude_cols or []) + protected,
                                          widgets=widgets)

    def custom_conditions(self, defs=None, quiet=False):
        defs = self._custom_defs() if defs is None else defs
        access = current_access(self.spec)
        return super().custom_conditions([d for d in defs if searchable(self.spec, d.name, access)], quiet)

    def custom_list_context(self) -> dict:
        context = super().custom_list_context()
        access = current_access(self.spec)
        if access and context.get("filters"):
            protected = {d.label for d in self._custom_defs() if not searchable(self.spec, d.name, access)}
            context["filters"] = [f for f in context["filters"] if f["label"] not in protected]
        return context

    def limit_form(self, form, creating: bool) -> None:
        """Take out of the submitted form what the employee may not fill in, so it is neither shown
        nor validated nor saved (custom fields included)."""
        static = list(self._static_add_columns if creating else self._static_edit_columns)
        allowed = set(self.add_columns if creating else self.edit_columns)
        access = current_access(self.spec)
        if access:
            custom = [n for n in getattr(form, "custom_field_names", []) if n in form]
            allowed |= set(fieldperms.writable_columns(self.spec.module, custom, access, creating=creating))
            static += custom
        for name in [n for n in static if n not in allowed and n in form]:
            del form[name]

    def _custom_defs(self):
        """The module's custom fields the employee may see (hidden ones are left out of lists, details
        and filters)."""
        defs = super()._custom_defs()
        access = current_access(self.spec)
        if not access:
            return defs
        return [d for d in defs if fieldperms.access_for(self.spec.module, d.name, access) != fieldperms.HIDDEN]


class FieldPermissionApiHooks:
    def refuse_protected_query(self, rison_args) -> None:
        """A filter or an order on a field the employee may not search (cf_<key> included) is refused with
        400, as one on an unknown column is (FAB's own exceptions, so every caller answers the same)."""
        access = current_access(self.spec)
        if not access:
            return
        for item in rison_args.get("filters", []) or []:
            if not isinstance(item, dict) or str(item.get("opr", "")).startswith("kw_"):
                continue
            column = str(item.get("col", ""))
            if not searchable(self.spec, column, access):
                raise InvalidColumnFilterFABException(_("%(field)s cannot be used as a filter.", field=column))
        order_column = rison_args.get("order_column")
        if order_column and not searchable(self.spec, str(order_column), access):
            raise InvalidOrderByColumnFABException(_("%(field)s cannot be used for sorting.", field=order_column))

    def info_headless(self, **kwargs):
        """`_info` describes only what the employee may fill in (add: not hidden; edit: editable) and filter
        on (the search box stays: it searches only what they may search)."""
        response = super().info_headless(**kwargs)
        access = current_access(self.spec)
        if not access or response.status_code != 200:
            return response
        payload = response.get_json()
        module = self.spec.module
        for key, creating in (("add_columns", True), ("edit_columns", False)):
            if key in payload:
                allowed = set(fieldperms.writable_columns(module, [c["name"] for c in payload[key]], access, creating))
                payload[key] = [c for c in payload[key] if c["name"] in allowed]
        if "filters" in payload:
            payload["filters"] = {
                column: operators if searchable(self.spec, column, access)
                else [o for o in operators if str(o.get("operator", "")).startswith("kw_")]
                for column, operators in payload["filters"].items()}
            payload["filters"] = {column: operators for column, operators in payload["filters"].items() if operators}
        if "custom_fields" in payload:
            payload["custom_fields"] = [d for d in payload["custom_fields"] if fieldperms.access_for(
                module, "cf_" + str(d.get("key", "")), access) != fieldperms.HIDDEN]
        return self.response(200, **payload)

    def get_list_headless(self, **kwargs):
        try:
            self.refuse_protected_query(kwargs.get("rison", {}) or {})
        except (InvalidColumnFilterFABException, InvalidOrderByColumnFABException) as error:
            return self.response_400(message=str(error))
        return super().get_list_headless(**kwargs)

    def pre_get(self, data):
        super().pre_get(data)
        access = current_access(self.spec)
        if access and isinstance(data.get("result"), dict):
            data["result"] = fieldperms.apply_to_values(self.spec.module, data["result"], access)

    def pre_get_list(self, data):
        super().pre_get_list(data)
        access = current_access(self.spec)
        if access and isinstance(data.get("result"), list):
            data["result"] = fieldperms.apply_to_rows(self.spec.module, data["result"], access)

    def _custom_defs(self):
        defs = super()._custom_defs()
        access = current_access(self.spec)
        if not access:
            return defs
        return [d for d in defs if fieldperms.access_for(self.spec.module, d.name, access) != fieldperms.HIDDEN]

    def check_field_permissions(self, data, creating: bool) -> None:
        """Refuse (403, the field named) a write to a field the employee may not fill in."""
        access = current_access(self.spec)
        if access:
            fieldperms.check_writable(self.spec.module, data, access, creating=creating, labels=self.spec.labels)
