"""ModuleSpec -> a FAB ModelView: build_view (permission names, columns, the data-scope and keyword filters,
bulk actions) and GeneratedModelView (saving, the bulk actions' form, the AJAX record pickers' /lookup/, export of
the filtered list), and SPEC_BY_MODEL, the registry views/__init__.py fills. Adding a module is one ModuleSpec in
views/modules.py; nothing here names a particular module. The rest of the generator:

    views/module_spec.py    ModuleSpec, ActionSpec and validate_spec (a wrong declaration fails at boot)
    views/query_filters.py  the data scope and the search box as SQL predicates, per request
    views/screen_fields.py  form fields, filter pickers, column validators and cell formatters
    views/saving.py         create, change and delete through the module's service or app.records
    views/generator_api.py  the REST API half: ModuleSpec -> a FAB ModelRestApi
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.urltools import get_filter_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect

from app import exporting
from app.errors import CrmError
from app.extensions import db
from app.inputs import parse_id
from app.permissions import MODULES
from views.base import ServiceModelView, attach_error
from views.custom_field_hooks import CustomFieldScreenHooks
from views import filter_ui
from views.datamodel import CrmInterface, check_filter_values
from views import lookups
from views.field_permission_hooks import FieldPermissionScreenHooks, current_access, drop_protected_filters
from views.module_spec import ActionSpec, ModuleSpec, validate_spec
from views.query_filters import make_keyword_filter, make_scope_filter
from views.saving import remove, save
from views.screen_fields import _view_name, column_validators, form_fields, formatters, search_fields

PAGE_SIZE = 50


# ---------------------------------------------------------------- the screen

def build_view(spec: ModuleSpec, registry: dict) -> type:
    validate_spec(spec)
    module_actions = MODULES[spec.module][1]
    first_keyword = spec.keyword_columns[0] if spec.keyword_columns else None
    methods = {
        "list": "view", "show": "view", "download": "view", "lookup": "view", "export": "export",
        "add": "add", "edit": "edit", "delete": "delete", "action_form": "view",
        "api_read": "view", "api_get": "view",
    }
    attrs: dict[str, Any] = dict(
        datamodel=CrmInterface(spec.model),
        route_base=f"/{spec.key}",
        class_permission_name=spec.module,
        method_permission_name=dict(methods),
        base_permissions=[f"can_{a}" for a in module_actions],
        list_title=spec.label, show_title=spec.label, add_title=spec.label, edit_title=spec.label,
        list_columns=list(spec.list_columns),
        show_columns=list(spec.show_columns or spec.list_columns),
        add_columns=list(spec.form_columns),
        edit_columns=list(spec.edit_columns if spec.edit_columns is not None else spec.form_columns),
        search_columns=list(dict.fromkeys(([first_keyword] if first_keyword else []) + list(spec.filter_columns))),
        order_columns=list(spec.order_columns),
        base_order=spec.base_order,
        page_size=PAGE_SIZE,
        label_columns=spec.labels,
        base_filters=[["id", make_scope_filter(spec), None]],
        validators_columns=column_validators(spec),
        add_form_extra_fields=form_fields(spec),
        # dates and option lists from filter_ui; relationships (employees too) as scoped search-as-you-type pickers
        search_form_extra_fields={**filter_ui.search_fields(spec), **search_fields(spec)},
        edit_form_extra_fields=form_fields(spec),
        formatters_columns=formatters(spec),
        list_template="crm/list.html",
        list_widget=CrmListWidget,
        show_template="crm/show.html",
        spec=spec,
    )
    if not spec.can_add and not spec.read_only:
        attrs["base_permissions"] = [p for p in attrs["base_permissions"] if p != "can_add"]
    if spec.read_only:
        # base_permissions stay whole (another view shares the module's permission rows); the writes map to
        # an action no role has
        attrs["method_permission_name"].update({m: "write_disabled" for m in ("add", "edit", "delete")})
        attrs["list_widget"] = ReadOnlyListWidget

    for action_spec in spec.actions:
        if action_spec.screen:
            attrs[action_spec.name] = _make_action(spec, action_spec)
            attrs["method_permission_name"][action_spec.name] = _fab_action(action_spec)
    attrs["method_permission_name"].update(spec.permission_overrides)
    if spec.view_mixin is not None:
        attrs["method_permission_name"].update(getattr(spec.view_mixin, "route_permissions", {}))

    # what field permissions narrow per request lives under _static_* (see views/field_permission_hooks.py)
    for name in ("list_columns", "show_columns", "add_columns", "edit_columns", "formatters_columns", "order_columns"):
        attrs[f"_static_{name}"] = attrs.pop(name)
    bases = ((spec.view_mixin,) if spec.view_mixin else ()) + (GeneratedModelView,)
    view = type(_view_name(spec.key), bases, attrs)
    registry[spec.key] = view
    return view


def _fab_action(action_spec: ActionSpec) -> str:
    """The permission FAB checks for the action's method; another module's right is checked in the action."""
    return "view" if action_spec.module else action_spec.permission


def _allowed(action_spec: ActionSpec, view) -> bool:
    if not action_spec.module:
        return True
    return view.appbuilder.sm.has_access(f"can_{action_spec.permission}", action_spec.module)


def _make_action(spec: ModuleSpec, action_spec: ActionSpec):
    def run_action(self, items):
        items = items if isinstance(items, list) else [items]
        ids = [item.id for item in items]
        if action_spec.form is not None:
            return redirect(url_for(".action_form", name=action_spec.name, ids=",".join(map(str, ids))))
        return self._perform(action_spec, ids, {})

    run_action.__name__ = action_spec.name
    return action(action_spec.name, action_spec.label, action_spec.confirmation, action_spec.icon)(run_action)


def _form_data(form, columns) -> dict:
    return {name: form[name].data for name in columns if name in form}



class GeneratedModelView(FieldPermissionScreenHooks, CustomFieldScreenHooks, ServiceModelView):
    spec: ModuleSpec

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # FAB's ModelView has no search_filters: put the keyword filter first on the first keyword
        # column, in both of FAB's lists (the URL's _flt_<i>_ is read against one, built from the other,
        # and FAB parses only a one-digit <i>)
        self._keyword_arg_name = ""
        if self.spec.keyword_columns:
            column = self.spec.keyword_columns[0]
            keyword = make_keyword_filter(self.spec)(column, self.datamodel)
            self._filters.get_search_filters().setdefault(column, []).insert(0, keyword)
            self._filters._all_filters.setdefault(column, []).insert(0, keyword)
            self._keyword_arg_name = f"_flt_0_{column}"
        filter_ui.relabel_filters(self)

    def _user(self):
        return g.user

    def _get_list_widget(self, filters, **kwargs):
        check_filter_values(self.datamodel, filters)  # `_flt_0_status=abc`: 400, not SQL with a wrong type
        return super()._get_list_widget(filters, **kwargs)

    # -- CRUD through app.records (scope, owner, unique and required checks in one place)

    def create_item(self, form):
        return save(self.spec, None, _form_data(form, self.add_columns), self._user(), self.custom_data(form))

    def update_item(self, item, form):
        # edit_columns: what this employee may change (field permissions narrow it per request)
        return save(self.spec, item, _form_data(form, self.edit_columns), self._user(), self.custom_data(form))

    def delete_item(self, item):
        remove(self.spec, item, self._user())

    # -- bulk actions

    def _perform(self, action_spec: ActionSpec, ids, data):
        try:
            result = action_spec.run(ids, data, self._user())
        except CrmError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return redirect(url_for(".list"))
        count = len(result) if isinstance(result, (list, tuple)) else len(ids)
        flash(str(action_spec.done or _l("Done.")) % {"n": count}, "success")
        return redirect(url_for(".list"))

    @expose("/act/<name>/", methods=["GET", "POST"])
    @has_access
    def action_form(self, name):
        action_spec = next((a for a in self.spec.actions if a.name == name and a.form is not None), None)
        if action_spec is None:
            abort(404)
        permission_module = action_spec.module or self.class_permission_name
        if not self.appbuilder.sm.has_access(f"can_{action_spec.permission}", permission_module):
            abort(403)
        ids = [parse_id(i, "ids", malformed_status=400) for i in request.args.get("ids", "").split(",") if i.strip()]
        if not ids:
            flash(_("Please select at least one record."), "warning")
            return redirect(url_for(".list"))
        form = action_spec.form()
        if request.method == "POST" and form.validate():
            data = {k: v for k, v in form.data.items() if k != "csrf_token"}
            try:
                result = action_spec.run(ids, data, self._user())
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                count = len(result) if isinstance(result, (list, tuple)) else len(ids)
                flash(str(action_spec.done or _l("Done.")) % {"n": count}, "success")
                return redirect(url_for(".list"))
        return self.render_template("crm/action_form.html", form=form, title=action_spec.label, count=len(ids))

    # -- AJAX lookups for record pickers, within the data scope

    @expose("/lookup/<column>/")
    @has_access
    def lookup(self, column):
        """Search-as-you-type for a picker (record fields, filters): at most LOOKUP_LIMIT matches of `q`
        among the records the employee may reach, named as they may see them (app/lookups.py)."""
        rel = inspect(self.spec.model).relationships.get(column)
        if rel is None:
            abort(404)
        return jsonify(results=lookups.search(rel.mapper.class_, request.args.get("q", ""), g.user,
                                              SPEC_BY_MODEL, active_only=request.args.get("active") == "1"))

    # -- export of the current (filtered) list

    @expose("/export/")
    @has_access
    def export(self):
        get_filter_args(self._filters)
        drop_protected_filters(self.spec, self._filters)
        check_filter_values(self.datamodel, self._filters)
        filters = self._filters.get_joined_filters(self._base_filters)
        fmt = request.args.get("format", "xlsx")
        if fmt not in exporting.FORMATS:
            flash(_("Unknown export format."), "danger")
            return redirect(url_for(".list"))
        return exporting.export_response(self.spec, filters, fmt, self.datamodel, custom=self.custom_conditions(),
                                         access=current_access(self.spec))

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs.setdefault("custom", self.custom_list_context())
        kwargs.setdefault("spec", self.spec)
        kwargs.setdefault("keyword_arg", self._keyword_arg())
        kwargs.setdefault("keyword_value", request.args.get(self._keyword_arg(), ""))
        kwargs.setdefault("keyword_placeholder", filter_ui.keyword_placeholder(self.spec))
        return super().render_template(template, **kwargs)

    def _keyword_arg(self):
        return self._keyword_arg_name


class CrmListWidget(ListWidget):
    """FAB's list widget, saying "10,000+" when the count was capped (views/datamodel.py)."""

    template = "crm/widgets/list.html"

    def __init__(self, **kwargs):
        kwargs.setdefault("count_cap", CrmInterface.count_cap)
        super().__init__(**kwargs)


class ReadOnlyListWidget(CrmListWidget):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


SPEC_BY_MODEL: dict[type, ModuleSpec] = {}
