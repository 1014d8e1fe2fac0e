"""设置 → 角色权限: the two tabs of roles (客户管理角色 / 呼叫中心角色), 新建角色, and per role its 角色权限 page
(模块功能 matrix, 数据分析, 数据权限, field permissions). The rules live in app/roles.py."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app import fieldperms
from app import roles as role_service
from app.errors import CrmError
from app.extensions import db
from app.permissions import (ACTIONS, ANALYSIS, BUILTIN_ROLES, DATA_SCOPE_LABELS, FIELD_ACCESS_LABELS, MODULES,
                             ROLE_KINDS, ROLES, ROLES_ACTIONS)
from views.base import attach_error

ROLE_METHODS = {
    # screens
    "list": "view", "permissions": "view", "new": "edit", "rename": "edit", "copy": "edit", "delete": "edit",
    "save_permissions": "edit",
    # API (views/roles_api.py)
    "get_list": "view", "get": "view", "info": "view", "get_matrix": "view", "post": "edit", "put": "edit",
    "put_matrix": "edit", "copy_role": "edit",
}


def _kind_choices():
    return [(kind, label) for kind, label in ROLE_KINDS.items()]


class RoleForm(FlaskForm):
    name = StringField(_l("Role name"), validators=[DataRequired(), Length(max=64)], widget=BS3TextFieldWidget(),
                       description=_l("Roles are usually named after a job: customer service, finance, engineer..."))
    kind = SelectField(_l("Role type"), choices=_kind_choices, widget=Select2Widget())


class CopyForm(FlaskForm):
    name = StringField(_l("Name of the copy"), validators=[DataRequired(), Length(max=64)],
                       widget=BS3TextFieldWidget())


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the matrix and the delete button post through it."""


# ---------------------------------------------------------------- the 角色权限 page's content

def _module_fields(module: str) -> list[tuple[str, str, bool]]:
    """(field, label, maskable) for a module's field-permission section, in the screen's column order."""
    from views.modules import SPECS

    spec = next((s for s in SPECS if s.key == module), None)
    known = fieldperms.module_fields(module)
    if spec is None or not known:
        return []
    ordered = list(dict.fromkeys(list(spec.form_columns) + list(spec.list_columns) + list(spec.show_columns or ())
                                 + known))
    maskable = fieldperms.maskable_fields(module)
    labels = {**spec.labels, **fieldperms.custom_field_labels(module)}
    return [(f, str(labels.get(f, f)), f in maskable) for f in ordered if f in known]


def _matrix_columns() -> list[str]:
    """The actions, in ACTIONS order, that apply to at least one module."""
    used = {a for _label, actions in MODULES.values() for a in actions}
    return [a for a in ACTIONS if a in used]


def matrix_from_form(form) -> dict:
    """The posted 角色权限 form -> a whole matrix (an unticked box is a right removed)."""
    modules: dict[str, list[str]] = {m: [] for m in MODULES}
    for value in form.getlist("perm"):
        module, _sep, action = value.partition(":")
        modules.setdefault(module, []).append(action)
    fields: dict[str, dict[str, str]] = {}
    for key, value in form.items():
        if key.startswith("field:"):
            _prefix, module, field = key.split(":", 2)
            fields.setdefault(module, {})[field] = value
    return {"modules": modules, "analysis": form.getlist("analysis"),
            "data_scope": form.get("data_scope", ""), "fields": fields}


class RoleView(BaseView):
    route_base = "/roles"
    default_view = "list"
    class_permission_name = ROLES
    method_permission_name = ROLE_METHODS
    base_permissions = list(ROLES_ACTIONS)

    def _kind(self):
        kind = request.args.get("kind", "customer")
        return kind if kind in ROLE_KINDS else "customer"

    def _back(self, kind):
        return redirect(url_for(".list", kind=kind))

    @expose("/list/")
    @has_access
    def list(self):
        kind = self._kind()
        roles = role_service.list_roles(kind)
        counts = role_service.holder_counts([r.id for r in roles])
        scopes = {r.id: "all" if role_service.is_admin_role(r) else role_service.profile_of(r).data_scope
                  for r in roles}
        return self.render_template("roles/list.html", title=_("Role permissions"), kind=kind, kinds=ROLE_KINDS,
                                    roles=roles, counts=counts, scopes=scopes, scope_labels=DATA_SCOPE_LABELS,
                                    is_admin=role_service.is_admin_role, builtin=BUILTIN_ROLES,
                                    confirm=ConfirmForm())

    def _form_page(self, form, title, kind):
        return self.render_template("roles/form.html", form=form, title=title, kind=kind)

    @expose("/new/", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = RoleForm(kind=self._kind())
        if form.validate_on_submit():
            try:
                role = role_service.create_role(form.name.data, form.kind.data)
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(_("The role %(name)s has been created; now set its permissions.", name=role.name), "success")
                return redirect(url_for(".permissions", pk=role.id))
        return self._form_page(form, _("New role"), form.kind.data)

    @expose("/<int:pk>/rename/", methods=["GET", "POST"])
    @has_access
    def rename(self, pk):
        role = self._role(pk)
        kind = role_service.profile_of(role).kind
        form = RoleForm(name=role.name, kind=kind)
        if form.validate_on_submit():
            try:
                role_service.update_role(role.id, name=form.name.data, kind=form.kind.data)
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(_("The role has been saved."), "success")
                return self._back(form.kind.data)
        return self._form_page(form, _("Edit role"), kind)

    @expose("/<int:pk>/copy/", methods=["GET", "POST"])
    @has_access
    def copy(self, pk):
        role = self._role(pk)
        kind = role_service.profile_of(role).kind
        form = CopyForm(name=role_service.copy_name(role))
        if form.validate_on_submit():
            try:
                copy = role_service.copy_role(role.id, form.name.data)
            except CrmError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(_("The role %(name)s has been copied.", name=role.name), "success")
                return redirect(url_for(".permissions", pk=copy.id))
        return self._form_page(form, _("Copy role %(name)s", name=role.name), kind)

    @expose("/<int:pk>/delete/", methods=["POST"])
    @has_access
    def delete(self, pk):
        role = self._role(pk)
        kind = role_service.profile_of(role).kind
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            role_service.delete_role(role.id)
        except CrmError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(_("The role has been deleted."), "success")
        return self._back(kind)

    def _role(self, pk):
        try:
            return role_service.get_role(pk)
        except CrmError:
            abort(404)

    # -- 角色权限: 模块功能, 数据分析, 数据权限 and field permissions on one page

    def _permissions_page(self, role, matrix, form):
        admin = role_service.is_admin_role(role)
        granted = {(m, a) for m, actions in matrix.get("modules", {}).items() for a in actions}
        sections = [(m, MODULES[m][0], _module_fields(m)) for m in MODULES]
        return self.render_template(
            "roles/permissions.html", title=_("Role permissions"), role=role, admin=admin,
            kind=role_service.profile_of(role).kind, kinds=ROLE_KINDS, modules=MODULES, actions=ACTIONS,
            columns=_matrix_columns(), granted=granted, analysis=ANALYSIS,
            analysis_on=set(matrix.get("analysis", ())), scopes=DATA_SCOPE_LABELS,
            scope=matrix.get("data_scope"), sections=[s for s in sections if s[2]],
            field_access=matrix.get("fields", {}), access_labels=FIELD_ACCESS_LABELS, form=form)

    @expose("/<int:pk>/permissions/", methods=["GET"])
    @has_access
    def permissions(self, pk):
        role = self._role(pk)
        return self._permissions_page(role, role_service.read_matrix(role.id), ConfirmForm())

    @expose("/<int:pk>/permissions/", methods=["POST"])
    @has_access
    def save_permissions(self, pk):
        role = self._role(pk)
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        matrix = matrix_from_form(request.form)
        try:
            role_service.write_matrix(role.id, matrix)
        except CrmError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            return self._permissions_page(role, matrix, form)
        flash(_("The permissions of %(name)s have been saved.", name=role.name), "success")
        return redirect(url_for(".permissions", pk=role.id))
