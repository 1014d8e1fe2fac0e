"""What every CRM screen shares: CRUD that goes through a service, so a refusal shows on the form
and nothing is half-saved, and one way to turn a domain error into an API answer."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from app.errors import CrmError, NotFound
from app.extensions import db


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
            raise CrmError(_l("Invalid input: %(e)s", e=err.messages), field=field_name)

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

    def pre_get_list(self, data):
        from views.datamodel import CrmInterface

        super().pre_get_list(data)
        if isinstance(self.datamodel, CrmInterface) and data.get("count", 0) > self.datamodel.count_cap:
            data["count_capped"] = True  # counting stopped at the cap: page until a page comes back short

    # FAB's own answers, in the user's language
    def response_400(self, message=None):
        return self.response(400, message=message or _("The request is not valid."))

    def response_401(self):
        return self.response(401, message=_("Please log in first."))

    def response_403(self):
        return self.response(403, message=_("You do not have permission to do this."))

    def response_404(self):
        return self.response(404, message=_("This record does not exist."))

    def response_422(self, message=None):
        return self.response(422, message=message or _("The data could not be processed."))

    def response_500(self, message=None):
        return self.response(500, message=_("Something went wrong on the server; please try again."))
