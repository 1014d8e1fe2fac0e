"""个人资料 → 修改密码: the screen and the API. The rule lives in app.sessions.change_own_password."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.views import SimpleFormView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import create_access_token
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from app import sessions
from app.errors import CrmError
from app.extensions import db
from app.organisation import MIN_PASSWORD_LENGTH
from views.base import CrmModelRestApi, attach_error

# the permission every role already holds for FAB's "reset my password" (app.permissions.EVERYONE)
PERMISSION_RESOURCE = "ResetMyPasswordView"


class ChangePasswordForm(DynamicForm):
    old_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                 widget=BS3PasswordFieldWidget())
    password = PasswordField(_l("New password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget(),
                             description=_l("At least %(n)d characters, not your mobile number.", n=MIN_PASSWORD_LENGTH))
    conf_password = PasswordField(_l("Confirm the new password"), widget=BS3PasswordFieldWidget(),
                                  validators=[DataRequired(), EqualTo("password",
                                                                      message=_l("The two passwords do not match."))])


class ChangePasswordView(SimpleFormView):
    route_base = "/resetmypassword"
    class_permission_name = PERMISSION_RESOURCE
    form = ChangePasswordForm
    form_title = _l("Change password")

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        self._init_vars()
        form = self.form.refresh()
        if form.validate_on_submit():
            try:
                sessions.change_own_password(g.user, form.old_password.data, form.password.data)
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(_("Your password has been changed. Your other logins have been logged out."), "success")
                return redirect(url_for("ProfileView.userinfo"))
        return self.render_template(self.form_template, title=self.form_title,
                                    widgets=self._get_edit_widget(form=form), appbuilder=self.appbuilder)


class MeApi(BaseApi):
    """The logged-in employee's own account."""

    resource_name = "me"
    openapi_spec_tag = "Me"
    class_permission_name = PERMISSION_RESOURCE
    method_permission_name = {"password": "this_form_post"}
    # the whole resource's pair, as the form view has it: a permission sync with only "post" here would try
    # to delete "get" from the resource every role holds (FAB refuses, with a warning on every `crm init`)
    base_permissions = ["can_this_form_get", "can_this_form_post"]
    allow_browser_login = True

    @api_expose("/password", methods=["POST"])
    @protect()
    @safe
    def password(self):
        """Change my password
        ---
        post:
          description: >-
            The current password is asked; the new one needs at least 8 characters and not the mobile number. Every other session and
            API token of the employee ends, including the token used for this call: use the access_token of
            the answer from now on. A browser session that calls this continues.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    old_password: {type: string}
                    new_password: {type: string}
                  required: [old_password, new_password]
          responses:
            200:
              description: the password is changed
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message: {type: string}
                      access_token: {type: string, description: a fresh token for this caller}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) or body.get(k) is None
                                                 for k in ("old_password", "new_password")):
            return self.response(400, message=_("The request body must be a JSON object."))
        try:
            sessions.change_own_password(g.user, body.get("old_password"), body.get("new_password"))
        except CrmError as error:
            db.session.rollback()
            answer = {"message": str(error.message)}
            if error.field:
                answer["field"] = {"password": "new_password"}.get(error.field, error.field)
            return self.response(error.status, **answer)
        return self.response(200, message=_("Your password has been changed. Your other logins have been "
                                             "logged out."),
                             access_token=create_access_token(identity=str(g.user.id), fresh=True))

    # FAB's own answers, in the user's language
    response_400 = CrmModelRestApi.response_400
    response_401 = CrmModelRestApi.response_401
    response_403 = CrmModelRestApi.response_403
    response_500 = CrmModelRestApi.response_500
