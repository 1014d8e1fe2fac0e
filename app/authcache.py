"""What a set of roles may do, remembered across requests until any role changes.

A request used to read, from the database, the public role's permissions (twice), its roles' permission rows,
their data scopes and their field permissions — the same answers for every request of every employee with
the same roles. They are now kept in this process, keyed by the set of role ids and by a counter in the
database (`crm_cache_version`, migration 0014) that every change to roles, permissions, data scopes, field
permissions or an employee's roles increments in the same transaction. A request reads the counter once
(one primary-key lookup); a change made by any process counts from the next request of every process,
as before. Nothing about the organisation (who reports to whom) or the records is kept.

The counter moves from:
- an ORM flush that adds, changes or deletes a Role, Permission, ViewMenu, PermissionView, RoleProfile or
  RoleFieldPermission, or that changes an employee's roles (or adds or deletes an employee);
- a session-level INSERT / UPDATE / DELETE on one of their tables (`db.session.execute(delete(...))`).
A write to those tables outside the session (raw SQL in a migration) must call `bump()` itself.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Hashable

from flask import g, has_request_context
from flask_appbuilder import Model
from sqlalchemy import BigInteger, Column, String, Table, event, inspect, select, update
from sqlalchemy.orm import Session

NAME = "auth"
# on FAB's metadata with every other table, so Alembic's autogenerate knows it (migration 0014_keyset)
version_table = Table("crm_cache_version", Model.metadata, Column("name", String(32), primary_key=True),
                      Column("value", BigInteger, nullable=False))

WATCHED_TABLES = {"ab_role", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role",
                  "ab_user_role", "role_profile", "role_field_permission"}

_lock = threading.Lock()
_cache: dict[Hashable, Any] = {}
_cache_version: list = [None]


def current_version():
    """The counter, read once per request (None outside a request: nothing is cached then)."""
    if not has_request_context():
        return None
    if "_crm_auth_version" not in g:
        from app.extensions import db

        g._crm_auth_version = db.session.execute(
            select(version_table.c.value).where(version_table.c.name == NAME)).scalar()
    return g._crm_auth_version


def cached(kind: str, key: Hashable, compute: Callable[[], Any]) -> Any:
    """compute() once per (kind, key) while the counter stays; always compute() outside a request. The
    value is shared between requests and threads: it must not be changed by the caller."""
    version = current_version()
    if version is None or g.get("_crm_auth_dirty"):
        return compute()
    with _lock:
        if _cache_version[0] != version:
            _cache.clear()
            _cache_version[0] = version
        found = _cache.get((kind, key), _MISSING)
    if found is not _MISSING:
        return found
    value = compute()
    with _lock:
        if _cache_version[0] == version:
            _cache[(kind, key)] = value
    return value


_MISSING = object()


def role_key(user) -> frozenset:
    return frozenset(role.id for role in user.roles)


def bump(connection) -> None:
    """Increment the counter on `connection` (inside the writer's transaction)."""
    connection.execute(update(version_table).where(version_table.c.name == NAME)
                       .values(value=version_table.c.value + 1))
    if has_request_context():
        # this request sees its own change, which may still be rolled back: it no longer uses the cache
        g._crm_auth_dirty = True


def _watched_object(obj) -> bool:
    table = getattr(type(obj), "__tablename__", None)
    return table in WATCHED_TABLES


def _roles_changed(obj) -> bool:
    state = inspect(obj)
    return "roles" in state.attrs and state.attrs.roles.history.has_changes()


def _needs_bump(session: Session) -> bool:
    from models.org import Employee

    for obj in list(session.new) + list(session.deleted):
        if _watched_object(obj) or isinstance(obj, Employee):
            return True
    for obj in session.dirty:
        if _watched_object(obj) and session.is_modified(obj):
            return True
        if isinstance(obj, Employee) and _roles_changed(obj):
            return True
    return False


ORG_TABLES = {"ab_user", "department"}


def _forget_org() -> None:
    """An employee or a department changed in this request: its data-scope owners are read again."""
    if has_request_context():
        g.pop("_crm_scope_owners", None)


def _before_flush(session, _flush_context, _instances) -> None:
    changed = list(session.new) + list(session.dirty) + list(session.deleted)
    if any(getattr(type(obj), "__tablename__", None) in ORG_TABLES for obj in changed):
        _forget_org()
    if _needs_bump(session):
        bump(session.connection())


def _statement_tables(statement) -> set:
    table = getattr(statement, "table", None)
    if table is None:
        return set()
    names = {getattr(table, "name", None)}
    names.add(getattr(getattr(table, "entity_namespace", None), "__tablename__", None))
    return {n for n in names if n}


def _on_execute(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    tables = _statement_tables(state.statement)
    if tables & ORG_TABLES:
        _forget_org()
    if tables & WATCHED_TABLES:
        bump(state.session.connection())


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
