"""Filtering and sorting records on custom values, in SQL (never in Python after the fetch).

The shapes follow shared/research/perf.md §5 (measured again by bench/bench_custom_fields.py):
- a filter drives the query from the value table's typed index: `FROM <module>_field_value v JOIN record
  ON record.id = v.record_id WHERE v.field_id = :f AND v.value_x = :x`, and the default order (newest
  first) is `ORDER BY v.record_id DESC`, the index's own order, so page 1 stops after 50 index entries
  instead of sorting every match;
- a sort walks (field_id, value_x, record_id) in order for the records that have a value, then lists
  those without one by id: empty values last, whichever the direction;
- the data scope and the built-in filters are FAB filters applied to the same query, so they combine.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, asc, desc, exists, func, select
from sqlalchemy.orm import aliased

from app.errors import CrmError
from app.extensions import db
from custom_fields.definitions import Definition
from custom_fields.models import VALUE_MODELS, not_binned
from custom_fields.types import FieldValueError

OPERATORS = {"eq": _l("equals"), "gte": _l("from"), "lte": _l("to"), "has": _l("includes")}
_SUFFIX = {"gte": "__gte", "lte": "__lte"}  # query-argument names: cf_<key>, cf_<key>__gte, cf_<key>__lte


@dataclass(frozen=True)
class Condition:
    """One field's filter: `low`/`high` bound a range (either may be None), equal for "eq"; `option` is
    the option id for select types."""

    definition: Definition
    low: Any = None
    high: Any = None
    option: Optional[int] = None

    def predicate(self, value_row):
        """The condition on one alias of the module's value table. `value_x IS NOT NULL` is spelled out so
        SQLite, like PostgreSQL, sees that the partial index on value_x applies."""
        definition, kind = self.definition, self.definition.field_type
        if kind.key == "select":
            # option ids are unique across fields: (option_id, record_id) answers it from the index alone
            return value_row.option_id == self.option
        column = getattr(value_row, kind.column)
        parts = [value_row.field_id == definition.id, column.isnot(None)]
        if kind.key == "multiselect":
            parts.append(column.like(f"%,{self.option},%"))
        elif self.low is not None and self.low == self.high:
            parts.append(column == kind.stored(self.low))
        else:
            if self.low is not None:
                parts.append(column >= kind.stored(self.low))
            if self.high is not None:
                parts.append(column <= kind.stored(self.high))
        return and_(*parts)


def _bound(definition: Definition, op: str, raw):
    """A typed bound from raw input; a value the type refuses is a CrmError on the field."""
    kind = definition.field_type
    if op not in kind.filter_ops:
        raise CrmError(_l("%(field)s: unknown filter operator %(op)s.", field=definition.label, op=op),
                       field=definition.name)
    try:
        if kind.has_options:
            chosen = kind.parse(definition, raw)
            chosen = chosen if isinstance(chosen, tuple) else (chosen,)
            if len(chosen) != 1:
                raise FieldValueError(_l("Choose one option."))
            return chosen[0]
        return kind.coerce(definition, raw)
    except FieldValueError as error:
        raise CrmError(_l("%(field)s: %(error)s", field=definition.label, error=error.message), field=definition.name)


def _whole_day(definition: Definition, raw) -> bool:
    """A bare date given for a date-time field means that whole day."""
    return definition.type == "datetime" and isinstance(raw, str) and len(raw.strip()) <= 10


def condition(definition: Definition, bounds: Mapping[str, Any]) -> Condition:
    """The field's filter from raw bounds {"eq"|"has"|"gte"|"lte": raw}."""
    if not definition.filterable or definition.hidden:
        raise CrmError(_l("%(field)s cannot be used as a filter.", field=definition.label), field=definition.name)
    kind = definition.field_type
    bounds = {("has" if op == "eq" and kind.filter_ops == ("has",) else op): raw for op, raw in bounds.items()}
    typed = {op: _bound(definition, op, raw) for op, raw in bounds.items()}
    if kind.has_options:
        return Condition(definition, option=typed.get("eq", typed.get("has")))
    day_end = dt.timedelta(days=1, seconds=-1)
    if "eq" in typed:
        low = typed["eq"]
        return Condition(definition, low=low, high=low + day_end if _whole_day(definition, bounds["eq"]) else low)
    high = typed.get("lte")
    if high is not None and _whole_day(definition, bounds["lte"]):
        high += day_end
    return Condition(definition, low=typed.get("gte"), high=high)


def from_args(defs: Iterable[Definition], args: Mapping[str, Any]) -> list[Condition]:
    """Query arguments of a screen or an export: cf_<key>=x, cf_<key>__gte=x, cf_<key>__lte=x."""
    conditions = []
    for definition in defs:
        bounds = {}
        for op, arg in (("eq", definition.name), ("gte", definition.name + "__gte"),
                        ("lte", definition.name + "__lte")):
            raw = args.get(arg)
            if raw is not None and str(raw).strip() != "":
                bounds[op] = raw
        if bounds:
            conditions.append(condition(definition, bounds))
    return conditions


def split_rison(defs: Iterable[Definition], filters: list) -> tuple[list[Condition], list]:
    """The REST API's rison filters -> (custom conditions, FAB's own filters). A custom one is
    {"col": "cf_<key>", "opr": "eq"|"gte"|"lte"|"has", "value": ...}."""
    by_name = {d.name: d for d in defs}
    bounds: dict[str, dict] = {}
    rest = []
    for item in filters or []:
        column = item.get("col", "") if isinstance(item, dict) else ""
        if column.startswith("cf_"):
            if column not in by_name:
                raise CrmError(_l("Unknown field: %(field)s", field=column), field=column)
            bounds.setdefault(column, {})[str(item.get("opr", "eq"))] = item.get("value")
        else:
            rest.append(item)
    return [condition(by_name[name], given) for name, given in bounds.items()], rest


def arg_names(definition: Definition) -> dict[str, str]:
    return {op: definition.name + _SUFFIX.get(op, "") for op in definition.field_type.filter_ops}


# ---------------------------------------------------------------- queries

# Above this many matches a page is found faster by walking the records (or the sort field's index) in
# order and probing each for the condition, than by collecting every match and sorting them.
PROBE_ABOVE = 5000


def _in_record_order(item: Condition) -> bool:
    """Equality on (field_id, value, record_id) or (option_id, record_id): the index lists matches by id."""
    kind = item.definition.field_type
    return kind.key == "select" or (kind.key != "multiselect" and item.low is not None and item.low == item.high)


def _exists(model, module: str, item: Condition):
    holder = aliased(VALUE_MODELS[module])
    return exists().where(holder.record_id == model.id, item.predicate(holder))


def _filtered(model, module: str, filters, conditions: list[Condition], drive: bool = True):
    """The records that pass the custom conditions and the FAB filters (scope, built-ins, keyword).
    `drive`: the first condition's index drives the query (joins); otherwise the conditions are probes
    (EXISTS) on records reached another way. Returns (query, the driving value alias or None)."""
    value_model = VALUE_MODELS[module]
    query = db.session.query(model)
    driver = None
    for index, item in enumerate(conditions):
        if not drive:
            query = query.filter(_exists(model, module, item))
            continue
        alias = aliased(value_model, name=f"cfv{index}")
        if driver is None:
            query = query.select_from(alias).join(model, model.id == alias.record_id)
            driver = alias
        else:
            query = query.join(alias, alias.record_id == driver.record_id)
        query = query.filter(item.predicate(alias))
    if filters is not None:
        query = filters.apply_all(query)
    return query, driver


def matching_ids(model, module: str, conditions: list[Condition]):
    """The conditions as a predicate on the record, for callers that build their own query (the export)."""
    return and_(*[_exists(model, module, item) for item in conditions]) if conditions else None


def _count(query, key, cap: Optional[int] = None) -> int:
    query = query.enable_eagerloads(False).order_by(None)
    if cap:  # the list's datamodel counts at most cap + 1 rows (views/datamodel.py)
        limited = query.with_entities(key).limit(cap + 1).subquery()
        return db.session.query(func.count()).select_from(limited).scalar() or 0
    return query.with_entities(func.count(key)).scalar() or 0


def _value_count(module: str, conditions: list[Condition], cap: Optional[int] = None, model=None,
                 left_out=None) -> int:
    """The records that hold values passing every condition, counted on the value indexes alone.
    `left_out`, a predicate on `model` (see `_left_out`): those records are not counted. `cap`: count at most
    cap + 1, like the lists' own counts (views/datamodel.py) — exact up to the cap, above it some number
    over the cap, so a 多选 LIKE or a wide range stops after cap + 1 matches instead of reading every one."""
    value_model = VALUE_MODELS[module]
    driver = aliased(value_model, name="cfv0")
    query = select(driver.record_id).select_from(driver).where(conditions[0].predicate(driver),
                                                               not_binned(module, driver.record_id))
    for index, item in enumerate(conditions[1:], 1):
        alias = aliased(value_model, name=f"cfv{index}")
        query = query.join(alias, alias.record_id == driver.record_id).where(item.predicate(alias))
    if left_out is not None:
        # NOT EXISTS rather than a join to the record: PostgreSQL then hashes the few left-out ids once
        # (an anti-join) instead of hashing every record, SQLite probes the record's primary key
        query = query.where(~exists().where(model.id == driver.record_id, left_out))
    if not cap:
        return db.session.scalar(query.with_only_columns(func.count(driver.record_id))) or 0
    return db.session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0


def _record_side(model, filters):
    """The FAB filters (data scope, built-in filters, keyword) as one SQL predicate, None if none."""
    if filters is None:
        return None
    return filters.apply_all(db.session.query(model.id)).whereclause


def _left_out(filters):
    """When the only filter is the data scope and the records it leaves out are few and indexed (the pool
    for someone who sees every owned customer): that predicate. Otherwise None."""
    active = list(getattr(filters, "filters", []) or [])
    if len(active) != 1 or not hasattr(active[0], "left_out"):
        return None
    return active[0].left_out()


def count(model, module: str, filters, conditions: list[Condition], cap: Optional[int] = None) -> int:
    """How many records the list holds; with `cap`, exact up to the cap and above it some number over the
    cap (the screen shows "10,000+"), like the lists' own counts. With a custom filter, the count avoids
    visiting every matching record where that is exact: nothing on the record side -> count the value
    index; only a scope that leaves out a few indexed records -> the value index without those few (capped:
    one query that stops after cap + 1; exact: the value-index count minus the matches among those few,
    probed from their side, when there are many matches). Otherwise the join, driven from its more selective
    side."""
    if conditions:
        if _record_side(model, filters) is None:
            return _value_count(module, conditions, cap)
        left_out = _left_out(filters)
        if left_out is not None and cap:
            # the exact subtraction would need every pool match (a probe per pool customer) and every
            # value match; matches outside the pool, cap + 1 of them at most, need neither
            return _value_count(module, conditions, cap, model, left_out)
        if left_out is not None:
            matched = _value_count(module, conditions)
            if matched > PROBE_ABOVE:
                few, _driver = _filtered(model, module, None, conditions, drive=False)
                return matched - _count(few.filter(left_out), model.id)
    query, driver = _filtered(model, module, filters, conditions)
    return _count(query, driver.record_id if driver is not None else model.id, cap)


def page(datamodel, module: str, filters, conditions: list[Condition], order_column: str = "",
         order_direction: str = "", page_index: Optional[int] = None, page_size: int = 50,
         sort: Optional[Definition] = None) -> tuple[int, list]:
    """(total count, the records of one page), filtered and ordered in SQL. `sort` orders by a custom
    field (`order_direction` applies); otherwise `order_column` is a column of the record."""
    total = count(datamodel.obj, module, filters, conditions, getattr(datamodel, "count_cap", None))
    return total, items(datamodel, module, filters, conditions, order_column, order_direction, page_index,
                        page_size, sort, total)


def items(datamodel, module: str, filters, conditions: list[Condition], order_column: str = "",
          order_direction: str = "", page_index: Optional[int] = None, page_size: int = 50,
          sort: Optional[Definition] = None, total: Optional[int] = None, where=None) -> list:
    """The records of one page (see `page()`). `total`, the count of matches, picks the shape: few
    matches are collected from the filter's index and sorted; many are found by walking the wanted
    order and probing, which stops after one page. `where`: one more condition on the record (a page
    after a cursor, views/keyset.py); not with `sort`."""
    model = datamodel.obj
    offset = (page_index or 0) * page_size
    by_id = sort is None and order_column in ("", "id")
    drive = bool(conditions) and (total is None or total < PROBE_ABOVE
                                  or (by_id and all(_in_record_order(c) for c in conditions)))
    if sort is not None:
        return _sorted_page(model, module, filters, conditions, sort, order_direction, offset, page_size, drive)
    query, driver = _filtered(model, module, filters, conditions, drive)
    if where is not None:
        query = query.filter(where)
    direction = desc if order_direction == "desc" else asc
    if by_id:
        # the driving index's own order where it has one: no sort of every match before the LIMIT
        query = query.order_by(direction(driver.record_id if driver is not None else model.id))
    else:
        query = datamodel.apply_order_by(query, order_column, order_direction, add_pk=True)
    return query.offset(offset).limit(page_size).all()


def _sorted_page(model, module, filters, conditions, definition: Definition, order_direction, offset, limit,
                 drive):
    """Records with a value, in the field's index order; then those without one, newest first."""
    value_model = VALUE_MODELS[module]
    kind = definition.field_type
    direction = desc if order_direction == "desc" else asc
    holder = aliased(value_model, name="cfsort")
    column = getattr(holder, kind.column)
    with_value, _driver = _filtered(model, module, filters, conditions, drive)
    with_value = with_value.join(holder, and_(holder.record_id == model.id, holder.field_id == definition.id,
                                              column.isnot(None))) \
        .order_by(direction(column), direction(holder.record_id))
    rows = with_value.offset(offset).limit(limit).all()
    if len(rows) == limit:
        return rows
    if rows or offset == 0:
        valued = offset + len(rows)
    else:
        valued = _count(with_value, holder.record_id)
    without, _driver = _filtered(model, module, filters, conditions, drive)
    empty = aliased(value_model, name="cfempty")
    without = without.filter(~exists().where(empty.record_id == model.id, empty.field_id == definition.id)) \
        .order_by(model.id.desc())
    return rows + without.offset(max(0, offset - valued)).limit(limit - len(rows)).all()
