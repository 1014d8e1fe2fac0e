"""Helpers the generated templates call (always within the logged-in user's reach)."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy import select

from app import fieldperms, groups, scopes
from app.extensions import db
from app.inputs import is_id
from models.crm import Customer, CustomerGroup, OwnerHistory


def crm_groups():
    return groups.visible_groups(g.user) if getattr(g, "user", None) is not None else []


def crm_group_name(group_id):
    if not is_id(group_id):
        return ""
    group = db.session.get(CustomerGroup, int(group_id))
    return group.name if group is not None and group.owner_id == g.user.id else ""


def crm_sees(module, field) -> bool:
    """May the user see this field of the module's records (field permissions: not hidden)?"""
    return fieldperms.FieldView(g.user, module).shows(field)


def crm_owner_history(customer_id, module="customer"):
    """The owner history of a customer the user can see (owned in scope, or in the pool); nothing when the
    负责人 is hidden from them (the history is the owners). The template leaves the reason out when the
    customer's 退回原因 is hidden."""
    if not crm_sees(module, "owner"):
        return []
    try:
        customer_id = int(customer_id)  # the detail page's pk comes from the URL as text (PostgreSQL minds)
    except (TypeError, ValueError):
        return []
    visible = db.session.scalar(select(Customer.id).where(
        Customer.id == customer_id, scopes.reachable(Customer, g.user)))
    if visible is None:
        return []
    return list(db.session.scalars(select(OwnerHistory).where(OwnerHistory.customer_id == customer_id)
                                   .order_by(OwnerHistory.at.desc(), OwnerHistory.id.desc()).limit(50)))


def crm_pool_followups(customer_id):
    """A pool customer's follow-up history for those who may look into the pool (app/pool_history.py)."""
    from app.pool_history import pool_followups

    return pool_followups(customer_id, g.user)


def crm_audit_entries(customer_id, module="customer"):
    """操作记录: the customer's audit entries, as the user may see them (views/audit_log.py)."""
    from views.audit_log import customer_entries

    return customer_entries(customer_id, module)


def crm_audit_all_url(customer_id):
    """The link from a customer's 操作记录 tab to all its entries in 设置 → 审计日志 (控制台 right only)."""
    from flask import url_for

    from views.console import console_allowed

    return url_for("AuditLogView.list", module="customer", record=customer_id) if console_allowed() else None


def register_template_helpers(appbuilder) -> None:
    from models.org import AccountState

    current_app.jinja_env.globals.update(crm_groups=crm_groups, crm_group_name=crm_group_name,
                                         crm_owner_history=crm_owner_history, crm_sees=crm_sees, crm_pool_followups=crm_pool_followups,
                                         crm_audit_entries=crm_audit_entries, crm_audit_all_url=crm_audit_all_url,
                                         account_states=lambda: list(AccountState),
                                         crm_employee_lock=crm_employee_lock)


def crm_employee_lock(employee_id):
    """The lockout of an employee (seconds left), or None: the employee page shows 解除锁定 only then."""
    from app import lockout
    from models.org import Employee

    employee = db.session.get(Employee, int(employee_id)) if is_id(employee_id) else None
    state = lockout.account_lock(employee.username) if employee is not None else None
    return state.seconds_left() if state is not None else None
