"""Roles live in the tables the suite keeps between tests (what `crm init` makes), so a test that adds
roles or edits a built-in role's matrix puts everything back afterwards with `restore_roles`."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import delete, select

from app import roles as role_service
from app.extensions import db
from app.permissions import ADMIN_ROLE, BUILTIN_ROLES
from models.roles import RoleFieldPermission, RoleProfile


def reset_roles() -> None:
    """Drop every role `crm init` did not make and give the built-in ones their defaults back."""
    from flask_appbuilder.security.sqla.models import assoc_permissionview_role, assoc_user_role

    role_model = current_app.appbuilder.sm.role_model
    db.session.rollback()
    for role in db.session.scalars(select(role_model)).all():
        if role.name == ADMIN_ROLE or role.name in BUILTIN_ROLES:
            continue
        for table, column in ((assoc_user_role, assoc_user_role.c.role_id),
                              (assoc_permissionview_role, assoc_permissionview_role.c.role_id),
                              (RoleFieldPermission.__table__, RoleFieldPermission.role_id),
                              (RoleProfile.__table__, RoleProfile.role_id),
                              (role_model.__table__, role_model.__table__.c.id)):
            db.session.execute(delete(table).where(column == role.id))
    db.session.expire_all()
    for name, builtin in BUILTIN_ROLES.items():
        role = db.session.scalar(select(role_model).where(role_model.name == name))
        rows = role_service._permission_views({view for _perm, view in builtin.permissions})
        role.permissions = [rows[pair] for pair in builtin.permissions]
        profile = role_service.profile_of(role, create=True)
        profile.kind, profile.data_scope, profile.analysis = builtin.kind, builtin.data_scope, ",".join(
            builtin.analysis)
        db.session.execute(delete(RoleFieldPermission).where(RoleFieldPermission.role_id == role.id))
    db.session.flush()
    db.session.commit()


@pytest.fixture
def restore_roles(app):
    yield
    with app.app_context():
        reset_roles()
        db.session.remove()
