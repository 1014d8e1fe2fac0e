"""The REST API half of the generator: ModuleSpec -> a FAB ModelRestApi with the same data scope,
keyword search, field permissions, custom fields, bulk actions and export as the screen."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import protect, rison, safe
from flask_appbuilder.api.schemas import get_list_schema
from flask_appbuilder.exceptions import FABException
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields as ma, validate
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, inspect

from app import exporting, records
from app.errors import CrmError
from app.extensions import db
from app.inputs import length_limit, parse_id
from app.permissions import MODULES
from custom_fields import query as custom_query
from custom_fields import values as custom_values
from views.base import CrmModelRestApi
from views.custom_field_hooks import CustomFieldApiHooks
from views.datamodel import CrmInterface
from views.importing import ImportApiMixin
from views.list_api import ListApiMixin
from views.field_permission_hooks import FieldPermissionApiHooks, current_access
from views.generator import PAGE_SIZE, _allowed, _fab_action
from views.module_spec import ActionSpec, ModuleSpec
from views.query_filters import make_keyword_filter, make_scope_filter
from views.saving import remove, save
from views.screen_fields import _view_name


_TYPE_FIELDS = ((Boolean, ma.Boolean), (DateTime, ma.DateTime), (Date, ma.Date), (Numeric, ma.Decimal),
                (Integer, ma.Integer), (Text, ma.String), (String, ma.String))


def _schema(spec: ModuleSpec, columns, partial: bool, name: str) -> Schema:
    mapper = inspect(spec.model)
    schema_fields = {}
    for column in columns:
        if column in mapper.relationships:
            schema_fields[column] = ma.Integer(allow_none=True)
            continue
        col = mapper.columns[column]
        field_class = next((f for t, f in _TYPE_FIELDS if isinstance(col.type, t)), ma.Raw)
        required = not partial and column in getattr(spec.model, "required_fields", ())
        kwargs = {"allow_none": col.nullable and not required, "required": required}
        if field_class is ma.Decimal:
            kwargs["as_string"] = True
        # the column's own limits, so _info shows them; app.records checks them again for every path
        choices = getattr(spec.model, "value_labels", {}).get(column)
        if choices:
            kwargs["validate"] = validate.OneOf(list(choices))
        elif field_class is ma.String and length_limit(col) and column not in getattr(spec.model, "mobile_fields", ()):
            # (a mobile is measured once normalised: '+86 139-1111-2222' is 11 digits)
            kwargs["validate"] = validate.Length(max=length_limit(col))
        schema_fields[column] = field_class(**kwargs)
    if spec.owned and "owner" not in schema_fields and not partial:
        schema_fields["owner"] = ma.Integer(allow_none=True)
    schema_class = Schema.from_dict(schema_fields, name=name)
    return schema_class()


def _labels(spec: ModuleSpec) -> dict:
    """A label for every column the API shows: a foreign key by its relationship's (owner_id -> 负责人),
    the record's own id too; FAB would make up English ones ("Owner Id")."""
    labels = dict(spec.labels)
    mapper = inspect(spec.model)
    for rel in mapper.relationships:
        for column in rel.local_columns:
            if column.key in mapper.columns and column.key not in labels and rel.key in labels:
                labels[column.key] = labels[rel.key]
    labels.setdefault("id", _l("Record ID"))
    return labels


def _keyword_names(spec: ModuleSpec) -> list[str]:
    """The search box's filter operator: kw_<key>, and for a screen of another module's records (the pool's
    customers) that module's too (kw_customer), so one search works on both."""
    return list(dict.fromkeys([f"kw_{spec.key}", f"kw_{spec.model.__tablename__}"]))


def build_api(spec: ModuleSpec) -> type:
    module_actions = MODULES[spec.module][1]
    methods = {"get_list": "view", "get": "view", "info": "view", "post": "add", "put": "edit", "delete": "delete",
               "export": "export", "import_template": "import", "import_file": "import"}
    mapper = inspect(spec.model)

    def plain(columns):
        """Columns as the API shows them: a relationship as its foreign key (customer -> customer_id)."""
        result = []
        for column in columns:
            if column in mapper.relationships:
                keys = [c.key for c in mapper.relationships[column].local_columns if c.key in mapper.columns]
                result.extend(keys)
            elif column in mapper.columns:
                result.append(column)
        return result

    list_cols = list(dict.fromkeys(["id"] + plain(spec.list_columns) + (["owner_id", "department_id"]
                                                                       if spec.owned else [])))
    show_cols = list(dict.fromkeys(list_cols + plain(spec.show_columns or ()) + plain(spec.form_columns)))
    # a module without a form (the pool) still describes its columns in _info; it has no add/edit route
    form_columns = spec.form_columns or tuple(c for c in spec.list_columns if c in mapper.attrs)
    edit_columns = spec.edit_columns if spec.edit_columns is not None else form_columns
    attrs = dict(
        resource_name=spec.key,
        datamodel=CrmInterface(spec.model),
        class_permission_name=spec.module,
        method_permission_name=dict(methods),
        base_permissions=[f"can_{a}" for a in module_actions],
        allow_browser_login=True,
        list_columns=list(dict.fromkeys(list_cols)),
        show_columns=show_cols,
        add_columns=list(form_columns),
        edit_columns=list(edit_columns),
        order_columns=list(spec.order_columns) or ["id"],
        search_columns=list(dict.fromkeys(list(spec.keyword_columns[:1]) + list(spec.filter_columns))),
        search_filters={spec.keyword_columns[0]: [make_keyword_filter(spec, name)(spec.keyword_columns[0],
                                                                                   CrmInterface(spec.model))
                                                  for name in _keyword_names(spec)]}
        if spec.keyword_columns else {},
        base_filters=[["id", make_scope_filter(spec), None]],
        base_order=spec.base_order,
        label_columns=_labels(spec),
        add_model_schema=_schema(spec, form_columns, False, f"{_view_name(spec.key)}Post"),
        edit_model_schema=_schema(spec, edit_columns, True, f"{_view_name(spec.key)}Put"),
        page_size=PAGE_SIZE,
        spec=spec,
    )
    for action_spec in spec.actions:
        if action_spec.api:
            attrs[action_spec.name] = _make_api_action(spec, action_spec)
            attrs["method_permission_name"][action_spec.name] = _fab_action(action_spec)
    attrs["method_permission_name"].update(spec.permission_overrides)
    if not spec.form_columns:
        attrs["include_route_methods"] = {"get", "get_list", "info", "delete", "export"} | {
            a.name for a in spec.actions if a.api}
    if spec.importer is None:
        attrs["exclude_route_methods"] = {"import_template", "import_file"}
    if spec.read_only:
        attrs["include_route_methods"] = {"get", "get_list", "info", "export"}
    bases = (GeneratedApi,)
    if spec.api_mixin is not None:
        bases = (spec.api_mixin,) + bases
        attrs["include_route_methods"] = attrs.get("include_route_methods", {
            "get", "get_list", "info", "post", "put", "delete", "export"} | {a.name for a in spec.actions if a.api}) \
            | set(spec.api_mixin.routes)
        attrs["method_permission_name"].update(spec.api_mixin.route_permissions)
    api = type(f"{_view_name(spec.key)[:-4]}Api", bases, attrs)
    return api


def _make_api_action(spec: ModuleSpec, action_spec: ActionSpec):
    def api_action(self):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            return self.error_response(CrmError(_l('The body must be a JSON object with "ids": [...].')))
        data = {k: v for k, v in body.items() if k != "ids"}
        if not _allowed(action_spec, self):
            return self.response(403, message=_("You do not have permission to do this."))
        try:
            ids = list(dict.fromkeys(parse_id(pk, "ids", malformed_status=400) for pk in body["ids"]))
            result = action_spec.run(ids, data, g.user)
        except CrmError as error:
            db.session.rollback()
            return self.error_response(error)
        ids = [r.id for r in result] if isinstance(result, (list, tuple)) else ids
        return self.response(200, ids=ids, count=len(ids), message=str(action_spec.done or _l("Done.")) % {
            "n": len(ids)})

    api_action.__name__ = action_spec.name
    api_action.__doc__ = f"""{action_spec.label}
        ---
        post:
          description: >-
            {spec.key}: {action_spec.name} on the records in "ids" (all of them or none).
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    ids: {{type: array, items: {{type: integer}}}}
                    owner: {{type: integer, description: "employee id (assign, transfer)"}}
                    reason: {{type: string, description: "why (release)"}}
                  required: [ids]
          responses:
            200: {{description: "the records changed"}}
            400: {{$ref: '#/components/responses/400'}}
            404: {{$ref: '#/components/responses/404'}}
        """
    wrapped = safe(api_action)
    wrapped = protect()(wrapped)
    return api_expose(f"/{action_spec.name}", methods=["POST"])(wrapped)


class GeneratedApi(ImportApiMixin, FieldPermissionApiHooks, ListApiMixin, CustomFieldApiHooks, CrmModelRestApi):
    spec: ModuleSpec

    def _load(self, schema):
        """The body -> (built-in fields checked by the schema, raw cf_<key> values checked by custom_fields)."""
        body, custom = custom_values.split(self.json_body())
        data = self.load_body(schema, body)
        self.check_field_permissions({**data, **custom}, creating=schema is self.add_model_schema)
        return data, custom

    def _get_fields_info(self, cols, model_schema, filter_rel_fields, **kwargs):
        """`_info`'s add_columns: a column is required when saving refuses a record without it
        (app.records.required_fields, read from the model) or when the schema says so."""
        info = super()._get_fields_info(cols, model_schema, filter_rel_fields, **kwargs)
        if model_schema is self.add_model_schema:
            required = records.required_fields(self.spec.model)
            for item in info:
                item["required"] = bool(item.get("required")) or item.get("name") in required
        return info

    def _dump(self, item) -> dict:
        result = self.show_model_schema.dump(item)
        if self.spec.custom_fields:
            result.update(self.custom_json([item.id])[item.id])
        return result

    def post_headless(self):
        def run():
            data, custom = self._load(self.add_model_schema)
            item = save(self.spec, None, data, g.user, custom)
            return self.response(201, id=item.id, result=self._dump(item))

        return self._answer(run)

    def put_headless(self, pk):
        def run():
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                return self.response_404()
            data, custom = self._load(self.edit_model_schema)
            item = save(self.spec, item, data, g.user, custom)
            return self.response(200, result=self._dump(item))

        return self._answer(run)

    def delete_headless(self, pk):
        def run():
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                return self.response_404()
            remove(self.spec, item, g.user)
            return self.response(200, message="OK")

        return self._answer(run)

    @api_expose("/export", methods=["GET"])
    @protect()
    @safe
    @rison(get_list_schema)
    def export(self, **kwargs):
        """Export the list (same rison `q` filters as the list, custom fields' {"col": "cf_<key>", ...} too) as
        xlsx or csv; custom fields are the last columns.
        ---
        get:
          parameters:
          - {in: query, name: format, schema: {type: string, enum: [xlsx, csv]}}
          - {in: query, name: q, content: {application/json: {schema: {$ref: '#/components/schemas/get_list_schema'}}}}
          responses:
            200: {description: the file}
            400: {$ref: '#/components/responses/400'}
        """
        fmt = request.args.get("format", "xlsx")
        if fmt not in exporting.FORMATS:
            return self.error_response(CrmError(_l("Unknown export format.")))
        args = dict(kwargs.get("rison", {}))
        try:
            self.refuse_protected_query(args)
            conditions, args["filters"] = custom_query.split_rison(self._custom_defs(), args.get("filters", []))
            joined = self._handle_filters_args(args)
        except CrmError as error:
            return self.error_response(error)
        except FABException as error:
            return self.response_400(message=str(error))
        return exporting.export_response(self.spec, joined, fmt, self.datamodel, custom=conditions,
                                         access=current_access(self.spec))
