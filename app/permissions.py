"""The permission matrix as data (read, diffed and golden-tested, like Airflow's FAB auth manager).

A role is a set of (permission, resource) pairs stored as FAB permission-view rows, so FAB's own
checks decide every request.
"""
from __future__ import annotations

ADMIN_ROLE = "管理员"

# resources of screens that are not CRM modules
ORGANISATION = "Organisation"
ORGANISATION_ACTIONS = ("can_view", "can_add", "can_edit", "can_delete", "can_manage_accounts")

# what every logged-in employee needs: their profile, their own password, the menus they see
EVERYONE = [
    ("can_userinfo", "ProfileView"),
    ("can_resetmypassword", "ProfileView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
]

# built-in roles created by `flask crm init`; the administrator role gets every permission
# (FAB's AUTH_ROLE_ADMIN). The modules x actions matrix of the others grows with the CRM modules.
BUILTIN_ROLES: dict[str, list[tuple[str, str]]] = {
    "销售主管": EVERYONE,
    "销售": EVERYONE,
    "坐席": EVERYONE,
}
