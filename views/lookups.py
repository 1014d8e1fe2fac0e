"""Search-as-you-type for the pickers of the generated screens (/<module>/lookup/<relationship>/?q=):
record fields, list filters and the employee boxes. Every answer stays inside what the employee may
reach and see:

- records of a module: matched by that module's search box (only the fields the employee may search),
  within the data scope (and the pool for those who may look into it), named as the employee may see
  them (a hidden company name -> #12; a pool customer named and matched by 公海's rules, the stricter);
- employees (负责人, 创建人, ...): those within the viewer's data scope, matched by name or login; the
  pickers of forms (owner, transfer, manager, seat, import) ask with active=1: only 在职 (active) accounts;
- anything else with its own screen filter (customer groups: one's own) goes through that filter.
At most LOOKUP_LIMIT rows: the box asks again as the user types.
"""
from __future__ import annotations

from sqlalchemy import and_, not_, or_, select

from app import fieldperms, scopes
from app.extensions import db
from models.mixins import OwnedMixin
from models.org import AccountState, Employee

LOOKUP_LIMIT = 20
MAX_QUERY = 100  # characters of q looked at


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def employee_choices(user, active_only: bool = False):
    """The employees a picker offers `user`: within the data scope (and active, for a form's pickers)."""
    query = select(Employee).where(scopes.owner_predicate(Employee.id, user))
    return query.where(Employee.state == AccountState.ACTIVE.value) if active_only else query


def employee_allowed(employee_id: int, user, active_only: bool = False) -> bool:
    """Would the picker offer this employee? (what a posted form's choice is checked against)"""
    query = employee_choices(user, active_only).where(Employee.id == employee_id)
    return db.session.scalar(query.with_only_columns(Employee.id)) is not None


def employees(text: str, user, active_only: bool = False, exclude=()) -> list[dict]:
    query = employee_choices(user, active_only)
    if exclude:
        query = query.where(Employee.id.notin_(list(exclude)))
    return matching_employees(query, text)


def matching_employees(query, text: str) -> list[dict]:
    """The first LOOKUP_LIMIT employees of `query` whose name or login contains `text`, as picker rows."""
    text = (text or "").strip()[:MAX_QUERY]
    if text:
        like = like_pattern(text)
        query = query.where(or_(Employee.first_name.ilike(like, escape="\\"),
                                Employee.username.ilike(like, escape="\\")))
    rows = db.session.scalars(query.order_by(Employee.first_name, Employee.id).limit(LOOKUP_LIMIT))
    return [{"id": row.id, "text": row.first_name} for row in rows]


def search(target: type, text: str, user, spec_by_model: dict, active_only: bool = False) -> list[dict]:
    """[{"id", "text"}] of the records of `target` matching `text` that `user` may pick."""
    from views.query_filters import keyword_predicate

    text = (text or "").strip()[:MAX_QUERY]
    if target is Employee or issubclass(target, Employee):
        return employees(text, user, active_only)
    target_spec = spec_by_model.get(target)
    view = fieldperms.label_view(target, user)
    query = select(target)
    if target_spec is not None:
        predicate = keyword_predicate(target_spec, text)
        pool = view.pool_view() if view is not None else None
        if predicate is not None and pool is not None:
            # a pool customer is matched only on what 公海's rules leave searchable, as it is named by them
            pooled = view.pooled()
            predicate = or_(and_(not_(pooled), predicate),
                            and_(pooled, keyword_predicate(target_spec, text, pool.accesses)))
        if predicate is not None:
            query = query.where(predicate)
    if issubclass(target, OwnedMixin):
        query = query.where(scopes.reachable(target, user))
    elif target_spec is not None and target_spec.base_filter is not None:
        query = query.where(target_spec.base_filter())
    rows = db.session.scalars(query.order_by(target.id.desc()).limit(LOOKUP_LIMIT))
    name = view.label if view is not None else str  # no module's records: named as they are
    return [{"id": row.id, "text": name(row)} for row in rows]
