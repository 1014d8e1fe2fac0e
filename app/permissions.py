"""The permission matrix as data (read, diffed and golden-tested, like Airflow's FAB auth manager).

A role is a set of (permission, resource) pairs stored as FAB permission-view rows, so FAB's own
checks decide every request. For a CRM module the resource is the module key and the permission is
`can_<action>`: e.g. ("can_export", "customer").
"""
from __future__ import annotations

from typing import NamedTuple

from flask_babel import lazy_gettext as _l

ADMIN_ROLE = "管理员"

ACTIONS = {
    "view": _l("View"), "add": _l("Add"), "edit": _l("Edit"), "delete": _l("Delete"), "export": _l("Export"),
    "import": _l("Import"), "transfer": _l("Transfer"), "release": _l("Return to pool"), "claim": _l("Claim"),
    "assign": _l("Assign"),
}

# the manual's 9 modules (the rows of 模块功能), in its order: key -> (label, actions that apply)
MODULES = {
    # 线路管理: seats (add, edit, delete), 通话记录 (view, export); 查看 also lets a role dial
    "line": (_l("Line management"), ("view", "add", "edit", "delete", "export")),
    "customer": (_l("Customer management"),
                 ("view", "add", "edit", "delete", "export", "import", "transfer", "release")),
    "contact": (_l("Contact management"), ("view", "add", "edit", "delete", "export", "import")),
    "pool": (_l("Public pool management"), ("view", "claim", "assign", "delete", "export", "import")),
    "opportunity": (_l("Opportunity management"), ("view", "add", "edit", "delete", "export", "transfer")),
    "contract": (_l("Contract management"), ("view", "add", "edit", "delete", "export", "import", "transfer")),
    "product": (_l("Product management"), ("view", "add", "edit", "delete", "export", "import")),
    "followup": (_l("Follow-up records"), ("view", "add", "edit", "delete", "export")),
    "invoice": (_l("Invoice management"), ("view", "add", "edit", "delete", "export", "import")),
    # 控制台 (/console, Flask-Admin): import jobs, call events, the SMS outbox, the audit log...
    "console": (_l("Console"), ("view",)),
}
CONSOLE = "console"

# screens that are not CRM modules: administrators only, unless a role is given them explicitly
ORGANISATION = "Organisation"
ORGANISATION_ACTIONS = ("can_view", "can_add", "can_edit", "can_delete", "can_manage_accounts")
SETTINGS = "Settings"  # pool rules, option lists
ROLES = "Roles"  # 设置 → 角色权限: administrators only
ROLES_ACTIONS = ("can_view", "can_edit")

# the manual's two tabs of 设置 → 角色权限; an employee holds at most one role of each kind
ROLE_KINDS = {"customer": _l("Customer management role"), "call_center": _l("Call-center role")}

# 数据权限, narrowest first (the keys are models.roles.DATA_SCOPES)
DATA_SCOPE_LABELS = {
    "self": _l("Self"), "self_and_subordinates": _l("Self and subordinates"), "department": _l("Own department"),
    "department_tree": _l("Department and sub-departments"), "all": _l("All"),
}

# 数据分析: the data-center statistics a role may see (key -> label)
ANALYSIS = {
    "customer_by_employee": _l("Customer statistics by employee"),
    "customer_by_department": _l("Customer statistics by department"),
    "followup_by_employee": _l("Follow-up statistics by employee"),
    "followup_by_department": _l("Follow-up statistics by department"),
    "call_by_employee": _l("Call statistics by employee"),
    "call_by_department": _l("Call statistics by department"),
    "sales_by_employee": _l("Sales statistics by employee"),
    "sales_by_department": _l("Sales statistics by department"),
}

# field-level permission (models.roles.FIELD_ACCESS), most permissive first
FIELD_ACCESS_LABELS = {"editable": _l("Editable"), "read_only": _l("Read-only"), "masked": _l("Masked"),
                       "hidden": _l("Hidden")}

# what every logged-in employee needs: their profile and their own password
EVERYONE = [
    ("can_userinfo", "ProfileView"),
    ("can_resetmypassword", "ProfileView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_get", "MenuApi"),  # the menu API (what the navbar shows, for apps)
]


def module_permissions(module: str, actions) -> list[tuple[str, str]]:
    allowed = MODULES[module][1]
    return [(f"can_{action}", module) for action in actions if action in allowed]


def _matrix(rows: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [pair for module, actions in rows.items() for pair in module_permissions(module, actions)]


_ALL_BUT_DELETE_IMPORT = {m: tuple(a for a in acts if a not in ("delete", "import"))
                          for m, (_, acts) in MODULES.items() if m != "console"}


class BuiltinRole(NamedTuple):
    kind: str
    data_scope: str
    permissions: list[tuple[str, str]]
    analysis: tuple[str, ...] = ()


_OWN_ANALYSIS = ("customer_by_employee", "followup_by_employee", "call_by_employee", "sales_by_employee")

# built-in roles created by `flask crm init` (the administrator role gets every permission, as FAB's
# AUTH_ROLE_ADMIN, every statistic and the scope 全部)
BUILTIN_ROLES: dict[str, BuiltinRole] = {
    "销售主管": BuiltinRole("customer", "self_and_subordinates", EVERYONE + _matrix(_ALL_BUT_DELETE_IMPORT),
                        tuple(ANALYSIS)),
    "销售": BuiltinRole("customer", "self", EVERYONE + _matrix({
        "line": ("view",), "customer": ("view", "add", "edit", "release"), "contact": ("view", "add", "edit"),
        "pool": ("view", "claim"), "opportunity": ("view", "add", "edit"), "contract": ("view", "add", "edit"),
        "product": ("view",), "followup": ("view", "add", "edit"), "invoice": ("view", "add", "edit"),
    }), _OWN_ANALYSIS),
    "坐席": BuiltinRole("call_center", "self", EVERYONE + _matrix({
        "line": ("view",), "customer": ("view",), "contact": ("view",), "followup": ("view", "add"),
    }), ("call_by_employee", "followup_by_employee")),
}
