"""Golden test: the built-in roles' matrix, spelled out. A change to app/permissions.py that moves a right
must change this file too, so it shows up in review."""
from sqlalchemy import select

from app import roles as role_service
from app.extensions import db
from app.permissions import ADMIN_ROLE, ANALYSIS, BUILTIN_ROLES, EVERYONE, MODULES, ORGANISATION, ROLES, SETTINGS

ALL_ANALYSIS = ["customer_by_employee", "customer_by_department", "followup_by_employee", "followup_by_department",
                "call_by_employee", "call_by_department", "sales_by_employee", "sales_by_department"]

# the manual's nine modules and what applies to each
EXPECTED_MODULES = {
    "line": ["view", "add", "edit", "delete", "export"],
    "customer": ["view", "add", "edit", "delete", "export", "import", "transfer", "release"],
    "contact": ["view", "add", "edit", "delete", "export", "import"],
    "pool": ["view", "claim", "assign", "delete", "export", "import"],
    "opportunity": ["view", "add", "edit", "delete", "export", "transfer"],
    "contract": ["view", "add", "edit", "delete", "export", "import", "transfer"],
    "product": ["view", "add", "edit", "delete", "export", "import"],
    "followup": ["view", "add", "edit", "delete", "export"],
    "invoice": ["view", "add", "edit", "delete", "export", "import"],
    "console": ["view"],  # 控制台: administrators only among the built-in roles
}

EXPECTED_ROLES = {
    ADMIN_ROLE: {"kind": "customer", "data_scope": "all", "analysis": ALL_ANALYSIS, "fields": {},
                 "modules": EXPECTED_MODULES},
    # everything but delete and import
    "销售主管": {"kind": "customer", "data_scope": "self_and_subordinates", "analysis": ALL_ANALYSIS, "fields": {},
             "modules": {
                 "line": ["view", "add", "edit", "export"],
                 "customer": ["view", "add", "edit", "export", "transfer", "release"],
                 "contact": ["view", "add", "edit", "export"],
                 "pool": ["view", "claim", "assign", "export"],
                 "opportunity": ["view", "add", "edit", "export", "transfer"],
                 "contract": ["view", "add", "edit", "export", "transfer"],
                 "product": ["view", "add", "edit", "export"],
                 "followup": ["view", "add", "edit", "export"],
                 "invoice": ["view", "add", "edit", "export"],
             }},
    # view, add, edit; no delete, export, import or transfer
    "销售": {"kind": "customer", "data_scope": "self", "fields": {},
           "analysis": ["customer_by_employee", "followup_by_employee", "call_by_employee", "sales_by_employee"],
           "modules": {
               "line": ["view"],
               "customer": ["view", "add", "edit", "release"],
               "contact": ["view", "add", "edit"],
               "pool": ["view", "claim"],
               "opportunity": ["view", "add", "edit"],
               "contract": ["view", "add", "edit"],
               "product": ["view"],
               "followup": ["view", "add", "edit"],
               "invoice": ["view", "add", "edit"],
           }},
    "坐席": {"kind": "call_center", "data_scope": "self", "fields": {},
           "analysis": ["call_by_employee", "followup_by_employee"],
           "modules": {
               "line": ["view"],
               "customer": ["view"],
               "contact": ["view"],
               "followup": ["view", "add"],
           }},
}


def _as_matrix(builtin) -> dict:
    modules: dict[str, list[str]] = {}
    for permission, resource in builtin.permissions:
        if resource in MODULES:
            modules.setdefault(resource, []).append(permission.removeprefix("can_"))
    return {"kind": builtin.kind, "data_scope": builtin.data_scope, "analysis": list(builtin.analysis),
            "fields": {}, "modules": modules}


def test_the_module_list_is_the_manuals():
    assert {m: list(actions) for m, (_label, actions) in MODULES.items()} == EXPECTED_MODULES
    assert list(ANALYSIS) == ALL_ANALYSIS


def test_builtin_roles_as_data_match_the_golden_matrix():
    assert set(BUILTIN_ROLES) == set(EXPECTED_ROLES) - {ADMIN_ROLE}
    for name, builtin in BUILTIN_ROLES.items():
        assert _as_matrix(builtin) == EXPECTED_ROLES[name], name
        # beyond the matrix, only what every employee needs (their profile and password)
        extra = [pair for pair in builtin.permissions if pair[1] not in MODULES]
        assert extra == EVERYONE, name


def test_crm_init_stores_the_golden_matrix(ctx):
    for name, expected in EXPECTED_ROLES.items():
        role = db.session.scalar(select(role_service._role_model()).where(role_service._role_model().name == name))
        matrix = role_service.read_matrix(role.id)
        assert matrix == {k: v for k, v in expected.items() if k != "kind"}, name
        assert role_service.profile_of(role).kind == expected["kind"]


def test_the_administrator_holds_every_permission_there_is(ctx, app):
    sm = app.appbuilder.sm
    admin = sm.find_role(ADMIN_ROLE)
    held = {(pv.permission.name, pv.view_menu.name) for pv in admin.permissions}
    every = {(pv.permission.name, pv.view_menu.name) for pv in db.session.scalars(select(sm.permissionview_model))}
    assert held == every
    for module, actions in EXPECTED_MODULES.items():
        assert {(f"can_{a}", module) for a in actions} <= held
    assert {("can_view", ROLES), ("can_edit", ROLES), ("can_view", ORGANISATION), ("can_edit", SETTINGS)} <= held


def test_only_the_administrator_may_manage_roles(ctx, app):
    sm = app.appbuilder.sm
    for name in BUILTIN_ROLES:
        held = {(pv.permission.name, pv.view_menu.name) for pv in sm.find_role(name).permissions}
        assert not {pair for pair in held if pair[1] in (ROLES, ORGANISATION, SETTINGS)}, name


def test_a_builtin_roles_menus_follow_its_view_rights(app):
    """The navbar shows a module when the role may open its list: no separate menu rows to keep in step."""
    from flask import g

    from tests import factories as f

    with app.test_request_context():
        g.user = f.employee("坐席员", role="坐席")
        sm = app.appbuilder.sm
        visible = {name for name in ("CRM", "customer", "contact", "followup", "pool", "contract", "invoice",
                                     "Settings", "Employees") if sm.has_access("menu_access", name)}
        assert visible == {"CRM", "customer", "contact", "followup"}