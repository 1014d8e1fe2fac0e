"""Keyset ("seek") paging for the generated REST API: `GET /api/v1/<module>/?cursor=...`.

Page N by number costs an OFFSET of N x page_size rows (the database reads and drops them); a cursor
names where the previous page stopped — the last row's sort value and id — so the next page starts
there, through the sort column's index, at the same cost on page 20,000 as on page 2.

A cursor is opaque to the client: the list's position, signed with the app's SECRET_KEY (itsdangerous),
and bound to the query it came from (module, caller, sort, filters): a garbled or forged cursor, or one
replayed with another sort or filter, is refused with 400. It only ever adds a condition to the list's
own query, so the caller's data scope and filters still decide which records are there.

The order is the list's (`views/datamodel.py`): the sort column, NULLS LAST in both directions, then the
id in the same direction. After a row with a value the page continues with larger (asc) / smaller (desc)
(value, id) pairs, then with the rows without a value; after a row without one, with the rest of those.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, NamedTuple, Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, Text, and_, inspect, literal, select, tuple_

from app.errors import CrmError
from app.extensions import db

SALT = "crm.list-cursor"
_BY_REFERENCE = object()
MAX_LENGTH = 2000


class CursorError(CrmError):
    """A cursor that is not one this server gave for this query: 400, in the user's language."""

    def __init__(self, message=None):
        super().__init__(message or _l("The paging cursor is not valid; start again from the first page."),
                         field="cursor", status=400)


class Position(NamedTuple):
    """Where the previous page stopped: the sort column's value (None: the row had none) and the id."""
    value: Any
    id: int


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def fingerprint(resource: str, user_id, order_column: str, order_direction: str, filters) -> str:
    """What a cursor is bound to: the list, the caller, the sort and the filters (as sent)."""
    text = json.dumps([resource, user_id, order_column, order_direction, filters], sort_keys=True, default=str,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode(bound_to: str, value: Any, pk: int, by_reference: bool = False) -> str:
    """`by_reference`: the caller may not see the sort field (a default sort on a hidden field): the cursor
    holds only the id, and the value is read from that record when the cursor comes back (signed is not
    secret: a cursor's content is readable)."""
    return _serializer().dumps([bound_to, pk] if by_reference else [bound_to, _plain(value), pk])


def _reader(column) -> Callable[[Any], Any]:
    """The column's Python value back from its JSON form; anything else raises (-> 400)."""
    kind = column.type

    def text(v):
        if not isinstance(v, str):
            raise ValueError(v)
        return v

    def integer(v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(v)
        return v

    def boolean(v):
        if not isinstance(v, bool):
            raise ValueError(v)
        return v

    if isinstance(kind, DateTime):
        return lambda v: dt.datetime.fromisoformat(text(v))
    if isinstance(kind, Date):
        return lambda v: dt.date.fromisoformat(text(v))
    if isinstance(kind, Boolean):
        return boolean
    if isinstance(kind, (Numeric, Float)) and not isinstance(kind, Integer):
        return lambda v: Decimal(text(v)) if getattr(kind, "asdecimal", True) else float(v)
    if isinstance(kind, Integer):
        return integer
    if isinstance(kind, (String, Text)):
        return text
    raise ValueError(kind)


def decode(token: str, bound_to: str, column) -> Position:
    """The position a cursor names, checked: signature, query, value types. CursorError otherwise."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        raise CursorError()
    try:
        payload = _serializer().loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        raise CursorError()
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        raise CursorError()
    fp, raw, pk = payload if len(payload) == 3 else (payload[0], _BY_REFERENCE, payload[1])
    if fp != bound_to:
        raise CursorError(_l("This paging cursor belongs to another sort or filter; start again from the first "
                             "page."))
    if isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk < 2 ** 63:
        raise CursorError()
    if raw is _BY_REFERENCE:
        found = db.session.execute(select(column).where(list(column.table.primary_key.columns)[0] == pk)).first()
        if found is None:
            raise CursorError(_l("The record this paging cursor points at is gone; start again from the first "
                                 "page."))
        return Position(found[0], pk)
    if raw is None:
        if not column.nullable:
            raise CursorError()
        return Position(None, pk)
    try:
        value = _reader(column)(raw)
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        raise CursorError()
    return Position(value, pk)


def sort_column(model, order_column: str):
    """The table column a list is sorted on (the id when unsorted), or None when paging by cursor cannot
    follow that sort (a related record's field, a custom field)."""
    mapper = inspect(model)
    name = order_column or mapper.primary_key[0].key
    if "." in name or name not in mapper.columns:
        return None
    return mapper.columns[name]


def after(model, column, direction: str, position: Position) -> tuple:
    """(condition for the rows after `position` that have a value or are the id column, condition for the
    rows without a value that follow, or None). Two conditions, each an index range: SQLite and PostgreSQL
    seek to the start of each instead of reading what comes before."""
    pk = inspect(model).primary_key[0]
    attr = getattr(model, column.key)
    ascending = direction == "asc"
    pk_after = (pk > position.id) if ascending else (pk < position.id)
    if column is pk:
        return pk_after, None
    if position.value is None:
        return None, and_(attr.is_(None), pk_after)
    pair = tuple_(attr, pk)
    bound = tuple_(literal(position.value, attr.type), literal(position.id, pk.type))
    if ascending:
        valued = and_(attr >= position.value, pair > bound)
    else:
        valued = and_(attr <= position.value, pair < bound)
    return valued, (attr.is_(None) if column.nullable else None)


def next_cursor(bound_to: str, column, items: list, page_size: Optional[int], readable: bool = True
                ) -> Optional[str]:
    """The cursor of the page after `items`, None when this page is the last (it came back short)."""
    if not items or not page_size or len(items) < page_size:
        return None
    last = items[-1]
    if not readable:
        return encode(bound_to, None, last.id, by_reference=True)
    return encode(bound_to, getattr(last, column.key), last.id)
