"""/api/v1/audit_log/: the audit trail over REST, read-only (list with `q`, get) for those holding the
控制台 right. It has no POST, PUT or DELETE: those answer 405."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.permissions import CONSOLE
from models.audit import AUDIT_ACTIONS, AuditLog
from views.base import CrmModelRestApi
from views.datamodel import SafeInterface

COLUMNS = ["id", "at", "actor_id", "actor_name", "ip", "user_agent", "action", "module", "record_ids", "changes",
           "detail"]


class AuditLogApi(CrmModelRestApi):
    resource_name = "audit_log"
    openapi_spec_tag = "Audit log"
    datamodel = SafeInterface(AuditLog)
    class_permission_name = CONSOLE
    method_permission_name = {"get_list": "view", "get": "view", "info": "view"}
    base_permissions = ["can_view"]
    exclude_route_methods = {"post", "put", "delete"}
    allow_browser_login = True
    list_columns = show_columns = COLUMNS
    search_columns = ["action", "module", "actor_id", "actor_name", "at", "ip", "record_ids"]
    order_columns = ["id", "at", "action", "module", "actor_name"]
    base_order = ("id", "desc")
    label_columns = {"at": _l("Time"), "actor_name": _l("Operator"), "action": _l("Action"), "module": _l("Module"),
                     "ip": _l("IP address"), "user_agent": _l("Browser"), "record_ids": _l("Records"),
                     "changes": _l("Changes"), "detail": _l("Details")}

    @staticmethod
    def _labelled(item: dict) -> dict:
        item["action_label"] = str(AUDIT_ACTIONS.get(item.get("action"), item.get("action")))
        return item

    def pre_get(self, data):
        self._labelled(data["result"])

    def pre_get_list(self, data):
        for item in data["result"]:
            self._labelled(item)
