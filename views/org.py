"""设置 → 组织架构: the department tree and employees, with the account-state actions of the manual."""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import action, expose, has_access
from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget, Select2Widget
from views.datamodel import SafeInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import Schema, fields, validate
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional
from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2ManyWidget

from app import organisation as org
from app.permissions import ORGANISATION, ORGANISATION_ACTIONS
from app.errors import CrmError
from app.extensions import db
from app.inputs import is_id
from models.org import GENDER_CHOICES, Department, Employee
from views import lookups
from views.base import CrmModelRestApi, ServiceModelView, attach_error, format_time
from views.widgets import EmployeeSelectField

ORG_PERMISSION = ORGANISATION
# the four org screens share one resource; each declares all of its actions so that syncing one
# view's permissions never drops another's
ORG_BASE_PERMISSIONS = list(ORGANISATION_ACTIONS)
ORG_METHODS = {
    "list": "view", "show": "view", "add": "add", "edit": "edit", "delete": "delete", "download": "view",
    "api_read": "view", "api_get": "view", "get_list": "view", "get": "view", "info": "view",
    "post": "add", "put": "edit",
    "activate": "manage_accounts", "disable": "manage_accounts", "resign": "manage_accounts",
    "reset_password": "manage_accounts", "reset_login": "manage_accounts",
    "lookup": "view", "resign_form": "manage_accounts", "reset_password_form": "manage_accounts", "reset_login_form": "manage_accounts",
    "unlock": "manage_accounts",
}


def _departments():
    return db.session.query(Department).order_by(Department.path)


def _roles():
    from flask import current_app

    role = current_app.appbuilder.sm.role_model
    return db.session.query(role).order_by(role.id)


def _seats():
    from models.call import Seat

    return db.session.query(Seat).order_by(Seat.number)


def _seat_label(seat) -> str:
    """坐席账号1(剩余3142天6小时34分钟), and whose it is when taken."""
    taken = f" · {seat.employee.first_name}" if seat.employee else ""
    return seat.option_label() + taken


def _role_label(role) -> str:
    """The role with its kind, since an employee holds at most one of each kind."""
    from app.permissions import ROLE_KINDS
    from app.roles import profile_of

    return f"{role.name}（{ROLE_KINDS.get(profile_of(role).kind, '')}）"


def _pk(obj):
    return obj.id


def _id(obj):
    return obj.id if obj is not None else None


# ---------------------------------------------------------------- departments

class DepartmentView(ServiceModelView):
    datamodel = SafeInterface(Department)
    route_base = "/departments"
    class_permission_name = ORG_PERMISSION
    method_permission_name = ORG_METHODS
    base_permissions = ORG_BASE_PERMISSIONS
    list_title = add_title = edit_title = show_title = _l("Departments")
    list_columns = ["tree_label", "member_count", "sort_order"]
    add_columns = edit_columns = ["name", "parent", "sort_order"]
    show_columns = ["name", "parent", "sort_order", "created_at"]
    formatters_columns = {"created_at": format_time}
    search_columns = ["name"]
    base_order = ("path", "asc")
    page_size = 100
    label_columns = {
        "tree_label": _l("Department"), "member_count": _l("Employees"), "name": _l("Department name"), "parent": _l("Parent department"),
        "sort_order": _l("Order"), "created_at": _l("Created at"),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "parent": QuerySelectField(_l("Parent department"), query_func=_departments, get_pk_func=_pk,
                                   allow_blank=True, blank_text=_l("Please choose"), get_label="full_name",
                                   widget=Select2Widget()),
    }
    validators_columns = {"name": [DataRequired(), Length(max=64)]}

    def create_item(self, form):
        return org.create_department(form.name.data, _id(form.parent.data), form.sort_order.data or 0)

    def update_item(self, item, form):
        return org.update_department(item.id, name=form.name.data, parent_id=_id(form.parent.data),
                                     sort_order=form.sort_order.data or 0)

    def delete_item(self, item):
        org.delete_department(item.id)


# ---------------------------------------------------------------- employees

class ResignForm(FlaskForm):
    handover_to = EmployeeSelectField(  # typed: /employees/lookup/handover_to/?active=1
        _l("Hand customers over to"),
        description=_l("The leaver's customers go to this employee, or to the public pool when none is chosen."),
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget())


class ResetLoginForm(FlaskForm):
    mobile = StringField(_l("New login mobile"), validators=[DataRequired()], widget=BS3TextFieldWidget())
    password = PasswordField(_l("New password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget())


class EmployeeView(ServiceModelView):
    datamodel = SafeInterface(Employee)
    route_base = "/employees"
    class_permission_name = ORG_PERMISSION
    method_permission_name = ORG_METHODS
    base_permissions = ORG_BASE_PERMISSIONS
    list_title = _l("Employees")
    list_template = "org/employee_list.html"  # FAB's list with a legend of the state dots
    show_template = "org/employee_show.html"  # with 解除锁定 while the account is locked
    add_title = _l("New employee")
    edit_title = _l("Edit employee")
    show_title = _l("Employee")
    list_columns = ["name_badge", "username", "seat_number", "gender_label", "department_name", "role_names",
                    "manager_name"]
    show_columns = ["first_name", "username", "state_badge", "seat_number", "gender_label", "department_name",
                    "role_names", "manager_name", "last_login", "created_on"]
    add_columns = ["first_name", "department", "mobile", "password", "seat", "roles", "gender", "manager"]
    edit_columns = ["first_name", "department", "seat", "roles", "gender", "manager"]
    search_columns = ["first_name", "username", "department", "state", "manager", "roles"]
    order_columns = ["username"]
    base_order = ("id", "asc")
    label_columns = {
        "name_badge": _l("Employee name"), "first_name": _l("Name"), "username": _l("Login (mobile)"),
        "mobile": _l("Login (mobile)"), "password": _l("Login password"), "gender": _l("Gender"),
        "gender_label": _l("Gender"), "department": _l("Department"), "roles": _l("Role"),
        "manager": _l("Direct manager"), "department_name": _l("Department"), "role_names": _l("Role"),
        "manager_name": _l("Direct manager"), "state": _l("Account state"), "state_badge": _l("Account state"),
        "last_login": _l("Last login"), "created_on": _l("Created at"), "seat": _l("Bound seat"),
        "seat_number": _l("Seat number (call center)"),
    }
    formatters_columns = {"last_login": format_time, "created_on": format_time}  # no microseconds on screen
    description_columns = {
        "mobile": _l("The employee logs in with this mobile number."),
        "password": _l("The initial login password: at least 8 characters, not the mobile number."),
    }
    add_form_extra_fields = {
        "mobile": StringField(_l("Login (mobile)"), validators=[DataRequired()], widget=BS3TextFieldWidget()),
        "password": PasswordField(_l("Login password"), validators=[DataRequired()], widget=BS3PasswordFieldWidget()),
        "gender": SelectField(_l("Gender"), choices=GENDER_CHOICES, validators=[Optional()], widget=Select2Widget()),
        "department": QuerySelectField(_l("Department"), query_func=_departments, get_pk_func=_pk,
                                       get_label="full_name", allow_blank=True, blank_text=_l("Please choose"),
                                       validators=[DataRequired()], widget=Select2Widget()),
        "manager": EmployeeSelectField(_l("Direct manager")),  # typed: /employees/lookup/manager/?active=1
        "seat": QuerySelectField(_l("Bound seat"), query_func=_seats, get_pk_func=_pk, get_label=_seat_label,
                                 allow_blank=True, blank_text=_l("Choose a seat"), widget=Select2Widget(),
                                 description=_l("The seat (坐席号) this employee calls from; one seat per employee.")),
        "roles": QuerySelectMultipleField(_l("Role"), query_func=_roles, get_pk_func=_pk, get_label=_role_label,
                                          widget=Select2ManyWidget(),
                                          description=_l("At most one customer management role and one "
                                                         "call-center role.")),
    }
    edit_form_extra_fields = {k: v for k, v in add_form_extra_fields.items()
                              if k in ("gender", "department", "manager", "roles", "seat")}
    # the 直属上级 filter: typed too (FAB's own would list every account of the company)
    search_form_extra_fields = {"manager": EmployeeSelectField(_l("Direct manager"), active_only=False)}
    validators_columns = {"first_name": [DataRequired(), Length(max=64)]}

    def create_item(self, form):
        return org.create_employee(
            name=form.first_name.data, mobile=form.mobile.data, password=form.password.data,
            department_id=_id(form.department.data), role_ids=[r.id for r in form.roles.data or []],
            manager_id=_id(form.manager.data), gender=form.gender.data, seat_id=_id(form.seat.data),
        )

    def update_item(self, item, form):
        return org.update_employee(
            item.id, name=form.first_name.data, department_id=_id(form.department.data),
            role_ids=[r.id for r in form.roles.data or []], manager_id=_id(form.manager.data),
            gender=form.gender.data, seat_id=_id(form.seat.data),
        )

    def delete_item(self, item):
        raise CrmError(_l("Employees are not deleted: disable the account or resign the employee instead."))

    # -- the manual's account actions, on one employee or on several ticked at once

    def _back(self):
        """Back to the employee list the action was started from (its filters and page), never the home page."""
        from urllib.parse import urlsplit

        target = url_for(".list")
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path == target:
            target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        return redirect(target)

    def _run(self, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except CrmError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return False
        return True

    @action("activate", _l("Activate"), _l("Activate the selected accounts?"), "fa-check-circle")
    def activate(self, items):
        items = items if isinstance(items, list) else [items]
        if self._run(org.activate_employees, [i.id for i in items]):
            flash(_("%(n)d account(s) activated.", n=len(items)), "success")
        return self._back()

    @action("disable", _l("Disable"), _l("Disable the selected accounts? They are logged out at once and their seats are freed."), "fa-ban")
    def disable(self, items):
        items = items if isinstance(items, list) else [items]
        seated = [(i.first_name, i.seat.number) for i in items if i.seat is not None]
        if self._run(org.disable_employees, [i.id for i in items], acting=g.user):
            flash(_("%(n)d account(s) disabled.", n=len(items)), "success")
            if seated:
                flash(_("Seats freed: %(s)s", s="、".join(f"{name} → {number}" for name, number in seated)), "info")
        return self._back()

    @action("resign", _l("Resign"), None, "fa-sign-out")
    def resign(self, items):
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(".resign_form", ids=",".join(str(i.id) for i in items)))

    @action("reset_password", _l("Reset password"), None, "fa-key")
    def reset_password(self, items):
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(".reset_password_form", ids=",".join(str(i.id) for i in items)))

    @action("reset_login", _l("Reset login account"), None, "fa-mobile")
    def reset_login(self, items):
        items = items if isinstance(items, list) else [items]
        if len(items) != 1:
            flash(_("Please select exactly one employee to reset the login account."), "warning")
            return self._back()
        return redirect(url_for(".reset_login_form", ids=str(items[0].id)))

    def _selected(self):
        ids = [i for i in request.args.get("ids", "").split(",") if i.strip()]
        try:
            return [org.get_employee(i) for i in ids]
        except CrmError:
            return []

    def _account_form(self, form, title, submit):
        employees = self._selected()
        if not employees:
            flash(_("Please select at least one employee."), "warning")
            return redirect(url_for(".list"))
        if request.method == "POST" and form.validate():
            try:
                message = submit(employees, form)
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(message, "success")
                return redirect(url_for(".list"))
        return self.render_template("org/account_action.html", form=form, title=title, employees=employees)

    @expose("/resign/", methods=["GET", "POST"])
    @has_access
    def resign_form(self):
        def submit(employees, form):
            org.resign_employees([e.id for e in employees], _id(form.handover_to.data), acting=g.user)
            return _("%(n)d employee(s) resigned.", n=len(employees))

        form = ResignForm()
        # never the leavers themselves, nor a disabled, not-activated or resigned account
        form.handover_to.exclude = [e.id for e in self._selected()]
        return self._account_form(form, _("Resign"), submit)

    @expose("/lookup/<column>/")
    @has_access
    def lookup(self, column):
        """The employee pickers of these screens (直属上级, 交接给, the 直属上级 filter): matches of `q` among the
        employees within the viewer's data scope, the active ones only with active=1 (views/lookups.py)."""
        if column not in ("manager", "handover_to"):
            abort(404)
        exclude = [int(i) for i in request.args.get("exclude", "").split(",")[:1000] if is_id(i)]
        return jsonify(results=lookups.employees(request.args.get("q", ""), g.user,
                                                 active_only=request.args.get("active") == "1", exclude=exclude))

    @expose("/reset-password/", methods=["GET", "POST"])
    @has_access
    def reset_password_form(self):
        def submit(employees, form):
            for employee in employees:
                org.reset_password(employee.id, form.password.data)
            return _("The password has been reset.")

        return self._account_form(ResetPasswordForm(), _("Reset password"), submit)

    @expose("/unlock/<int:pk>", methods=["POST"])
    @has_access
    def unlock(self, pk):
        """解除锁定 (the button on a locked employee's page): audited as lockout_lifted."""
        from app.lockout import lift_employee_lock

        if self._run(lift_employee_lock, pk):
            flash(_("The lockout has been lifted; the employee can log in again."), "success")
        return redirect(url_for(".show", pk=pk))

    @expose("/reset-login/", methods=["GET", "POST"])
    @has_access
    def reset_login_form(self):
        def submit(employees, form):
            org.reset_login(employees[0].id, form.mobile.data, form.password.data)
            return _("The login account has been reset.")

        return self._account_form(ResetLoginForm(), _("Reset login account"), submit)


# ---------------------------------------------------------------- REST API

class DepartmentPostSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    parent = fields.Integer(allow_none=True, load_default=None)
    sort_order = fields.Integer(load_default=0)


class DepartmentPutSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=64))
    parent = fields.Integer(allow_none=True)
    sort_order = fields.Integer()


class ServiceRestApi(CrmModelRestApi):
    """Writes go through the organisation services; reads are FAB's."""

    def _show(self, item, status=200):
        return self.response(status, id=item.id, result=self.show_model_schema.dump(item))

    def post_headless(self):
        return self._answer(lambda: self._show(self.create(self.load_body(self.add_model_schema)), 201))

    def put_headless(self, pk):
        return self._answer(lambda: self._show(self.update(self._existing(pk), self.load_body(self.edit_model_schema))))

    def delete_headless(self, pk):
        def run():
            self.remove(self._existing(pk))
            return self.response(200, message="OK")

        return self._answer(run)



class DepartmentApi(ServiceRestApi):
    resource_name = "department"
    datamodel = SafeInterface(Department)
    class_permission_name = ORG_PERMISSION
    method_permission_name = ORG_METHODS
    base_permissions = ORG_BASE_PERMISSIONS
    allow_browser_login = True
    list_columns = show_columns = ["id", "name", "parent_id", "path", "sort_order"]
    add_columns = ["name", "parent", "sort_order"]
    edit_columns = ["name", "parent", "sort_order"]
    label_columns = {"id": "ID", "name": _l("Department name"), "parent": _l("Parent department"),
                     "parent_id": _l("Parent department"), "path": _l("Path"), "sort_order": _l("Order")}
    description_columns = {"parent": _l("Department id of the parent; empty for a top-level department")}
    add_model_schema = DepartmentPostSchema()
    edit_model_schema = DepartmentPutSchema()
    order_columns = ["id", "name", "path", "sort_order"]
    search_columns = ["name", "parent_id", "path"]
    base_order = ("path", "asc")

    def create(self, data):
        return org.create_department(data["name"], data.get("parent"), data.get("sort_order", 0))

    def update(self, item, data):
        return org.update_department(item.id, name=data.get("name"), parent_id=data.get("parent", ...),
                                     sort_order=data.get("sort_order"))

    def remove(self, item):
        org.delete_department(item.id)


class EmployeePostSchema(Schema):
    name = fields.String(required=True)
    mobile = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    department = fields.Integer(required=True)
    roles = fields.List(fields.Integer(), load_default=list)
    manager = fields.Integer(allow_none=True, load_default=None)
    gender = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(["male", "female", ""]))


class EmployeePutSchema(Schema):
    name = fields.String()
    department = fields.Integer()
    roles = fields.List(fields.Integer())
    manager = fields.Integer(allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(["male", "female", ""]))


class HandoverSchema(Schema):
    handover_to = fields.Integer(required=True, allow_none=True)


class PasswordSchema(Schema):
    password = fields.String(required=True)


class LoginSchema(Schema):
    mobile = fields.String(required=True)
    password = fields.String(required=True)


class EmployeeApi(ServiceRestApi):
    resource_name = "employee"
    datamodel = SafeInterface(Employee)
    class_permission_name = ORG_PERMISSION
    method_permission_name = ORG_METHODS
    base_permissions = ORG_BASE_PERMISSIONS
    allow_browser_login = True
    list_columns = show_columns = [
        "id", "first_name", "username", "mobile", "gender", "state", "department.id", "department.name",
        "manager.id", "manager.first_name", "roles.id", "roles.name", "last_login", "is_locked",
    ]
    label_columns = {
        "first_name": _l("Name"), "name": _l("Name"), "username": _l("Login (mobile)"), "mobile": _l("Mobile"),
        "password": _l("Login password"), "gender": _l("Gender"), "state": _l("Account state"),
        "department": _l("Department"), "roles": _l("Role"), "manager": _l("Direct manager"),
        "last_login": _l("Last login"), "is_locked": _l("Locked"),
    }
    description_columns = {
        "mobile": _l("The employee logs in with this mobile number."),
        "password": _l("The initial login password: at least 8 characters, not the mobile number."),
        "department": _l("Department id"), "roles": _l("Role ids: at most one of each kind"),
        "manager": _l("Employee id of the direct manager"), "gender": _l("male or female"),
        "name": _l("The employee's name"),
    }
    add_columns = ["name", "mobile", "password", "department", "roles", "manager", "gender"]
    edit_columns = ["name", "department", "roles", "manager", "gender"]
    add_model_schema = EmployeePostSchema()
    edit_model_schema = EmployeePutSchema()
    order_columns = ["id", "first_name", "username", "state"]
    search_columns = ["first_name", "username", "mobile", "state", "department", "manager"]
    openapi_spec_component_schemas = (HandoverSchema, PasswordSchema, LoginSchema)
    base_order = ("id", "asc")

    def create(self, data):
        return org.create_employee(
            name=data["name"], mobile=data["mobile"], password=data["password"], department_id=data["department"],
            role_ids=data["roles"], manager_id=data["manager"], gender=data["gender"],
        )

    def update(self, item, data):
        mapping = {"name": "name", "department": "department_id", "roles": "role_ids", "manager": "manager_id",
                   "gender": "gender"}
        return org.update_employee(item.id, **{mapping[k]: v for k, v in data.items()})

    def remove(self, item):
        raise CrmError(_l("Employees are not deleted: disable the account or resign the employee instead."))

    def _state_action(self, pk, run):
        def answer():
            employee = self._existing(pk)
            run(employee)
            db.session.refresh(employee)
            return self._show(employee)

        return self._answer(answer)

    @api_expose("/<int:pk>/activate", methods=["POST"])
    @protect()
    @safe
    def activate(self, pk):
        """Activate an account (未激活 or 禁用 → 激活).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          responses:
            200: {description: The employee, now active}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        return self._state_action(pk, lambda e: org.activate_employees([e.id]))

    @api_expose("/<int:pk>/disable", methods=["POST"])
    @protect()
    @safe
    def disable(self, pk):
        """Disable an account; its open sessions and API tokens stop working at once.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          responses:
            200: {description: The employee, now disabled}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        return self._state_action(pk, lambda e: org.disable_employees([e.id], acting=g.user))

    @api_expose("/<int:pk>/resign", methods=["POST"])
    @protect()
    @safe
    def resign(self, pk):
        """办理离职: end the account and hand the customers to `handover_to` (null: the public pool).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/HandoverSchema'}
          responses:
            200: {description: The employee, now resigned}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        return self._state_action(
            pk, lambda e: org.resign_employees([e.id], self.load_body(HandoverSchema())["handover_to"], acting=g.user)
        )

    @api_expose("/<int:pk>/reset_password", methods=["POST"])
    @protect()
    @safe
    def reset_password(self, pk):
        """Set a new password; open sessions and tokens end.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/PasswordSchema'}
          responses:
            200: {description: The employee}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        return self._state_action(pk, lambda e: org.reset_password(e.id, self.load_body(PasswordSchema())["password"]))

    @api_expose("/<int:pk>/unlock", methods=["POST"])
    @protect()
    @safe
    def unlock(self, pk):
        """解除锁定: lift the lockout of an account locked after failed logins (audited as lockout_lifted).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          responses:
            200: {description: The employee, who can log in again}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        from app.lockout import lift_employee_lock

        return self._state_action(pk, lambda e: lift_employee_lock(e.id))

    @api_expose("/<int:pk>/reset_login", methods=["POST"])
    @protect()
    @safe
    def reset_login(self, pk):
        """重置登录账号: a new login mobile and password; open sessions and tokens end.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/LoginSchema'}
          responses:
            200: {description: The employee}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        def run(employee):
            data = self.load_body(LoginSchema())
            org.reset_login(employee.id, data["mobile"], data["password"])

        return self._state_action(pk, run)
