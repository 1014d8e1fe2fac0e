"""The per-request hooks that put a module's custom fields into its generated screen and REST API.

FAB fixes a view's forms, columns and schemas at start-up; these hooks add the fields that exist *now*
(read from the database each request), so a field added in one process shows in every process on its
next request. Django's admin has the same shape: a static option plus a per-request hook.
"""
from __future__ import annotations

from typing import Any

from flask import flash, has_request_context, request
from flask_babel import gettext as _

from app.errors import CrmError
from custom_fields import definitions
from custom_fields import forms as custom_forms
from custom_fields import query as custom_query
from custom_fields import values as custom_values


def list_context(defs, args) -> dict[str, Any]:
    """What the list template needs: the filter panel (filterable fields, current input) and the
    custom columns hidden until the user picks them in the column chooser."""
    panel = []
    for d in defs:
        if not d.filterable:
            continue
        names = custom_query.arg_names(d)
        current = {op: args.get(name, "") for op, name in names.items()}
        for op in ("eq", "has"):  # an option may be given by label in the URL (as in the API): select its id
            by_label = {o.label: str(o.id) for o in d.options}
            if current.get(op) in by_label:
                current[op] = by_label[current[op]]
        if "gte" in names and current.get("eq") and not current.get("gte") and not current.get("lte"):
            current["gte"] = current["lte"] = current["eq"]  # the panel shows a range: "= x" is x – x
        if d.type == "boolean" and current.get("eq"):
            current["eq"] = {"true": "1", "false": "0", "yes": "1", "no": "0", "是": "1", "否": "0"}.get(
                current["eq"].strip().lower(), current["eq"])
        panel.append({"label": d.label, "type": d.type, "args": names, "current": current,
                      "options": [(o.id, o.label + (" " + _("(retired)") if o.retired else "")) for o in d.options]})
    used = {name for item in panel for name in item["args"].values() if args.get(name)}
    return {"filters": panel, "active": sorted(used), "optional_columns": [d.label for d in defs if not d.list_default],
            "clear_args": {k: v for k, v in args.items() if not k.startswith("cf_") and not k.startswith("page_")}}


class CustomFieldScreenHooks:
    """For GeneratedModelView: forms, list columns, filters, sorting and the detail page."""

    _static_add_form = None
    _static_edit_form = None

    @property
    def add_form(self):
        return self._with_custom_fields(self._static_add_form)

    @add_form.setter
    def add_form(self, value):
        self._static_add_form = value

    @property
    def edit_form(self):
        return self._with_custom_fields(self._static_edit_form)

    @edit_form.setter
    def edit_form(self, value):
        self._static_edit_form = value

    def _with_custom_fields(self, form_class):
        module = self.spec.custom_fields
        if form_class is None or not module or not has_request_context():
            return form_class
        return custom_forms.extend(form_class, module)

    def _custom_defs(self):
        return definitions(self.spec.custom_fields) if self.spec.custom_fields else []

    def custom_data(self, form) -> dict:
        return {name: form[name].data for name in custom_forms.custom_names(form)}

    def custom_conditions(self, defs=None, quiet=False):
        """The custom-field filters of the request (?cf_<key>=..., __gte, __lte); a bad one is flashed."""
        defs = self._custom_defs() if defs is None else defs
        try:
            return custom_query.from_args(defs, request.args)
        except CrmError as error:
            if not quiet:
                flash(str(error.message), "danger")
            return []

    # -- forms

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["add"] = self.add_widget(form=form,
                                         include_cols=list(self.add_columns) + custom_forms.custom_names(form),
                                         exclude_cols=exclude_cols or [], fieldsets=self.add_fieldsets)
        return widgets

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["edit"] = self.edit_widget(form=form,
                                           include_cols=list(self.edit_columns) + custom_forms.custom_names(form),
                                           exclude_cols=exclude_cols or [], fieldsets=self.edit_fieldsets)
        return widgets

    def prefill_form(self, form, pk):
        if self.spec.custom_fields:
            custom_forms.fill(form, self.spec.custom_fields, pk)

    # -- list: columns, filters and sorting in SQL, the page's values in one query

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", page=None,
                         page_size=None, widgets=None, **kwargs):
        module = self.spec.custom_fields
        if not module:
            return super()._get_list_widget(filters, actions=actions, order_column=order_column,
                                            order_direction=order_direction, page=page, page_size=page_size,
                                            widgets=widgets, **kwargs)
        defs = self._custom_defs()
        by_name = {d.name: d for d in defs}
        widgets = widgets or {}
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        sort = by_name.get(order_column) if order_column else None
        if order_column and order_column.startswith("cf_") and (sort is None or not sort.sortable):
            order_column, order_direction, sort = self.base_order[0], self.base_order[1], None
        elif order_column and not sort and order_column not in self.order_columns:
            order_column, order_direction = self.base_order
        joined = filters.get_joined_filters(self._base_filters)
        count, items = custom_query.page(self.datamodel, module, joined, self.custom_conditions(defs), order_column,
                                         order_direction, page, page_size, sort=sort)
        loaded = custom_values.load(module, [item.id for item in items], defs)
        rows = list(self.datamodel.get_values(items, self.list_columns))
        for row, item in zip(rows, items):
            row.update(custom_values.display(defs, loaded.get(item.id, {})))
        widgets["list"] = self.list_widget(
            label_columns={**self.label_columns, **{d.name: d.label for d in defs}},
            include_columns=list(self.list_columns) + [d.name for d in defs],
            value_columns=rows,
            order_columns=list(self.order_columns) + [d.name for d in defs if d.sortable],
            formatters_columns=self.formatters_columns,
            page=page, page_size=page_size, count=count,
            pks=[self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(items)],
            actions=actions or self.actions, filters=filters, modelview_name=self.__class__.__name__, **kwargs)
        return widgets

    # -- the detail page

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        defs = self._custom_defs()
        if not defs:
            return super()._get_show_widget(pk, item, widgets=widgets, actions=actions, show_fieldsets=show_fieldsets)
        shown = custom_values.display(defs, custom_values.load(self.spec.custom_fields, [item.id], defs)[item.id])
        widgets = widgets or {}
        widgets["show"] = self.show_widget(
            pk=pk, label_columns={**self.label_columns, **{d.name: d.label for d in defs}},
            include_columns=list(self.show_columns) + [d.name for d in defs],
            value_columns=self.datamodel.get_values_item(item, self.show_columns) + [shown[d.name] for d in defs],
            formatters_columns=self.formatters_columns, actions=actions or self.actions,
            fieldsets=show_fieldsets or self.show_fieldsets, modelview_name=self.__class__.__name__)
        return widgets

    def custom_list_context(self) -> dict:
        return list_context(self._custom_defs(), request.args) if self.spec.custom_fields else {}


class CustomFieldApiHooks:
    """For GeneratedApi: cf_<key> in GET, POST and PUT; `_info` (the list's filters and sorts on them:
    views/list_api.py)."""

    def _custom_defs(self):
        return definitions(self.spec.custom_fields) if self.spec.custom_fields else []

    def custom_json(self, item_ids) -> dict:
        defs = self._custom_defs()
        loaded = custom_values.load(self.spec.custom_fields, item_ids, defs) if defs else {}
        return {i: custom_values.as_json(defs, loaded.get(i, {})) for i in item_ids}

    def pre_get(self, data):
        super().pre_get(data)
        if self.spec.custom_fields and isinstance(data.get("result"), dict):
            data["result"].update(self.custom_json([int(data["id"])])[int(data["id"])])

    def pre_get_list(self, data):
        super().pre_get_list(data)
        if self.spec.custom_fields:
            extra = self.custom_json(list(data.get("ids", [])))
            for pk, row in zip(data.get("ids", []), data.get("result", [])):
                row.update(extra[pk])

    def info_headless(self, **kwargs):
        response = super().info_headless(**kwargs)
        defs = self._custom_defs()
        if not defs or response.status_code != 200:
            return response
        payload = response.get_json()
        described = [_describe(d) for d in defs]
        for key in ("add_columns", "edit_columns"):
            if key in payload:
                payload[key] = list(payload[key]) + described
        if "filters" in payload:
            for d in defs:
                if d.filterable:
                    payload["filters"][d.name] = [{"name": str(custom_query.OPERATORS[op]), "operator": op}
                                                  for op in d.field_type.filter_ops]
        payload["custom_fields"] = [d.as_dict() for d in defs]
        return self.response(200, **payload)


def _describe(definition) -> dict:
    """A custom field in `_info`'s add_columns/edit_columns, in FAB's shape plus what a client needs to
    build its own form (type, options, limits)."""
    kind = definition.field_type
    described = {"name": definition.name, "label": definition.label, "description": definition.help_text or "",
                 "type": kind.schema_field(definition).__class__.__name__, "required": definition.required,
                 "unique": definition.unique, "custom": True, "field_type": definition.type,
                 "default": definition.default, "max_length": definition.max_length,
                 "min_value": definition.as_dict()["min_value"], "max_value": definition.as_dict()["max_value"]}
    if kind.has_options:
        described["values"] = [{"id": o.id, "value": o.label} for o in definition.active_options]
    return described


__all__ = ["CustomFieldScreenHooks", "CustomFieldApiHooks", "list_context"]
