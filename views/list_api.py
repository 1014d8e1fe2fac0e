"""The list endpoint of every generated REST API (`GET /api/v1/<module>/`): filters (built-in and custom
fields), sorts, page numbers or a cursor (views/keyset.py), and the rison `q` checked by a JSON-schema
validator built once instead of on every request.

FAB's `@rison(schema)` calls `jsonschema.validate()`, which first checks the *schema* against the JSON-schema
meta-schema — on every request, about half of an API first page's CPU (bench/bench_api_page.py). `rison()`
below checks the schema once, when the view class is built, and then only validates the request's value.
"""
from __future__ import annotations

import functools
import json
import urllib.parse

import jsonschema
import prison
from flask import current_app, g, request
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.api.schemas import get_list_schema
from flask_appbuilder.const import (API_DESCRIPTION_COLUMNS_RIS_KEY, API_LABEL_COLUMNS_RIS_KEY,
                                    API_LIST_COLUMNS_RIS_KEY, API_LIST_TITLE_RIS_KEY, API_ORDER_COLUMNS_RIS_KEY,
                                    API_SELECT_COLUMNS_RIS_KEY, API_SELECT_SEL_COLUMNS_RIS_KEY, API_URI_RIS_KEY)
from flask_appbuilder.exceptions import FABException, InvalidColumnArgsFABException
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.api import ModelRestApi, merge_response_func
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from sqlalchemy.orm import lazyload

from app.errors import CrmError
from custom_fields import query as custom_query
from views import keyset
from views.field_permission_hooks import current_access, searchable


def rison(schema=None):
    """FAB's `@rison(schema)` (same answers), with the schema's validator made once."""
    validator = None
    if schema:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema)

    def decorate(f):
        def wraps(self, *args, **kwargs):
            value = request.args.get(API_URI_RIS_KEY, None)
            kwargs["rison"] = {}
            if value:
                try:
                    kwargs["rison"] = prison.loads(value)
                except prison.decoder.ParserException:
                    if not current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
                        return self.response_400(message="Not a valid rison argument")
                    try:
                        kwargs["rison"] = json.loads(urllib.parse.parse_qs(f"{API_URI_RIS_KEY}={value}")
                                                     .get(API_URI_RIS_KEY)[0])
                    except Exception:
                        return self.response_400(message="Not a valid rison/json argument")
            if validator is not None:
                error = jsonschema.exceptions.best_match(validator.iter_errors(kwargs["rison"]))
                if error is not None:
                    return self.response_400(message=f"Not a valid rison schema {str(error).split(chr(10), 1)[0]}")
            return f(self, *args, **kwargs)

        return functools.update_wrapper(wraps, f)

    return decorate


def _unwrap(model, rows) -> list:
    """FAB's query() answer: the records themselves (a query with joined columns gives tuples)."""
    return [getattr(row, model.__name__) if hasattr(row, model.__name__) else row for row in rows]


class ListApiMixin:
    """For GeneratedApi (before CustomFieldApiHooks, after FieldPermissionApiHooks)."""

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison(get_list_schema)
    @merge_response_func(ModelRestApi.merge_order_columns, API_ORDER_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_columns, API_LIST_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_title, API_LIST_TITLE_RIS_KEY)
    def get_list(self, **kwargs):
        """Get a list of records, within the caller's data scope
        ---
        get:
          description: >-
            A page of records. Page by number with `q` = (page:N,page_size:M) — the database skips N × M
            rows — or by cursor: pass the `next_cursor` of the previous answer as `cursor` (with the same
            `q` filters and sort) and the next page starts where that one stopped, at the same cost on
            every page. A cursor is opaque and bound to its list, caller, sort and filters; a changed or
            foreign one is refused with 400. Not available with a sort on a custom field (next_cursor is null).
          parameters:
          - in: query
            name: q
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/get_list_schema'
          - in: query
            name: cursor
            description: >-
              The `next_cursor` of the previous page (empty or absent: the first page). Not with `page`.
            schema:
              type: string
          responses:
            200:
              description: Items from Model
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      label_columns:
                        type: object
                      list_columns:
                        type: array
                        items: {type: string}
                      list_title:
                        type: string
                      order_columns:
                        type: array
                        items: {type: string}
                      ids:
                        description: the records' ids, in the page's order
                        type: array
                        items: {type: integer}
                      count:
                        description: >-
                          how many records match (the whole list, not from the cursor on); counting stops
                          at 10,001 (then count_capped is true)
                        type: integer
                      count_capped:
                        type: boolean
                      next_cursor:
                        description: >-
                          the `cursor` of the next page; null when this page is the last one (it came back
                          with fewer than page_size records) or the sort is on a custom field
                        type: string
                        nullable: true
                      result:
                        type: array
                        items:
                          $ref: '#/components/schemas/{{self.__class__.__name__}}.get_list'  # noqa
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            422:
              $ref: '#/components/responses/422'
            500:
              $ref: '#/components/responses/500'
        """
        return self.get_list_headless(**kwargs)

    def _label_columns_json(self, cols=None):
        """FAB translates every label of the answer on every request; the labels are fixed per language."""
        made = self.__dict__.setdefault("_crm_label_json", {})
        key = (str(get_locale()), tuple(cols or ()))
        if key not in made:
            made[key] = super()._label_columns_json(cols)
        return dict(made[key])

    def get_list_headless(self, **kwargs):
        args = dict(kwargs.get("rison", {}) or {})
        token = request.args.get("cursor") or None
        model = self.datamodel.obj
        try:
            select_columns, pruned = self._handle_columns_args(args, self.list_select_columns, self.list_columns)
        except InvalidColumnArgsFABException as error:
            return self.response_400(message=str(error))
        if not args.get(API_SELECT_SEL_COLUMNS_RIS_KEY):
            # FAB would name every list column in a load_only() option (twice: count and page), which cost
            # more to build than loading the record's few other columns
            select_columns = None
        raw_filters = args.get("filters", [])
        requested_order = args.get("order_column", "")
        defs = self._custom_defs() if self.spec.custom_fields else []
        sort = None
        try:
            conditions, args["filters"] = custom_query.split_rison(defs, raw_filters) if defs else ([], raw_filters)
            if str(requested_order).startswith("cf_"):
                sort = {d.name: d for d in defs if d.sortable}.get(requested_order)
                if sort is None:
                    raise CrmError(_l("%(field)s cannot be used for sorting.", field=requested_order),
                                   field=requested_order)
                args.pop("order_column")
            joined = self._handle_filters_args(args)
            order_column, order_direction = self._handle_order_args(args)
            if sort is not None:
                order_direction = args.get("order_direction", "asc")
            page_index, page_size = self._handle_page_args(args)
            column = None if sort is not None else keyset.sort_column(model, order_column)
            direction = "asc" if order_direction == "asc" else "desc"
            bound_to = None if column is None else keyset.fingerprint(
                self.resource_name, getattr(g.user, "id", None), column.key, direction, raw_filters)
            position = None
            if token is not None:
                if column is None:
                    raise keyset.CursorError(_l("Paging by cursor is not available with this sort; use page "
                                                "numbers."))
                if page_index:
                    raise keyset.CursorError(_l("Give either a page number or a cursor, not both."))
                position = keyset.decode(token, bound_to, column)
        except CrmError as error:
            return self.error_response(error)
        except FABException as error:
            return self.response_400(message=str(error))

        module = self.spec.custom_fields
        custom_path = bool(conditions) or sort is not None
        if custom_path:
            count = custom_query.count(model, module, joined, conditions, getattr(self.datamodel, "count_cap", None))
        else:
            count = self.datamodel.query_count(self.datamodel.session.query(model), joined)

        def fetch(where, index, size):
            if custom_path:
                return custom_query.items(self.datamodel, module, joined, conditions, order_column, order_direction,
                                          index, size, sort=sort, total=count, where=where)
            query = self.datamodel.session.query(model)
            if select_columns is None:
                # the answer shows a related record by its id (status_id, owner_id): no JOIN for the records
                # the model loads eagerly for screens (status, level, source, owner); read if ever touched
                query = query.options(lazyload("*"))
            if where is not None:
                query = query.filter(where)
            return _unwrap(model, self.datamodel.apply_all(
                query, joined, order_column, order_direction, index, size, select_columns,
                self.list_outer_default_load).all())

        if position is None:
            items = fetch(None, page_index, page_size)
        else:
            valued, tail = keyset.after(model, column, direction, position)
            items = fetch(valued, None, page_size) if valued is not None else []
            if tail is not None and len(items) < page_size:
                items += fetch(tail, None, page_size - len(items))

        response = {}
        self.set_response_key_mappings(response, self.get_list, args, **{API_SELECT_COLUMNS_RIS_KEY: pruned})
        schema = self.model2schemaconverter.convert(pruned) if pruned and not custom_path else self.list_model_schema
        response["result"] = schema.dump(items, many=True)
        response["ids"] = [item.id for item in items]
        response["count"] = count
        response["next_cursor"] = None if column is None else keyset.next_cursor(
            bound_to, column, items, page_size,
            readable=searchable(self.spec, column.key, current_access(self.spec)))
        self.pre_get_list(response)
        return self.response(200, **response)
