"""设置 → 审计日志: the audit trail for those holding the 控制台 right (管理员 has it) — the same right as
/console's 审计日志 and GET /api/v1/audit_log/, so one checkbox in 设置 → 角色权限 opens the trail on every
surface. Filters: employee, act (by its Chinese label), module, a range of local days and one record
(`?record=<id>`, from a customer's 操作记录 tab); newest first, 50 a
page. Read-only: the trail offers nothing to change.

Also the customer detail page's 操作记录 tab (`customer_entries`): that customer's own entries, for whoever
can see the customer, with the fields hidden from them left out."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import fieldperms, scopes, stats_periods
from app.extensions import db
from app.permissions import CONSOLE
from models.audit import AUDIT_ACTIONS, AuditLog, AuditLogRecord
from models.crm import Customer
from models.org import Employee
from views import audit_present

PAGE_SIZE = 50
TAB_LIMIT = 50


class BadFilter(ValueError):
    pass


def _date(name: str) -> Optional[dt.date]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(_("%(field)s: please give a date such as 2024-05-01.",
                          field=_("Start date") if name == "date_from" else _("End date")))


def _int(name: str, default: Optional[int] = None) -> Optional[int]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise BadFilter(_("%(field)s: please give a whole number.",
                          field={"page": _("Page"), "record": _("Record")}.get(name, _("Employee"))))
    return int(raw)


def read_filters() -> dict:
    """The screen's filters from the query string; a malformed one raises BadFilter (shown as 400)."""
    action = (request.args.get("action") or "").strip()
    module = (request.args.get("module") or "").strip()
    if action and action not in AUDIT_ACTIONS:
        raise BadFilter(_("Unknown action: %(value)s", value=action[:40]))
    if module and module not in dict(audit_present.module_choices()):
        raise BadFilter(_("Unknown module: %(value)s", value=module[:40]))
    filters = {"employee": _int("employee"), "action": action, "module": module, "record": _int("record"),
               "date_from": _date("date_from"), "date_to": _date("date_to"), "page": max(_int("page", 1), 1)}
    if filters["date_from"] and filters["date_to"] and filters["date_from"] > filters["date_to"]:
        raise BadFilter(_("The start date is after the end date."))
    return filters


def query(filters: dict):
    stmt = select(AuditLog)
    if filters["employee"] is not None:
        stmt = stmt.where(AuditLog.actor_id == filters["employee"])
    if filters["action"]:
        stmt = stmt.where(AuditLog.action == filters["action"])
    if filters["module"]:
        stmt = stmt.where(AuditLog.module == filters["module"])
    if filters["record"] is not None:  # one record's entries (with a module: that module's record)
        own = select(AuditLogRecord.entry_id).where(AuditLogRecord.record_id == filters["record"])
        if filters["module"]:
            own = own.where(AuditLogRecord.module == filters["module"])
        stmt = stmt.where(AuditLog.id.in_(own))
    if filters["date_from"]:
        stmt = stmt.where(AuditLog.at >= stats_periods.utc_instant(filters["date_from"]))
    if filters["date_to"]:
        stmt = stmt.where(AuditLog.at < stats_periods.utc_instant(filters["date_to"] + dt.timedelta(days=1)))
    return stmt


class AuditLogView(BaseView):
    route_base = "/audit-log"
    default_view = "list"
    class_permission_name = CONSOLE
    method_permission_name = {"list": "view"}
    base_permissions = ["can_view"]

    @expose("/list/")
    @has_access
    def list(self):
        employees = db.session.execute(select(Employee.id, Employee.first_name, Employee.username)
                                       .order_by(Employee.first_name, Employee.id)).all()
        context = dict(title=_("Audit log"), actions=audit_present.action_choices(),
                       modules=audit_present.module_choices(), employees=employees, args=request.args,
                       entries=[], total=0, page=1, pages=1, error=None)
        try:
            filters = read_filters()
        except BadFilter as error:
            context["error"] = str(error)
            return self.render_template("audit/list.html", **context), 400
        stmt = query(filters)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(filters["page"], pages)
        rows = list(db.session.scalars(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                                       .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        context.update(entries=audit_present.present(rows), total=total, page=page, pages=pages,
                       page_args={k: v for k, v in request.args.items() if k != "page" and v})
        return self.render_template("audit/list.html", **context)


def customer_entries(customer_id, module: str = "customer") -> list[dict]:
    """操作记录: the audit entries of a customer the user can see (owned in scope, or in the pool), newest
    first; fields hidden from the user (their roles' field permissions in `module`) are left out."""
    try:
        customer_id = int(customer_id)
    except (TypeError, ValueError):
        return []
    user = g.user
    visible = db.session.scalar(select(Customer.id).where(Customer.id == customer_id,
                                                          scopes.reachable(Customer, user)))
    if visible is None:
        return []
    own = select(AuditLogRecord.entry_id).where(AuditLogRecord.module.in_(("customer", "pool")),
                                                AuditLogRecord.record_id == customer_id) \
        .order_by(AuditLogRecord.entry_id.desc()).limit(TAB_LIMIT)
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.id.in_(own))
                                   .order_by(AuditLog.at.desc(), AuditLog.id.desc())))
    access = fieldperms.field_access(user, module)
    hidden = [field for field, level in access.items() if level == fieldperms.HIDDEN]
    # an entry's reason is the customer's 退回原因 (a return to the pool, a transfer)
    skip = ("name", "reason") if fieldperms.access_for(module, "release_reason", access) == fieldperms.HIDDEN \
        else ("name",)
    return audit_present.present(rows, hidden=hidden, skip_details=skip)


