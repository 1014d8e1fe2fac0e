"""FAB's SQLAInterface with a capped count: a list of a million customers counts at most
COUNT_CAP + 1 rows, so the count stops early instead of visiting every match (on these machines the
count was 80-90 % of a list request, shared/research/perf.md §5). Screens show "10,000+"; the API
answers `count` = COUNT_CAP + 1 with `count_capped: true`."""
from __future__ import annotations

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import get_column_root_relation, is_column_dotted
from sqlalchemy import Numeric, asc, desc, func, inspect
from sqlalchemy.orm.attributes import InstrumentedAttribute

from app.inputs import parse_id

COUNT_CAP = 10_000


class ConvertedFilters(Filters):
    """FAB's Filters, whose constructor converts every column of the model into its filter operators (a
    few hundred objects) — three times per list request (the joined filters, the count's and the page's
    inner filters). The operators of a (datamodel, columns) pair never change: they are made once and each
    Filters gets its own lists of them (FAB appends to those lists)."""

    def _get_filters(self, cols):
        made = self.datamodel.__dict__.setdefault("_crm_converted_filters", {})
        key = (self.filter_converter, tuple(cols))
        if key not in made:
            made[key] = super()._get_filters(cols)
        return {column: list(operators) for column, operators in made[key].items()}

    def get_joined_filters(self, filters) -> "ConvertedFilters":
        joined = ConvertedFilters(self.filter_converter, self.datamodel)
        joined.filters = self.filters + filters.filters
        joined.values = self.values + filters.values
        return joined


class SafeInterface(SQLAInterface):
    """SQLAInterface that checks ids and filter values before they reach SQL (see check_filter_values)."""

    def get_filters(self, search_columns=None, search_filters=None):
        return ConvertedFilters(self.filter_converter_class, self, search_columns, search_filters)

    def get_inner_filters(self, filters):
        """FAB's (the filters on the record's own columns and its to-one relations), without converting
        every column again (ConvertedFilters)."""
        inner = ConvertedFilters(self.filter_converter_class, self)
        if filters:
            kept = []
            for flt, value in zip(filters.filters, filters.values):
                name = flt.column_name
                root = get_column_root_relation(name) if is_column_dotted(name) else None
                if root is None or self.is_relation_many_to_one(root) or self.is_relation_one_to_one(root):
                    kept.append((name, flt.__class__, value))
            inner.add_filter_list(kept)
        return inner

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        """A record by its id from a URL (`/customer/show/x`, `/api/v1/customer/18446744073709551616`): an
        id no INTEGER column can hold is a 404 in the user's language (NotFound) instead of reaching the
        database (a 500 on SQLite past 2^63, on PostgreSQL for 'x')."""
        return super().get(parse_id(id), filters, select_columns=select_columns, outer_default_load=outer_default_load)

    def apply_filters(self, query, filters):
        if filters:
            check_filter_values(self, filters)
        return super().apply_filters(query, filters)


class CrmInterface(SafeInterface):
    count_cap = COUNT_CAP

    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None,
                       bypass_many_to_many=False, add_pk=False):
        """A sort on a column of the record puts the records without a value last in both directions
        (PostgreSQL puts NULLs first in DESC, SQLite first in ASC): `NULLS LAST`, which the sort indexes
        of migrations/versions/0012_speed.py carry on PostgreSQL, so a DESC sort walks its index."""
        attr = getattr(self.obj, order_column, None) if order_column and "." not in order_column else None
        column = getattr(getattr(attr, "property", None), "columns", [None])[0] \
            if isinstance(attr, InstrumentedAttribute) else None
        if column is None or not getattr(column, "nullable", False):
            return super().apply_order_by(query, order_column, order_direction, aliases_mapping,
                                          bypass_many_to_many, add_pk)
        direction = asc if order_direction == "asc" else desc
        order_by = [direction(attr).nulls_last()]
        pk = self.get_pk()
        if add_pk and pk is not None and pk is not attr:
            order_by.append(direction(pk))
        return query.order_by(*order_by)

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        # the primary key, not a literal: a list without any filter on the table (seats have no data scope)
        # would otherwise lose its FROM and count one row
        # (as the mapped attribute, not the table's column: the statement stays an ORM one, which the recycle
        # bin's hook narrows to records not in the bin — app/recycle.py)
        mapper = inspect(self.obj)
        key = mapper.get_property_by_column(mapper.primary_key[0]).class_attribute
        limited = inner.with_entities(key).order_by(None).limit(self.count_cap + 1).subquery()
        return self.session.query(func.count()).select_from(limited).scalar()


def check_filter_values(datamodel, filters) -> None:
    """A list filter's value must fit its column before it reaches SQL: `_flt_0_status=abc` compares an
    integer key with text (PostgreSQL: an error, SQLite: no rows), an id past 2^63 overflows SQLite,
    `amount=abc` is not a number. Refused with 400 on both databases alike."""
    from flask_babel import lazy_gettext as _l

    from app.errors import CrmError
    from app.inputs import check_decimal, column_of, integer_limit, parse_id

    from app.phone import search_digits

    model = datamodel.obj
    labels = getattr(model, "field_labels", {})
    phone_columns = set(getattr(model, "phone_search_fields", getattr(model, "mobile_fields", ())))
    for index, (flt, value) in enumerate(filters.get_filters_values()):
        if type(flt).__module__ != _FAB_FILTERS:
            continue  # the CRM's own filters (keyword, scope, custom fields) check their values
        name = flt.column_name
        if name in phone_columns and isinstance(value, str) and search_digits(value):
            filters.values[index] = search_digits(value)  # a number typed with fullwidth digits or spaces
            continue
        label = labels.get(name, name)
        values = value if isinstance(value, (list, tuple)) else [value]
        if datamodel.is_relation(name):
            for item in values:
                if item not in (None, "", "__None"):
                    parse_id(item, name, label, malformed_status=400)
            continue
        column = column_of(model, name)
        if column is None:
            continue
        for item in values:
            if item in (None, ""):
                continue
            if integer_limit(column) is not None and not isinstance(item, bool):
                try:
                    number = int(str(item).strip())
                except ValueError:
                    raise CrmError(_l("%(field)s: please enter a whole number.", field=label), field=name)
                if abs(number) > integer_limit(column):
                    raise CrmError(_l("%(field)s: this number is too large.", field=label), field=name)
            elif isinstance(column.type, Numeric):
                check_decimal(item, None, None, name, label)


_FAB_FILTERS = "flask_appbuilder.models.sqla.filters"
