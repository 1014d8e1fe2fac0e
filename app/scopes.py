"""Data scope (数据权限) -> one SQL predicate on a record's owner.

Every query that reads owned records goes through `visible_to()`: lists, details, edits, deletes,
exports, the REST API, dropdowns, phone search and statistics. An org change (new manager, moved
department) counts from the next request (the owners are read once per request); a role's data scope is
kept until a role changes (app/authcache.py).

The owners in scope are resolved when the predicate is built (the manager chain by a recursive CTE,
the department subtree by its materialised path) and put into the predicate as a literal id list.
With the list in hand the planner knows how many owners, and which: for a broad scope it walks the
records in list order and stops at the page, for a narrow one it probes the owner index (SQLite does not
weigh a LIMIT; app/scope_plan.py makes that choice for it). A subquery left it guessing, and it sorted every visible record to show 50
(bench/bench_scope.py: 2 s -> a few ms for a head office over 1,000,000 customers).
"""
from __future__ import annotations

from typing import Optional

from flask import g, has_request_context
from sqlalchemy import and_, bindparam, false, literal, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app import authcache, scope_plan
from app.extensions import db
from app.permissions import ADMIN_ROLE
from models.org import Department, Employee
from models.roles import DATA_SCOPES, RoleProfile

SELF, SUBORDINATES, DEPARTMENT, DEPARTMENT_TREE, ALL = DATA_SCOPES


def user_scopes(user: Optional[Employee]) -> set[str]:
    """The scopes of all the user's roles (their union decides); a role without one sees its own records."""
    if user is None or getattr(user, "is_anonymous", False) or not getattr(user, "id", None):
        return set()
    if any(role.name == ADMIN_ROLE for role in user.roles):
        return {ALL}
    role_ids = authcache.role_key(user)
    if not role_ids:
        return {SELF}
    # kept per set of roles until a role changes (app/authcache.py)
    return set(authcache.cached("scopes", role_ids, lambda: _read_scopes(role_ids)))


def _read_scopes(role_ids) -> frozenset:
    found = dict(db.session.execute(
        select(RoleProfile.role_id, RoleProfile.data_scope).where(RoleProfile.role_id.in_(sorted(role_ids)))).all())
    return frozenset(found.get(role_id, SELF) for role_id in role_ids)


def subordinate_ids(user_id: int):
    """A select of the user and everyone below them in the manager chain, at any depth."""
    chain = select(Employee.id.label("id")).where(Employee.id == user_id).cte("chain", recursive=True)
    below = aliased(Employee)
    chain = chain.union(select(below.id).where(below.manager_id == chain.c.id))
    return select(chain.c.id)


def department_member_ids(user: Employee, subtree: bool):
    if user.department_id is None:
        return select(literal(user.id))
    if not subtree:
        return select(Employee.id).where(Employee.department_id == user.department_id)
    own = select(Department.path).where(Department.id == user.department_id).scalar_subquery()
    return (select(Employee.id).join(Department, Employee.department_id == Department.id)
            .where(Department.path.startswith(own)))


def owner_ids(user: Employee, scopes: set[str]) -> set[int]:
    """The employees whose records the scopes (other than 全部) reach, as of now (read once per request: a
    list asks for its count and its page; a change to an employee or a department in the request forgets
    it, app/authcache.py)."""
    memo = g.setdefault("_crm_scope_owners", {}) if has_request_context() else {}
    key = (user.id, frozenset(scopes))
    if key not in memo:
        memo[key] = frozenset(_read_owner_ids(user, scopes))
    return set(memo[key])


def _read_owner_ids(user: Employee, scopes: set[str]) -> set[int]:
    owners = {user.id}
    queries = []
    if SUBORDINATES in scopes:
        queries.append(subordinate_ids(user.id))
    if DEPARTMENT_TREE in scopes:
        queries.append(department_member_ids(user, subtree=True))
    elif DEPARTMENT in scopes:
        queries.append(department_member_ids(user, subtree=False))
    for query in queries:
        owners.update(db.session.scalars(query))
    return owners


def owner_predicate(owner_column, user: Optional[Employee]) -> ColumnElement:
    """The records whose owner is within the user's data scope (全部: every record)."""
    scopes = user_scopes(user)
    if not scopes:
        return false()
    if ALL in scopes:
        return true()
    if scopes == {SELF}:
        return owner_column == user.id
    # literal values, not bound parameters: no limit on their number, and the plan sees them
    ids = sorted(owner_ids(user, scopes))
    owners = bindparam("scope_owner_ids", ids, expanding=True, literal_execute=True, unique=True)
    # on SQLite, a sorted page may walk the sort's index instead (app/scope_plan.py)
    return scope_plan.scope_in(owner_column, owners, len(ids))


def visible_to(model, user: Optional[Employee]) -> ColumnElement:
    return owner_predicate(model.owner_id, user)


def may_see_pool(user: Optional[Employee]) -> bool:
    """公海 is governed by its own permission, not by the data scope."""
    from flask import current_app

    if user is None or getattr(user, "is_anonymous", False):
        return False
    return ("can_view", "pool") in current_app.appbuilder.sm.permission_pairs(user)


def reachable(model, user: Optional[Employee]) -> ColumnElement:
    """The records the user may open or hang others on: owned within the scope, or (no owner) in the
    pool for those who may look into it."""
    owned = and_(model.owner_id.isnot(None), visible_to(model, user))
    return or_(owned, model.owner_id.is_(None)) if may_see_pool(user) else owned


def can_own(user: Optional[Employee], owner_id: Optional[int]) -> bool:
    """May `user` give a record to `owner_id` (add, assign, transfer)? The new owner must be in scope."""
    if owner_id is None:
        return False
    predicate = owner_predicate(Employee.id, user)
    return db.session.scalar(select(Employee.id).where(Employee.id == owner_id, predicate)) is not None
