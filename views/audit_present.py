"""How an audit entry reads on a screen (设置 → 审计日志, a customer's 操作记录 tab): the act's Chinese label,
the module's name, each changed field by its label with before → after in words (employees, departments
and roles by name, yes/no, lists), and the details (row count and filter of an export, ...).

Everything is returned as plain text; the templates escape it (autoescape), never `|safe`."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import fieldperms, stats_periods
from app.extensions import db
from app.permissions import DATA_SCOPE_LABELS, MODULES, ROLE_KINDS
from models.audit import AUDIT_ACTIONS, AuditLog
from models.org import GENDER_CHOICES, STATE_LABELS, AccountState, Department, Employee

# modules that are not CRM permission modules
OTHER_MODULES = {"employee": _l("Organisation"), "role": _l("Role permissions"),
                 "custom_field": _l("Custom fields"), "customer_group": _l("Customer groups")}

EMPLOYEE_LABELS = {"name": _l("Name"), "department_id": _l("Department"), "role_ids": _l("Roles"),
                   "manager_id": _l("Manager"), "gender": _l("Gender"), "seat_id": _l("Seat"),
                   "state": _l("Status"), "login": _l("Login account")}
ROLE_LABELS = {"name": _l("Role name"), "kind": _l("Role type"), "modules": _l("Module permissions"),
               "analysis": _l("Data analysis"), "data_scope": _l("Data scope"), "fields": _l("Field permissions")}
CUSTOM_FIELD_LABELS = {"label": _l("Field name"), "type": _l("Field type"), "required": _l("Required"),
                       "unique": _l("Unique within the module"), "default": _l("Default value"),
                       "help_text": _l("Help text"), "max_length": _l("Maximum length"), "min_value": _l("Minimum"),
                       "max_value": _l("Maximum"), "list_default": _l("Shown in the list by default"),
                       "filterable": _l("Can be used as a filter"), "hidden": _l("Hidden"),
                       "options": _l("Options"), "retired_options": _l("Retired options"), "order": _l("Order")}
DETAIL_LABELS = {"rows": _l("Rows"), "format": _l("Format"), "filter": _l("Filter used"), "name": _l("Record name"),
                 "reason": _l("Reason"), "role": _l("Role"), "file_name": _l("File name"), "dry_run": _l("Dry run"),
                 "seat": _l("Seat"), "module": _l("Module"), "label": _l("Field name"), "key": _l("Key"),
                 "values_removed": _l("Values removed"), "copied_from": _l("Copied from"), "op": _l("Operation"),
                 "duplicate": _l("Duplicates"), "recycle_batch": _l("Recycle bin batch"),
                 "login": _l("Login account"), "locked": _l("Account locked"),
                 "recycle_bin": _l("In the recycle bin")}
OPERATIONS = {"create": _l("Create"), "reset_password": _l("Reset password"), "reset_login": _l("Reset login account")}
EMPLOYEE_KEYS = {"owner", "manager_id", "employee_id"}


def action_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in AUDIT_ACTIONS.items()]


def module_label(module: Optional[str]) -> str:
    if not module:
        return ""
    if module in MODULES:
        return str(MODULES[module][0])
    return str(OTHER_MODULES.get(module, module))


def module_choices() -> list[tuple[str, str]]:
    return [(key, module_label(key)) for key in (*MODULES, *OTHER_MODULES) if key != "console"]


def field_labels(module: Optional[str]) -> dict[str, str]:
    if module == "employee":
        return {k: str(v) for k, v in EMPLOYEE_LABELS.items()}
    if module == "role":
        return {k: str(v) for k, v in ROLE_LABELS.items()}
    if module == "custom_field":
        return {k: str(v) for k, v in CUSTOM_FIELD_LABELS.items()}
    model = fieldperms.MODULE_MODELS.get(module or "")
    if model is None:
        from models.call import Seat

        model = Seat if module == "line" else None
    labels = {k: str(v) for k, v in getattr(model, "field_labels", {}).items()}
    labels.setdefault("owner", str(_l("Owner")))
    if module in fieldperms.MODULE_MODELS:
        labels.update(fieldperms.custom_field_labels(module))
    return labels


def local_time(at) -> str:
    return at.replace(tzinfo=dt.timezone.utc).astimezone(stats_periods.timezone()).strftime("%Y-%m-%d %H:%M:%S")


class Names:
    """Employee, department and role names for the ids of a page of entries, read in three queries."""

    def __init__(self, entries: Iterable[AuditLog]):
        employees, departments, roles = set(), set(), set()
        for entry in entries:
            for field, pair in (entry.changes_dict or {}).items():
                target = employees if field in EMPLOYEE_KEYS else departments if field == "department_id" else \
                    roles if field == "role_ids" else None
                if target is not None:
                    for value in pair:
                        target.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int))
        self.employees = self._read(Employee.id, Employee.first_name, employees)
        self.departments = self._read(Department.id, Department.name, departments)
        from flask import current_app

        role = current_app.appbuilder.sm.role_model
        self.roles = self._read(role.id, role.name, roles)

    @staticmethod
    def _read(id_column, name_column, ids) -> dict[int, str]:
        if not ids:
            return {}
        return dict(db.session.execute(select(id_column, name_column).where(id_column.in_(ids))).all())

    def lookup(self, field: str) -> Optional[Mapping[int, str]]:
        if field in EMPLOYEE_KEYS:
            return self.employees
        return {"department_id": self.departments, "role_ids": self.roles}.get(field)


def text(value: Any, names: Optional[Mapping[int, str]] = None, field: str = "") -> str:
    """A value in words: nothing -> 空, yes/no, names for ids, lists joined with 、, dicts as k: v."""
    if value is None or value == "" or value == [] or value == {}:
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if names is not None and isinstance(value, int):
        return names.get(value, f"#{value}")
    if field == "state" and value in {s.value for s in AccountState}:
        return str(STATE_LABELS[AccountState(value)])
    if field == "data_scope" and value in DATA_SCOPE_LABELS:
        return str(DATA_SCOPE_LABELS[value])
    if field == "gender" and value in ("male", "female"):
        return str(dict(GENDER_CHOICES)[value])
    if field == "kind" and value in ROLE_KINDS:
        return str(ROLE_KINDS[value])
    if isinstance(value, list):
        return "、".join(text(v, names, field) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{module_label(k) if k in MODULES else k}: {text(v, None, field)}" for k, v in value.items())
    return str(value)


def changes(entry: AuditLog, names: Names, hidden: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """[(field label, before, after)] of an entry; `hidden` fields (the viewer's) are left out."""
    data = entry.changes_dict or {}
    if not isinstance(data, dict):
        return []
    labels = field_labels(entry.module)
    skip = set(hidden)
    rows = []
    for field, pair in data.items():
        if field in skip or not isinstance(pair, list) or len(pair) != 2:
            continue
        lookup = names.lookup(field)
        rows.append((labels.get(field, field), text(pair[0], lookup, field), text(pair[1], lookup, field)))
    return rows


def details(entry: AuditLog, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    data = entry.detail_dict or {}
    if not isinstance(data, dict):
        return []
    rows = []
    for key, value in data.items():
        if key == "matrix" or key in skip:
            continue
        if key == "filter" and isinstance(value, list):
            labels = field_labels(entry.module)
            value = "；".join(" ".join([labels.get(str(item[0]), str(item[0])), *map(str, item[1:])])
                             for item in value if isinstance(item, list) and item) or _("(none)")
        elif key == "module":
            value = module_label(value)
        elif key == "op":
            value = str(OPERATIONS.get(value, value))
        elif key == "format":
            value = str(value).upper()
        rows.append((str(DETAIL_LABELS.get(key, key)), text(value)))
    return rows


def present(entries: list[AuditLog], hidden: Iterable[str] = (), skip_details: Iterable[str] = ()) -> list[dict]:
    """The entries as rows for a template; `hidden`: the viewer's hidden fields, left out of the changes."""
    names = Names(entries)
    hidden, skip_details = list(hidden), list(skip_details)
    return [{"id": e.id, "at": local_time(e.at), "actor": e.actor_name or "", "actor_id": e.actor_id,
             "action": e.action, "action_label": e.action_label(), "module": module_label(e.module),
             "record_ids": e.record_ids or "", "ip": e.ip or "", "user_agent": e.user_agent or "",
             "changes": changes(e, names, hidden), "details": details(e, skip_details)}
            for e in entries]
