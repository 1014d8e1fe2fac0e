"""The SQL predicates a generated module's queries get per request, for the screen and the API alike: the data
scope (what the logged-in user may see of the module, and the pool records it leaves out, for custom-field
counts) and the list's search box (a phone number by index, other text by substring, only in the columns the
employee may search). make_scope_filter and make_keyword_filter wrap them as FAB filters.
"""
from __future__ import annotations

from typing import Optional

from flask import g, request
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_

from app import fieldperms, phone, scopes, textsearch
from views.field_permission_hooks import current_access
from views.module_spec import ModuleSpec


def scope_predicate(spec: ModuleSpec):
    """What the logged-in user may see of this module, as one SQL predicate."""
    user = g.user if getattr(g, "user", None) is not None and not g.user.is_anonymous else None
    parts = []
    if spec.owned:
        if spec.base_filter is None:
            if spec.pool_records:  # e.g. a pool customer's contacts, for those who may look into the pool
                parts.append(scopes.reachable(spec.model, user))
            else:
                parts.append(and_(spec.model.owner_id.isnot(None), scopes.visible_to(spec.model, user)))
    if spec.base_filter is not None:
        parts.append(spec.base_filter())
    if spec.request_filter is not None:
        extra = spec.request_filter(request.args)
        if extra is not None:
            parts.append(extra)
    return and_(*parts) if parts else None


def scope_left_out(spec: ModuleSpec):
    """The records the scope leaves out, when they are few and indexed: for someone who sees every owned
    customer, the pool (owner_id IS NULL). custom_fields.query counts a filtered list as "matching values
    minus these" instead of visiting every matching record. None when that is not exact."""
    user = g.user if getattr(g, "user", None) is not None and not g.user.is_anonymous else None
    if spec.pool_records or spec.base_filter is not None or not spec.owned:
        return None
    if spec.request_filter is not None and spec.request_filter(request.args) is not None:
        return None
    if scopes.ALL not in scopes.user_scopes(user):
        return None
    return spec.model.owner_id.is_(None)


def make_scope_filter(spec: ModuleSpec):
    class ScopeFilter(BaseFilter):
        name = "scope"

        def apply(self, query, value):
            predicate = scope_predicate(spec)
            return query.filter(predicate) if predicate is not None else query

        def left_out(self):
            return scope_left_out(spec)

    return ScopeFilter


def keyword_predicate(spec: ModuleSpec, text: str, access: Optional[dict] = None):
    """The list's search box: a phone number (or its start) matches the phone columns by index;
    anything else matches the keyword columns by substring. Only the columns the employee may search
    (field permissions: not hidden, not masked); with none, nothing matches. `access`: {field: access}
    other than the screen's (a picker's pool customers: 公海's)."""
    text = (text or "").strip()
    if not text:
        return None
    access = current_access(spec) if access is None else access
    phone_columns, keyword_columns = list(spec.phone_columns), list(spec.keyword_columns)
    if access:
        phone_columns = fieldperms.searchable_columns(spec.module, phone_columns, access)
        keyword_columns = fieldperms.searchable_columns(spec.module, keyword_columns, access)
    model = spec.model
    digits = phone.search_digits(text)  # fullwidth '１３７…', '+86 137-…' -> ASCII digits, as they are stored
    if phone_columns and digits and len(digits) >= 3:
        digits = digits[-11:] if len(digits) > 11 else digits
        if len(digits) == 11:
            return or_(*[getattr(model, c) == digits for c in phone_columns])
        return or_(*[getattr(model, c).startswith(digits) for c in phone_columns])
    if not keyword_columns:
        return false()
    return textsearch.substring_predicate(model, keyword_columns, text)


def make_keyword_filter(spec: ModuleSpec, operator: Optional[str] = None):
    class KeywordFilter(BaseFilter):
        name = _l("Keyword")
        arg_name = operator or f"kw_{spec.key}"
        keyword = True  # searches only what the employee may search (views/field_permission_hooks.py)

        def apply(self, query, value):
            predicate = keyword_predicate(spec, value)
            return query.filter(predicate) if predicate is not None else query

    return KeywordFilter
