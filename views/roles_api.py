"""/api/v1/role/: roles (list with q, get, post, put, delete, _info) and each role's matrix
(GET/PUT /api/v1/role/<pk>/matrix). Thin handlers: the rules are in app/roles.py."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from views.datamodel import SafeInterface
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from app import roles as role_service
from app.errors import NotFound
from app.permissions import ADMIN_ROLE, ANALYSIS, BUILTIN_ROLES, MODULES, ROLE_KINDS, ROLES, ROLES_ACTIONS
from models.roles import DATA_SCOPES, FIELD_ACCESS, RoleProfile
from views.base import CrmModelRestApi
from views.roles import ROLE_METHODS


class RoleSchema(Schema):
    """A role as the API shows it (the row behind it is its RoleProfile; `id` is the role's id)."""

    id = fields.Integer(attribute="role_id", dump_only=True)
    name = fields.Function(lambda profile: profile.role.name, dump_only=True)
    kind = fields.String(metadata={"enum": list(ROLE_KINDS)})
    data_scope = fields.String(metadata={"enum": list(DATA_SCOPES)})
    builtin = fields.Function(lambda profile: profile.role.name == ADMIN_ROLE or profile.role.name in BUILTIN_ROLES,
                              dump_only=True, metadata={"description": "created by `crm init`"})


class RoleListSchema(RoleSchema):
    pass


class RoleShowSchema(RoleSchema):
    pass


_NAME = {"description": "the role's name, unique"}
_KIND = {"description": "customer (客户管理角色) or call_center (呼叫中心角色); an employee holds one of each at most"}


class RolePostSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata=_NAME)
    kind = fields.String(load_default="customer", validate=validate.OneOf(list(ROLE_KINDS)), metadata=_KIND)


class RolePutSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=64), metadata=_NAME)
    kind = fields.String(validate=validate.OneOf(list(ROLE_KINDS)), metadata=_KIND)


class RoleCopySchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=64),
                         metadata={"description": "the copy's name; default: \"<name> 副本\""})


class RoleMatrixSchema(Schema):
    """A role's permissions. On PUT each key present replaces that part; a key left out is kept."""

    modules = fields.Dict(keys=fields.String(validate=validate.OneOf(list(MODULES))),
                          values=fields.List(fields.String()),
                          metadata={"description": "module key -> its granted actions; a module left out has "
                                                   "none. Actions per module: " + "; ".join(
                                                       f"{m}: {', '.join(a)}" for m, (_l_, a) in MODULES.items())})
    analysis = fields.List(fields.String(validate=validate.OneOf(list(ANALYSIS))),
                           metadata={"description": "data-center statistics the role may see"})
    data_scope = fields.String(validate=validate.OneOf(list(DATA_SCOPES)))
    fields_ = fields.Dict(data_key="fields", keys=fields.String(),
                          values=fields.Dict(keys=fields.String(), values=fields.String(
                              validate=validate.OneOf(list(FIELD_ACCESS)))),
                          metadata={"description": "module key -> {field: access}; a field left out is editable; "
                                                   "only mobile fields can be masked (138****8000)"})


class RoleApi(CrmModelRestApi):
    resource_name = "role"
    datamodel = SafeInterface(RoleProfile)
    class_permission_name = ROLES
    method_permission_name = ROLE_METHODS
    base_permissions = list(ROLES_ACTIONS)
    allow_browser_login = True
    list_columns = show_columns = ["role_id", "kind", "data_scope", "role.name"]
    list_model_schema = RoleListSchema()
    show_model_schema = RoleShowSchema()
    list_title = show_title = _l("Role permissions")
    add_title = _l("New role")
    edit_title = _l("Edit role")
    add_columns = ["name", "kind"]
    edit_columns = ["name", "kind"]
    add_model_schema = RolePostSchema()
    edit_model_schema = RolePutSchema()
    search_columns = ["kind", "data_scope"]
    order_columns = ["role_id", "kind", "data_scope"]
    base_order = ("role_id", "asc")
    label_columns = {"role_id": _l("Role"), "kind": _l("Role type"), "data_scope": _l("Data permission"),
                     "role.name": _l("Role name"), "name": _l("Role name")}
    # FAB's _info translates an empty label or description into the catalogue's header: give every column both
    description_columns = {"name": _l("The role's name, unique."),
                           "kind": _l("An employee holds at most one role of each type.")}
    openapi_spec_component_schemas = (RoleMatrixSchema, RoleCopySchema)

    def _show(self, role, status=200):
        profile = role_service.profile_of(role)
        return self.response(status, id=role.id, result=self.show_model_schema.dump(profile))

    def _existing(self, pk):
        if self.datamodel.get(pk, self._base_filters) is None:
            raise NotFound(_l("This role does not exist."))
        return role_service.get_role(pk)

    def post_headless(self):
        def run():
            data = self.load_body(self.add_model_schema)
            return self._show(role_service.create_role(data["name"], data["kind"]), 201)

        return self._answer(run)

    def put_headless(self, pk):
        def run():
            role = self._existing(pk)
            data = self.load_body(self.edit_model_schema)
            return self._show(role_service.update_role(role.id, name=data.get("name"), kind=data.get("kind")))

        return self._answer(run)

    def delete_headless(self, pk):
        def run():
            role_service.delete_role(self._existing(pk).id)
            return self.response(200, message="OK")

        return self._answer(run)

    @expose("/<int:pk>/matrix", methods=["GET"])
    @protect()
    @safe
    def get_matrix(self, pk):
        """A role's permissions: 模块功能, 数据分析, 数据权限 and field permissions.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          responses:
            200:
              description: The role's matrix
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/RoleMatrixSchema'}
            404: {$ref: '#/components/responses/404'}
        """
        return self._answer(lambda: self.response(200, **role_service.read_matrix(self._existing(pk).id)))

    @expose("/<int:pk>/matrix", methods=["PUT"])
    @protect()
    @safe
    def put_matrix(self, pk):
        """Set a role's permissions, all in one transaction (the administrator role cannot be changed).
        ---
        put:
          description: >-
            Each key present replaces that part of the matrix and a key left out keeps it. Inside
            "modules", a module left out loses every right; inside "fields", a field left out is editable.
            Module keys: line, customer, contact, pool, opportunity, contract, product, followup, invoice.
            Data scopes: self (本人), self_and_subordinates (本人及下属), department (本部门),
            department_tree (本部门及下属部门), all (全部).
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RoleMatrixSchema'}
          responses:
            200:
              description: The role's matrix as saved
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/RoleMatrixSchema'}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        def run():
            role = self._existing(pk)
            body = request.get_json(silent=True)
            return self.response(200, **role_service.write_matrix(role.id, body))

        return self._answer(run)

    @expose("/<int:pk>/copy", methods=["POST"])
    @protect()
    @safe
    def copy_role(self, pk):
        """复制: a new role with the same kind, rights, statistics, data scope and field permissions.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}, required: true}
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RoleCopySchema'}
          responses:
            201: {description: The new role}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        def run():
            source = self._existing(pk)
            data = self.load_body(RoleCopySchema()) if request.get_data() else {}
            name = data.get("name") or role_service.copy_name(source)
            return self._show(role_service.copy_role(source.id, name), 201)

        return self._answer(run)
