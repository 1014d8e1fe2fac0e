"""Roles live in the tables the suite keeps between tests (what `crm init` makes), so a test that adds
roles or edits a built-in role's matrix puts everything back afterwards with `restore_roles`.

`person_with_fields` makes an employee of a role with field permissions, owning a customer whose values are
the secrets a side-door test looks for (`leaks`)."""
from __future__ import annotations

import json
from typing import Optional

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


SECRET_NAME, SECRET_MOBILE = "保密甲公司", "13812345678"


def leaks(text: str, secret: str) -> bool:
    """The secret anywhere in the page: as text, or escaped inside the page's JSON (the filter forms)."""
    return secret in text or json.dumps(secret)[1:-1] in text


def person_with_fields(app, fields: dict, tag: str, calls: bool = False, rights: Optional[dict] = None) -> dict:
    """An employee of a role (a copy of 销售主管) with these field rules (`{"customer": {"mobile": "hidden"}}`),
    owning two customers — SECRET_NAME / SECRET_MOBILE / 张三, and 普通乙公司 / 李四 — and a contact of the first.
    With `calls`: the role may also view calls, the employee has a device seat, and one call to the secret
    customer and one follow-up of it are made before the rules apply (ids `call`, `followup`). `rights`: more
    module rights for the role ({"customer": ["delete"]})."""
    from app import telephony
    from models.crm import Contact, FollowUp
    from tests import callfixtures as cf
    from tests import factories as f

    with app.app_context():
        base = current_app.appbuilder.sm.find_role("销售主管")
        role = role_service.copy_role(base.id, f"受限{tag}")
        wanted = {**(rights or {}), **({"line": ["view", "export"]} if calls else {})}
        if wanted:
            modules = role_service.read_matrix(base.id)["modules"]
            for module, added in wanted.items():
                modules[module] = sorted(set(modules.get(module, [])) | set(added))
            role_service.write_matrix(role.id, {"modules": modules})
        person = f.employee(f"受限员工{tag}", role=role.name)
        secret = f.customer(person, SECRET_NAME, SECRET_MOBILE, contact_name="张三")
        plain = f.customer(person, "普通乙公司", "13987654321", contact_name="李四")
        contact = Contact(customer_id=secret.id, name="联系人甲", owner_id=person.id,
                          department_id=person.department_id)
        db.session.add(contact)
        db.session.commit()
        ids = dict(id=person.id, login=person.username, secret=secret.id, plain=plain.id, contact=contact.id)
        if calls:
            cf.seat(person)
            ids["call"] = telephony.dial(person, customer_id=secret.id).record.id
            followup = FollowUp(customer_id=secret.id, way="call", content="跟进了一次", owner_id=person.id,
                                department_id=person.department_id)
            db.session.add(followup)
            db.session.commit()
            ids["followup"] = followup.id
        role_service.write_matrix(role.id, {"fields": fields})
        db.session.remove()
    return ids


def two_with_every_right(dept_name: str = "销售部"):
    """(department, 小李, 小王): colleagues holding a role with every module right and the scope 本人, so only
    the data scope stands between them (a 403 would prove nothing)."""
    from app.permissions import MODULES
    from tests import factories as f

    role = role_service.create_role("全权-本人")
    role_service.write_matrix(role.id, {"modules": {m: list(actions) for m, (_l, actions) in MODULES.items()},
                                        "data_scope": "self"})
    dept = f.department(dept_name)
    return dept, f.employee("小李", dept, role="全权-本人"), f.employee("小王", dept, role="全权-本人")
