"""/api/v1/custom_field/: the custom-field definitions over REST (list, get, post, put, delete), through
custom_fields.service like the settings screens. A record API then reads and writes the field as
`cf_<key>` (e.g. /api/v1/customer/ {"cf_f12": "杭州"}); its `_info` describes every custom field."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, protect, safe
from views.datamodel import SafeInterface
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields as ma, validate

from app.errors import CrmError
from app.permissions import SETTINGS
from custom_fields import MODULES, service
from custom_fields.definitions import PREFIX
from custom_fields.models import FieldDefinition
from custom_fields.types import TYPES
from custom_fields.values import value_count
from views.base import CrmModelRestApi

_PROPERTIES = ("label", "type", "required", "unique", "default", "help_text", "max_length", "min_value",
               "max_value", "list_default", "filterable", "hidden", "options")


class OptionSchema(Schema):
    id = ma.Integer(dump_only=True)
    label = ma.String(metadata={"description": "the option as staff see it (at most 64 characters)"})
    sort_order = ma.Integer(dump_only=True)
    retired = ma.Boolean(metadata={"description": "no longer offered; records that hold it keep it"})


class FieldDefinitionSchema(Schema):
    """A custom field as the API shows it; `name` (cf_<key>) is its key in the records' JSON."""

    id = ma.Integer()
    module = ma.String(metadata={"enum": list(MODULES)})
    key = ma.String(metadata={"description": "generated at creation and never changed"})
    name = ma.Function(lambda row: PREFIX + row.key, metadata={"description": "the field in record JSON"})
    label = ma.String()
    type = ma.String(metadata={"enum": list(TYPES)})
    required = ma.Boolean()
    unique = ma.Boolean()
    default = ma.String(allow_none=True)
    help_text = ma.String(allow_none=True)
    max_length = ma.Integer(allow_none=True)
    min_value = ma.Decimal(as_string=True, allow_none=True)
    max_value = ma.Decimal(as_string=True, allow_none=True)
    list_default = ma.Boolean()
    filterable = ma.Boolean()
    hidden = ma.Boolean()
    sort_order = ma.Integer()
    options = ma.List(ma.Nested(OptionSchema))
    created_at = ma.DateTime()
    updated_at = ma.DateTime()


class FieldDefinitionListSchema(FieldDefinitionSchema):
    """The same fields; a class of its own because the spec registers one component per schema class."""


_OPTIONS_DOC = ('For "select" and "multiselect": the options in order, each a label (a new option) or '
                '{"id", "label", "retired"}. On PUT an existing option left out is retired, never deleted.')


class FieldDefinitionPutSchema(Schema):
    label = ma.String(validate=validate.Length(min=1, max=64))
    type = ma.String(validate=validate.OneOf(list(TYPES)),
                     metadata={"description": "cannot change once records hold values of the field"})
    required = ma.Boolean()
    unique = ma.Boolean(metadata={"description": "unique within the module (text, mobile, email, url, integer)"})
    default = ma.Raw(allow_none=True, metadata={"description": "checked like a value; options by label or id"})
    help_text = ma.String(allow_none=True, validate=validate.Length(max=255))
    max_length = ma.Integer(allow_none=True)
    min_value = ma.Decimal(allow_none=True, as_string=True)
    max_value = ma.Decimal(allow_none=True, as_string=True)
    list_default = ma.Boolean(metadata={"description": "a list column unless the user hides it"})
    filterable = ma.Boolean(metadata={"description": "in the list's 自定义字段筛选; on by default for every type "
                                                     "that can be filtered (not 多行文本)"})
    hidden = ma.Boolean(metadata={"description": "left out of forms, lists, exports and the API; values kept"})
    options = ma.List(ma.Raw(), metadata={"description": _OPTIONS_DOC})


class FieldDefinitionPostSchema(FieldDefinitionPutSchema):
    module = ma.String(required=True, validate=validate.OneOf(list(MODULES)))
    label = ma.String(required=True, validate=validate.Length(min=1, max=64))
    type = ma.String(required=True, validate=validate.OneOf(list(TYPES)))


class CustomFieldApi(CrmModelRestApi):
    resource_name = "custom_field"
    datamodel = SafeInterface(FieldDefinition)
    class_permission_name = SETTINGS
    method_permission_name = {"get_list": "view", "get": "view", "info": "view", "post": "edit", "put": "edit",
                              "delete": "edit"}
    base_permissions = ["can_view", "can_edit"]
    allow_browser_login = True
    list_columns = show_columns = ["id", "module", "key", "label", "type", "required", "unique", "default",
                                   "help_text", "max_length", "min_value", "max_value", "list_default",
                                   "filterable", "hidden", "sort_order", "created_at", "updated_at"]
    add_columns = ["module", *_PROPERTIES]
    edit_columns = list(_PROPERTIES)
    search_columns = ["module", "type", "label", "hidden"]
    order_columns = ["id", "module", "sort_order", "label"]
    base_order = ("sort_order", "asc")
    list_model_schema = FieldDefinitionListSchema()
    show_model_schema = FieldDefinitionSchema()
    add_model_schema = FieldDefinitionPostSchema()
    edit_model_schema = FieldDefinitionPutSchema()

    def _body(self, schema) -> dict:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise CrmError(_l("The request body must be a JSON object."))
        errors = schema.validate(body)
        if errors:
            field_name = next(iter(errors))
            raise CrmError(_l("Invalid input: %(e)s", e=errors), field=field_name)
        return body

    def _answer(self, status, row, **extra):
        return self.response(status, id=row.id, key=row.key, name=PREFIX + row.key,
                             result=self.show_model_schema.dump(row), **extra)

    def pre_get(self, data):
        super().pre_get(data)
        result = data.get("result") or {}
        if result.get("module") in MODULES:
            data["value_count"] = value_count(result["module"], int(data["id"]))

    def post_headless(self):
        try:
            body = self._body(self.add_model_schema)
            row = service.create_field(body.pop("module"), body)
        except CrmError as error:
            return self.error_response(error)
        return self._answer(201, row)

    def put_headless(self, pk):
        try:
            row = service.update_field(pk, self._body(self.edit_model_schema))
        except CrmError as error:
            return self.error_response(error)
        return self._answer(200, row)

    def delete_headless(self, pk):
        confirm = request.args.get("confirm", "").lower() in ("1", "true", "yes")
        try:
            removed = service.delete_field(pk, confirm=confirm)
        except service.NeedsConfirmation as error:
            return self.response(409, message=str(error.message), field="confirm", value_count=error.count)
        except CrmError as error:
            return self.error_response(error)
        return self.response(200, message="OK", values_removed=removed)

    @expose("/<pk>", methods=["DELETE"])
    @protect()
    @safe
    def delete(self, pk):
        """Delete a custom field and the values records hold for it, in one transaction
        ---
        delete:
          description: >-
            Without confirm, a field that records hold values for is not deleted: the answer is 409 with
            value_count, the number of records that would lose a value. Repeat with ?confirm=true.
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          - in: query
            name: confirm
            schema: {type: boolean}
            description: delete even though records hold values for the field
          responses:
            200:
              description: deleted
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message: {type: string}
                      values_removed: {type: integer}
            404: {$ref: '#/components/responses/404'}
            409:
              description: records hold values; confirm to delete them too
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message: {type: string}
                      field: {type: string}
                      value_count: {type: integer}
        """
        return self.delete_headless(pk)
