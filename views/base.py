"""What every CRM screen shares: CRUD that goes through a service, so a refusal shows on the form
and nothing is half-saved, and one way to turn a domain error into an API answer."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from app.errors import CrmError, NotFound
from app.extensions import db
from app.inputs import parse_id


def format_time(value) -> str:
    """A time as screens show it: to the minute, never Python's str() with microseconds."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def attach_error(form, error: CrmError) -> None:
    """Show the refusal under its field when the form has it, else as a banner."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors or []) + [str(error.message)]
    else:
        flash(str(error.message), "danger")


class ServiceModelView(ModelView):
    """A ModelView whose add, edit and delete call `create_item`, `update_item`, `delete_item`."""

    def post_add_redirect(self):
        return redirect(url_for(f"{self.endpoint}.list"))

    def post_edit_redirect(self):
        return redirect(url_for(f"{self.endpoint}.list"))

    def render_template(self, template, **kwargs):
        """A page answering a POST is a form sent back with its errors (success redirects): 400, so a
        refusal is a refusal to the browser and to a script alike."""
        page = super().render_template(template, **kwargs)
        return (page, 400) if request.method == "POST" and isinstance(page, str) else page

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        """FAB's bulk-action entry, with the ticked ids checked: a missing, unknown or foreign rowid is a
        4xx in the user's language, and only records in the user's scope reach the action."""
        return self._run_action(request.form.get("action", ""), request.form.getlist("rowid"))

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        """FAB's one-record action (from a detail page), checked the same way."""
        return self._run_action(name, [pk])

    def _run_action(self, name, pks):
        action = self.actions.get(name)
        if action is None:
            raise CrmError(_l("Unknown action."))
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(action.name),
                                             self.class_permission_name):
            raise CrmError(_l("You do not have permission to do this."), status=403)
        ids = [parse_id(pk, "rowid", malformed_status=400) for pk in pks]
        if not ids:
            raise CrmError(_l("Please select at least one record."), field="rowid")
        items = [self.datamodel.get(pk, self._base_filters) for pk in dict.fromkeys(ids)]
        if any(item is None for item in items):
            raise NotFound(_l("This record does not exist."), field="rowid")
        return action.func(items)

    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        """FAB serves uploaded files here; CRM records have none."""
        raise NotFound(_l("This file does not exist."))

    def limit_form(self, form, creating: bool) -> None:
        """Per-request narrowing of a form (field permissions); nothing by default."""

    def create_item(self, form):
        raise NotImplementedError

    def update_item(self, item, form):
        raise NotImplementedError

    def delete_item(self, item):
        raise NotImplementedError

    def _add(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        self.limit_form(form, creating=True)
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                try:
                    self.create_item(form)
                except CrmError as error:
                    db.session.rollback()
                    attach_error(form, error)
                else:
                    flash(self.add_row_message, "success")
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self.limit_form(form, creating=False)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk
            if form.validate():
                try:
                    self.update_item(item, form)
                except CrmError as error:
                    db.session.rollback()
                    attach_error(form, error)
                else:
                    flash(self.edit_row_message, "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            self.limit_form(form, creating=False)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        # the edit template shows the related views as tabs (a customer's contacts, ...), as FAB's own _edit
        return self._get_related_views_widgets(item, filters={}, orders=get_order_args(), pages=get_page_args(),
                                               page_sizes=get_page_size_args(), widgets=widgets)

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            self.delete_item(item)
        except CrmError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(self.delete_row_message, "success")
        self.update_redirect()


# marshmallow's messages, in the user's language (patterns: marshmallow 3's defaults)
_SCHEMA_MESSAGES = (
    (r"Unknown field\.", _l("unknown field")),
    (r"Missing data for required field\.", _l("required")),
    (r"Field may not be null\.", _l("cannot be empty")),
    (r"Not a valid integer\.", _l("please enter a whole number")),
    (r"Not a valid (number|decimal)\.?", _l("please enter a number")),
    (r"Special numeric values \(nan or infinity\) are not permitted\.", _l("please enter a number")),
    (r"Not a valid string\.", _l("please enter text")),
    (r"Not a valid boolean\.", _l("please enter true or false")),
    (r"Not a valid (datetime|date)\.", _l("please enter a date like 2024-01-31")),
    (r"Not a valid (list|mapping type)\.", _l("the value has the wrong type")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", _l("%(min)s to %(max)s characters")),
    (r"Longer than maximum length (?P<max>\d+)\.", _l("at most %(max)s characters")),
    (r"Must be one of: (?P<choices>.*)\.", _l("must be one of: %(choices)s")),
    (r"Must be (greater than or equal to|less than or equal to|between) .*", _l("the number is out of range")),
)


def schema_error_text(messages) -> str:
    """{'gender': ['Must be one of: male, female.']} -> "gender：必须是以下之一：male, female" (the first error)."""
    import re

    field = None
    while isinstance(messages, dict) and messages:
        field, messages = next(iter(messages.items()))
    while isinstance(messages, (list, tuple)) and messages:
        messages = messages[0]
        if isinstance(messages, dict):
            return schema_error_text(messages)
    text = str(messages)
    for pattern, translated in _SCHEMA_MESSAGES:
        match = re.fullmatch(pattern, text)
        if match:
            text = str(translated) % match.groupdict() if match.groupdict() else str(translated)
            break
    return f"{field}：{text}" if field is not None else text


_FAB_400 = {
    "Not a valid rison/json argument": _l("The query (q) is not valid rison or JSON."),
    "Not a valid rison argument": _l("The query (q) is not valid rison or JSON."),
    "Request is not JSON": _l("The request body must be a JSON object."),
}


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class CrmModelRestApi(ModelRestApi):
    """ModelRestApi whose domain errors become 4xx JSON with a translated `message`."""

    def json_body(self) -> dict:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise CrmError(_l("The request body must be a JSON object."))
        return body

    def load_body(self, schema, body=None) -> dict:
        """The JSON body checked by a marshmallow schema; a wrong one is a CrmError naming the field."""
        body = self.json_body() if body is None else body
        try:
            return schema.load(body)
        except ValidationError as err:
            field_name = next(iter(err.messages), None) if isinstance(err.messages, dict) else None
            raise CrmError(_l("Invalid input: %(e)s", e=schema_error_text(err.messages)), field=field_name)

    def _answer(self, fn):
        """Run a write; a refusal rolls everything back and answers 4xx JSON."""
        try:
            return fn()
        except CrmError as error:
            db.session.rollback()
            return self.error_response(error)

    def _existing(self, pk):
        """The record within the caller's reach (the API's base filters), or 404."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            raise NotFound(_l("This record does not exist."))
        return item

    def error_response(self, error: CrmError):
        body = {"message": str(error.message)}
        if error.field:
            body["field"] = error.field
        return self.response(error.status, **body)

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        """FAB passes a missing label or description to gettext, and gettext("") is the catalog's
        header: answer "" for those instead."""
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        for key, declared in (("label", self.label_columns), ("description", self.description_columns)):
            if not declared.get(field.name):
                info[key] = "" if key == "description" else field.name
        return info

    def _handle_filters_args(self, rison_args):
        """The list's and the export's `filters`, each value checked against its column (400 otherwise)."""
        from views.datamodel import check_filter_values

        filters = super()._handle_filters_args(rison_args)
        check_filter_values(self.datamodel, filters)
        return filters

    def pre_get_list(self, data):
        from views.datamodel import CrmInterface

        super().pre_get_list(data)
        if isinstance(self.datamodel, CrmInterface) and data.get("count", 0) > self.datamodel.count_cap:
            data["count_capped"] = True  # counting stopped at the cap: page until a page comes back short

    # FAB's own answers, in the user's language
    def response_400(self, message=None):
        """FAB's own 400s (a `q` that fails its JSON schema, a wrong column) say why in English: keep the
        detail after a sentence in the user's language."""
        if not message:
            return self.response(400, message=_("The request is not valid."))
        if message in _FAB_400:
            message = _FAB_400[message]
        elif isinstance(message, str) and not _has_cjk(message):
            message = _("The request is not valid: %(detail)s", detail=message)
        return self.response(400, message=str(message))

    def response_401(self):
        return self.response(401, message=_("Please log in first."))

    def response_403(self):
        return self.response(403, message=_("You do not have permission to do this."))

    def response_404(self):
        return self.response(404, message=_("This record does not exist."))

    def response_422(self, message=None):
        return self.response(422, message=message or _("The data could not be processed."))

    def response_500(self, message=None):
        """FAB's @safe turns every exception into a 500; a refusal raised below a FAB handler (a filter
        value, an id) is still the caller's mistake and answers as such (sys.exc_info: we are inside
        @safe's except block)."""
        import sys

        from sqlalchemy.exc import DataError

        error = sys.exc_info()[1]
        if isinstance(error, CrmError):
            db.session.rollback()
            return self.error_response(error)
        if isinstance(error, (DataError, OverflowError)):  # a value no check caught (SQLite: past 2^63)
            db.session.rollback()
            return self.response(400, message=_("A value is not valid for this field (too long, too large or of "
                                                "the wrong kind)."))
        return self.response(500, message=_("Something went wrong on the server; please try again."))
