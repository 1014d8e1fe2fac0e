"""坐席列表 screens and API that are not plain CRUD: 选择 → 更换绑定 (SMS code) and 续费. The list itself is a
ModuleSpec in views/modules.py; the rules are app/seats.py and app/sms.py."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import Schema, fields
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app import seats
from app.errors import CrmError
from app.extensions import db
from views.base import attach_error
from views.widgets import EmployeeSelectField


# ---------------------------------------------------------------- seats: 更换绑定, 续费

class SeatBindForm(FlaskForm):
    mobile = StringField(_l("Mobile to bind to the seat"), validators=[DataRequired(), Length(max=20)],
                         widget=BS3TextFieldWidget())
    code = StringField(_l("Verification code"), validators=[Optional(), Length(max=10)], widget=BS3TextFieldWidget(),
                       description=_l("Enter the code the mobile received."))
    employee = EmployeeSelectField(_l("Employee"))  # typed: /seat/lookup/employee/?active=1, within the scope


class SeatExtendForm(FlaskForm):
    days = IntegerField(_l("Extend by (days)"), validators=[DataRequired(), NumberRange(1, 10950)],
                        widget=BS3TextFieldWidget())


class SeatViewMixin:
    route_permissions = {"bind": "edit", "extend": "edit"}

    @expose("/bind/<int:pk>/", methods=["GET", "POST"])
    @has_access
    def bind(self, pk):
        """选择 → 更换绑定: new mobile → 获取验证码 → the code → the employee → 确定."""
        try:
            seat = seats.get_seat(pk)
        except CrmError:
            abort(404)
        form = SeatBindForm(obj=None)
        if request.method == "GET":
            form.mobile.data = seat.bound_mobile
            form.employee.data = seat.employee
        elif form.validate():
            try:
                if "send_code" in request.form:
                    seats.send_binding_code(seat.id, form.mobile.data)
                    flash(_("A verification code was sent to %(m)s.", m=form.mobile.data.strip()), "info")
                else:
                    if not (form.code.data or "").strip():
                        raise CrmError(_l("Please enter the verification code."), field="code")
                    if form.employee.data is None:
                        raise CrmError(_l("Please choose the employee."), field="employee")
                    seats.bind(seat.id, form.mobile.data, form.code.data, form.employee.data.id)
                    flash(_("Seat %(seat)s is now bound to %(m)s (%(name)s).", seat=seat.number,
                            m=form.mobile.data.strip(), name=form.employee.data.first_name), "success")
                    return redirect(url_for(".list"))
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
        return self.render_template("calls/seat_bind.html", form=form, seat=db.session.get(type(seat), pk),
                                    title=_("Change binding"))

    @expose("/extend/<int:pk>/", methods=["GET", "POST"])
    @has_access
    def extend(self, pk):
        try:
            seat = seats.get_seat(pk)
        except CrmError:
            abort(404)
        form = SeatExtendForm()
        if request.method == "POST" and form.validate():
            try:
                seat = seats.extend_seat(pk, form.days.data)
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(_("Seat %(seat)s now runs until %(at)s.", seat=seat.number,
                        at=seat.expires_at.strftime("%Y-%m-%d %H:%M")), "success")
                return redirect(url_for(".list"))
        return self.render_template("crm/action_form.html", form=form, title=_("Extend seat %(s)s", s=seat.number),
                                    count=1)


class SeatService:
    @staticmethod
    def create(data, user):
        return seats.create_seat(_seat_data(data))

    @staticmethod
    def update(item, data, user):
        return seats.update_seat(item.id, _seat_data(data))

    @staticmethod
    def delete(item, user):
        seats.delete_seat(item.id)


def _seat_data(data):
    clean = dict(data)
    if "employee" in clean:
        clean.pop("employee")  # the employee changes through 更换绑定 or the employee form only
    return clean


class SendCodeSchema(Schema):
    mobile = fields.String(required=True)


class BindSchema(Schema):
    mobile = fields.String(required=True)
    code = fields.String(required=True)
    employee = fields.Integer(required=True)


class ExtendSchema(Schema):
    days = fields.Integer(required=True)


class SeatApiMixin:
    routes = ("send_code", "bind", "extend")
    route_permissions = {"send_code": "edit", "bind": "edit", "extend": "edit"}

    @api_expose("/<int:pk>/send_code", methods=["POST"])
    @protect()
    @safe
    def send_code(self, pk):
        """获取验证码: send a code to the mobile to be bound to the seat.
        ---
        post:
          parameters: [{in: path, name: pk, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object,
            properties: {mobile: {type: string}}, required: [mobile]}}}}
          responses:
            200: {description: the code was sent (through the configured SMS gateway)}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            429: {description: asked too often (once a minute, 10 a day per number)}
        """
        def run():
            self._existing(pk)
            body = self.load_body(SendCodeSchema())
            code = seats.send_binding_code(pk, body["mobile"])
            return self.response(200, message=_("A verification code was sent to %(m)s.", m=code.mobile),
                                 expires_at=code.expires_at.isoformat())
        return self._answer(run)

    @api_expose("/<int:pk>/bind", methods=["POST"])
    @protect()
    @safe
    def bind(self, pk):
        """更换绑定: the code proves the mobile; the seat gets the mobile and the employee.
        ---
        post:
          parameters: [{in: path, name: pk, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object,
            properties: {mobile: {type: string}, code: {type: string}, employee: {type: integer}},
            required: [mobile, code, employee]}}}}
          responses:
            200: {description: the seat, bound}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        def run():
            self._existing(pk)
            body = self.load_body(BindSchema())
            seat = seats.bind(pk, body["mobile"], body["code"], body["employee"])
            return self.response(200, result=self.show_model_schema.dump(seat))
        return self._answer(run)

    @api_expose("/<int:pk>/extend", methods=["POST"])
    @protect()
    @safe
    def extend(self, pk):
        """续费: add days to the seat's subscription.
        ---
        post:
          parameters: [{in: path, name: pk, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object,
            properties: {days: {type: integer}}, required: [days]}}}}
          responses:
            200: {description: the seat}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        def run():
            self._existing(pk)
            seat = seats.extend_seat(pk, self.load_body(ExtendSchema())["days"])
            return self.response(200, result=self.show_model_schema.dump(seat))
        return self._answer(run)
