"""The permission matrix as data (read, diffed and golden-tested, like Airflow's FAB auth manager).

A role is a set of (permission, resource) pairs stored as FAB permission-view rows, so FAB's own
checks decide every request. For a CRM module the resource is the module key and the permission is
`can_<action>`: e.g. ("can_export", "customer").
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ADMIN_ROLE = "管理员"

ACTIONS = {
    "view": _l("View"), "add": _l("Add"), "edit": _l("Edit"), "delete": _l("Delete"), "export": _l("Export"),
    "import": _l("Import"), "transfer": _l("Transfer"), "release": _l("Return to pool"), "claim": _l("Claim"),
    "assign": _l("Assign"),
}

# the manual's 9 modules, in its order: key -> (label, actions that apply)
MODULES = {
    "line": (_l("Lines"), ("view", "add", "edit", "delete")),
    "customer": (_l("Customers"), ("view", "add", "edit", "delete", "export", "import", "transfer", "release")),
    "contact": (_l("Contacts"), ("view", "add", "edit", "delete", "export", "import")),
    "pool": (_l("Public pool"), ("view", "claim", "assign", "delete", "export", "import")),
    "opportunity": (_l("Opportunities"), ("view", "add", "edit", "delete", "export", "transfer")),
    "contract": (_l("Contracts"), ("view", "add", "edit", "delete", "export", "import", "transfer")),
    "product": (_l("Products"), ("view", "add", "edit", "delete", "export", "import")),
    "followup": (_l("Follow-ups"), ("view", "add", "edit", "delete", "export")),
    "invoice": (_l("Invoices"), ("view", "add", "edit", "delete", "export", "import")),
}

# screens that are not CRM modules: administrators only, unless a role is given them explicitly
ORGANISATION = "Organisation"
ORGANISATION_ACTIONS = ("can_view", "can_add", "can_edit", "can_delete", "can_manage_accounts")
SETTINGS = "Settings"  # pool rules, option lists

# what every logged-in employee needs: their profile and their own password
EVERYONE = [
    ("can_userinfo", "ProfileView"),
    ("can_resetmypassword", "ProfileView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
]


def module_permissions(module: str, actions) -> list[tuple[str, str]]:
    allowed = MODULES[module][1]
    return [(f"can_{action}", module) for action in actions if action in allowed]


def _matrix(rows: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [pair for module, actions in rows.items() for pair in module_permissions(module, actions)]


_ALL_BUT_DELETE_IMPORT = {m: tuple(a for a in acts if a not in ("delete", "import")) for m, (_, acts) in MODULES.items()}

# built-in roles created by `flask crm init` (the administrator role gets every permission, as FAB's
# AUTH_ROLE_ADMIN): name -> (kind, data scope, permissions)
BUILTIN_ROLES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "销售主管": ("customer", "self_and_subordinates", EVERYONE + _matrix(_ALL_BUT_DELETE_IMPORT)),
    "销售": ("customer", "self", EVERYONE + _matrix({
        "line": ("view",), "customer": ("view", "add", "edit", "release"), "contact": ("view", "add", "edit"),
        "pool": ("view", "claim"), "opportunity": ("view", "add", "edit"), "contract": ("view", "add", "edit"),
        "product": ("view",), "followup": ("view", "add", "edit"), "invoice": ("view", "add", "edit"),
    })),
    "坐席": ("call_center", "self", EVERYONE + _matrix({
        "line": ("view",), "customer": ("view",), "contact": ("view",), "followup": ("view", "add"),
    })),
}
