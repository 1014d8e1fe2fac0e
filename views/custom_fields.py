"""设置 → 自定义字段设置: the five modules with the date each last changed, 编辑 (add, change, reorder,
hide and delete fields and their options) and 预览 (the module's add form as staff will see it)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.errors import CrmError
from app.permissions import MODULES as PERMISSION_MODULES
from app.permissions import SETTINGS
from custom_fields import MODULES, definitions, service
from custom_fields.definitions import all_definitions, changed_at, snapshot
from custom_fields.fieldtype import plain
from custom_fields.types import TYPES
from custom_fields.values import value_count
from views.base import attach_error

FIELD_PROPERTIES = ("label", "type", "required", "unique", "default", "help_text", "max_length", "min_value",
                    "max_value", "list_default", "filterable", "hidden")


class FieldForm(FlaskForm):
    label = StringField(_l("Field name"), validators=[DataRequired(), Length(max=64)], widget=BS3TextFieldWidget())
    type = SelectField(_l("Field type"), choices=[(k, t.label) for k, t in TYPES.items()], widget=Select2Widget())
    required = BooleanField(_l("Required"))
    unique = BooleanField(_l("Unique within the module"))
    default = StringField(_l("Default value"), widget=BS3TextFieldWidget(),
                          description=_l("For a choice field, the option's name (several: separated by 、)."))
    help_text = StringField(_l("Help text"), validators=[Length(max=255)], widget=BS3TextFieldWidget(),
                            description=_l("Shown under the field on the form."))
    max_length = StringField(_l("Maximum length"), widget=BS3TextFieldWidget())
    min_value = StringField(_l("Minimum"), widget=BS3TextFieldWidget())
    max_value = StringField(_l("Maximum"), widget=BS3TextFieldWidget())
    list_default = BooleanField(_l("Shown in the list by default"))
    filterable = BooleanField(_l("Can be used as a filter"))
    hidden = BooleanField(_l("Hidden"), description=_l("Left out of forms, lists, exports and the API; the values "
                                                       "are kept and come back when it is shown again."))


def module_label(module: str) -> str:
    return str(PERMISSION_MODULES[module][0])


def _type_rules() -> dict:
    """Which properties each type has, for the form's script (the service checks them again)."""
    return {key: {"length": kind.has_length, "range": kind.has_range, "options": kind.has_options,
                  "unique": kind.can_unique, "filter": bool(kind.filter_ops)} for key, kind in TYPES.items()}


def _options_from_form() -> list[dict]:
    ids = request.form.getlist("option_id")
    labels = request.form.getlist("option_label")
    states = request.form.getlist("option_state")
    return [{"id": ids[i] if i < len(ids) else None, "label": label,
             "retired": (states[i] if i < len(states) else "") == "retired"} for i, label in enumerate(labels)]


def _default_for_form(row) -> str:
    """A select default is kept as option ids; the form shows option names."""
    definition = snapshot(row)
    if definition.default and definition.field_type.has_options:
        chosen = [definition.option(int(i)) for i in definition.default.split(",") if i.isdigit()]
        return "、".join(o.label for o in chosen if o is not None)
    return definition.default or ""


class CustomFieldsView(BaseView):
    route_base = "/custom-fields"
    default_view = "modules"
    class_permission_name = SETTINGS
    # "list": the menu shows an item to those who may open its screen (CrmSecurityManager asks for "list")
    method_permission_name = {"list": "view", "modules": "view", "fields": "view", "preview": "view",
                              "add": "edit", "edit": "edit", "delete": "edit", "move": "edit", "reorder": "edit",
                              "toggle": "edit"}
    base_permissions = ["can_view", "can_edit"]

    def render_template(self, template, **kwargs):
        kwargs.setdefault("csrf_token", generate_csrf)
        return super().render_template(template, **kwargs)

    @staticmethod
    def _check_token():
        """The buttons that post (move, hide, reorder, delete) carry the CSRF token like any form."""
        if not FlaskForm().validate():
            abort(400)

    def _module(self, module):
        if module not in MODULES:
            abort(404)
        return module

    def _field(self, pk):
        try:
            return service.get_field(pk)
        except CrmError:
            abort(404)

    @expose("/")
    @has_access
    def modules(self):
        rows = [{"key": m, "label": module_label(m), "changed_at": changed_at(m), "count": len(all_definitions(m))}
                for m in MODULES]
        return self.render_template("custom_fields/modules.html", rows=rows, title=_("Custom fields"))

    @expose("/<module>/")
    @has_access
    def fields(self, module):
        module = self._module(module)
        defs = all_definitions(module)
        counts = {d.id: value_count(module, d.id) for d in defs}
        return self.render_template("custom_fields/fields.html", module=module, module_label=module_label(module),
                                    defs=defs, counts=counts, types=TYPES,
                                    title=_("Custom fields: %(module)s", module=module_label(module)))

    def _form_page(self, module, form, row=None, options=None):
        """The form; after a POST it is the form sent back with its errors (success redirects): 400, as the
        generated screens answer a refused form."""
        has_values = row is not None and value_count(module, row.id) > 0
        status = 400 if request.method == "POST" else 200
        return self.render_template("custom_fields/field_form.html", form=form, module=module, row=row,
                                    module_label=module_label(module), has_values=has_values,
                                    values_held=value_count(module, row.id) if row is not None else 0,
                                    options=options if options is not None else [], rules=_type_rules(),
                                    title=_("Edit field") if row is not None else _("New field")), status

    def _save(self, form, run):
        data = {name: form[name].data for name in FIELD_PROPERTIES}
        data["options"] = _options_from_form()
        kind = TYPES.get(data.get("type") or "")
        if kind is not None and not kind.filter_ops:
            data["filterable"] = False  # the box is hidden for types that cannot filter (多行文本)
        try:
            return run(data)
        except CrmError as error:
            attach_error(form, error)
            return None

    @expose("/<module>/add", methods=["GET", "POST"])
    @has_access
    def add(self, module):
        module = self._module(module)
        form = FieldForm()
        if request.method == "POST" and form.validate():
            row = self._save(form, lambda data: service.create_field(module, data))
            if row is not None:
                flash(_("The field %(label)s has been added.", label=row.label), "success")
                return redirect(url_for(".fields", module=module))
        elif request.method == "GET":
            form.filterable.data = form.list_default.data = True
        return self._form_page(module, form, options=_options_from_form() if request.method == "POST" else [])

    @expose("/field/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        row = self._field(pk)
        form = FieldForm(obj=row) if request.method == "GET" else FieldForm()
        if request.method == "GET":
            form.default.data = _default_for_form(row)
            for name in ("max_length", "min_value", "max_value"):
                value = getattr(row, name)
                form[name].data = "" if value is None else plain(value)  # 100000, not 100000.000000
        elif form.validate():
            saved = self._save(form, lambda data: service.update_field(pk, data))
            if saved is not None:
                flash(_("The field %(label)s has been saved.", label=saved.label), "success")
                return redirect(url_for(".fields", module=saved.module))
            row = self._field(pk)
        options = [{"id": o.id, "label": o.label, "retired": o.retired} for o in row.options] \
            if request.method == "GET" else _options_from_form()
        return self._form_page(row.module, form, row, options)

    @expose("/field/<int:pk>/delete", methods=["GET", "POST"])
    @has_access
    def delete(self, pk):
        row = self._field(pk)
        module, label = row.module, row.label
        if request.method == "POST":
            self._check_token()
            try:
                removed = service.delete_field(pk, confirm=request.form.get("confirm") == "1")
            except CrmError as error:
                flash(str(error.message), "danger")
            else:
                flash(_("The field %(label)s and %(n)d values have been deleted.", label=label, n=removed), "success")
                return redirect(url_for(".fields", module=module))
        return self.render_template("custom_fields/delete.html", row=row, count=value_count(module, row.id),
                                    module_label=module_label(module), title=_("Delete field"))

    @expose("/field/<int:pk>/move/<direction>", methods=["POST"])
    @has_access
    def move(self, pk, direction):
        self._check_token()
        row = self._field(pk)
        service.move_field(pk, -1 if direction == "up" else 1)
        return redirect(url_for(".fields", module=row.module))

    @expose("/field/<int:pk>/toggle", methods=["POST"])
    @has_access
    def toggle(self, pk):
        self._check_token()
        row = self._field(pk)
        service.set_hidden(pk, not row.hidden)
        return redirect(url_for(".fields", module=row.module))

    @expose("/<module>/reorder", methods=["POST"])
    @has_access
    def reorder(self, module):
        self._check_token()
        module = self._module(module)
        try:
            service.reorder(module, [i for i in request.form.get("order", "").split(",") if i])
        except CrmError as error:
            flash(str(error.message), "danger")
        return redirect(url_for(".fields", module=module))

    @expose("/<module>/preview")
    @has_access
    def preview(self, module):
        """The module's own add form, built the way its screen builds it for this request."""
        module = self._module(module)
        view = next((v for v in self.appbuilder.baseviews if getattr(getattr(v, "spec", None), "key", None) == module),
                    None)
        if view is None:
            abort(404)
        form = view.add_form.refresh()
        widgets = view._get_add_widget(form=form)
        return self.render_template("custom_fields/preview.html", widgets=widgets, module=module,
                                    module_label=module_label(module), fields=definitions(module),
                                    title=_("Preview: new %(module)s", module=module_label(module)))
