"""设置: option lists (客户状态, 客户级别, ...) and the public-pool rules."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder import SimpleFormView
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from views.datamodel import SafeInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_appbuilder.forms import DynamicForm
from wtforms import IntegerField, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from app import choices as choice_service
from app.customers import pool_rules
from app.errors import unit_of_work
from app.permissions import SETTINGS
from models.choices import CHOICE_KINDS, Choice
from views.base import ServiceModelView

SETTINGS_METHODS = {"list": "view", "show": "view", "add": "edit", "edit": "edit", "delete": "edit",
                    "download": "view", "this_form_get": "view", "this_form_post": "edit"}
SETTINGS_PERMISSIONS = ["can_view", "can_edit"]


class ChoiceView(ServiceModelView):
    datamodel = SafeInterface(Choice)
    route_base = "/options"
    class_permission_name = SETTINGS
    method_permission_name = SETTINGS_METHODS
    base_permissions = SETTINGS_PERMISSIONS
    list_title = add_title = edit_title = show_title = _l("Option lists")
    list_columns = ["kind_label", "name", "sort_order", "retired"]
    add_columns = ["kind", "name", "sort_order"]
    edit_columns = ["name", "sort_order", "retired"]
    search_columns = ["kind", "name", "retired"]
    base_order = ("kind", "asc")
    page_size = 100
    label_columns = {"kind_label": _l("List"), "kind": _l("List"), "name": _l("Option"), "sort_order": _l("Order"),
                     "retired": _l("Retired")}
    description_columns = {"retired": _l("A retired option is no longer offered; records that hold it keep it.")}
    add_form_extra_fields = {
        "kind": SelectField(_l("List"), choices=[(k, v[0]) for k, v in CHOICE_KINDS.items()], validators=[DataRequired()],
                            widget=Select2Widget()),
    }
    formatters_columns = {"retired": lambda v: _("Yes") if v else ""}

    def create_item(self, form):
        return choice_service.create_choice(form.kind.data, form.name.data, form.sort_order.data or 0)

    def update_item(self, item, form):
        return choice_service.update_choice(item.id, form.name.data, form.sort_order.data or 0, form.retired.data)

    def delete_item(self, item):
        choice_service.delete_choice(item.id)


class PoolRulesForm(DynamicForm):
    daily_claim_limit = IntegerField(_l("Daily claim limit per employee"), validators=[InputRequired(), NumberRange(0, 100_000)],
                                     widget=BS3TextFieldWidget(), description=_l("0 = no limit"))
    reclaim_cooldown_days = IntegerField(_l("Days before an ex-owner may claim a customer again"),
                                         validators=[InputRequired(), NumberRange(0, 36_500)], widget=BS3TextFieldWidget(),
                                         description=_l("0 = no limit"))
    max_owned = IntegerField(_l("Most customers one employee may own"), validators=[InputRequired(), NumberRange(0, 10_000_000)],
                             widget=BS3TextFieldWidget(), description=_l("0 = no limit"))
    auto_release_days = IntegerField(_l("Return to the pool after this many days without a follow-up"),
                                     validators=[InputRequired(), NumberRange(0, 36_500)], widget=BS3TextFieldWidget(),
                                     description=_l("0 = never; run `flask crm pool-reclaim` daily"))


class PoolRulesView(SimpleFormView):
    route_base = "/pool-rules"
    class_permission_name = SETTINGS
    method_permission_name = SETTINGS_METHODS
    base_permissions = SETTINGS_PERMISSIONS
    form = PoolRulesForm
    form_title = _l("Public pool rules")

    def form_get(self, form):
        rules = pool_rules()
        for name in ("daily_claim_limit", "reclaim_cooldown_days", "max_owned", "auto_release_days"):
            form[name].data = getattr(rules, name)

    def form_post(self, form):
        with unit_of_work():
            rules = pool_rules()
            for name in ("daily_claim_limit", "reclaim_cooldown_days", "max_owned", "auto_release_days"):
                setattr(rules, name, form[name].data)
        flash(_("The public pool rules have been saved."), "success")
        return redirect(url_for(".this_form_get"))  # stay on the rules page (FAB's default is the home page)
