"""控制台 at /console: Flask-Admin inside the same app, read-only views of what the operators need to look at
(import jobs, raw call events, the SMS outbox, owner history, custom-field definitions).

Flask-Admin has no security of its own: every view asks FAB's security manager for the 控制台 right
(("can_view", "console") in the role matrix), so an anonymous visitor is sent to the login page and an
employee without it gets the Chinese 403 page, never a row."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import flask_admin
from flask import abort, current_app, redirect, request
from flask_admin import Admin, AdminIndexView
from flask_admin.menu import MenuLink
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.headers import csp_nonce
from app.permissions import CONSOLE

CONSOLE_URL = "/console"


def console_allowed() -> bool:
    return bool(current_app.appbuilder.sm.has_access("can_view", CONSOLE))


def refuse():
    """Anonymous -> the login page (then back here); logged in without the right -> 403."""
    if current_app.appbuilder.sm.current_user is None or \
            not getattr(current_app.appbuilder.sm.current_user, "is_authenticated", False):
        return redirect(current_app.appbuilder.get_url_for_login_with(request.full_path))
    abort(403)


class ConsoleIndexView(AdminIndexView):
    def is_accessible(self):
        return console_allowed()

    def inaccessible_callback(self, name, **kwargs):
        return refuse()


def _datetime_cell(view, value, name) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")  # not Python's str() with microseconds


CELL_FORMATTERS = {**typefmt.BASE_FORMATTERS, dt.datetime: _datetime_cell}


class ReadOnlyView(ModelView):
    """A console list: filters, search, sorting and Flask-Admin's export; nothing can be changed."""

    column_type_formatters = CELL_FORMATTERS
    column_type_formatters_detail = CELL_FORMATTERS

    can_create = can_edit = can_delete = False
    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    page_size = 50
    column_display_pk = True
    column_default_sort = ("id", True)

    def is_accessible(self):
        return console_allowed()

    def inaccessible_callback(self, name, **kwargs):
        return refuse()


class ImportJobConsole(ReadOnlyView):
    column_list = ("id", "module", "user", "file_name", "status", "total", "imported", "overwritten", "skipped",
                   "failed", "dry_run", "created_at", "finished_at")
    column_searchable_list = ("file_name", "module", "message")
    column_filters = ("module", "status", "dry_run", "created_at")
    column_sortable_list = ("id", "module", "file_name", "status", "total", "imported", "failed", "created_at",
                            "finished_at")
    column_labels = {"id": _l("ID"), "module": _l("Module"), "user": _l("Imported by"),
                     "file_name": _l("File name"), "status": _l("Status"), "total": _l("Total rows"),
                     "imported": _l("Imported"), "overwritten": _l("Overwritten"), "skipped": _l("Skipped"),
                     "failed": _l("Failed"), "dry_run": _l("Dry run"), "created_at": _l("Created at"),
                     "finished_at": _l("Finished at"), "message": _l("Message")}
    column_details_exclude_list = ("file_path", "error_path", "mapping")
    column_export_exclude_list = ("file_path", "error_path", "mapping")


class CallEventConsole(ReadOnlyView):
    column_list = ("id", "provider", "provider_call_id", "event", "event_id", "occurred_at", "received_at",
                   "call_record_id")
    column_searchable_list = ("provider_call_id", "event_id", "payload")
    column_filters = ("provider", "event", "received_at")
    column_sortable_list = ("id", "provider", "provider_call_id", "event", "occurred_at", "received_at")
    column_labels = {"id": _l("ID"), "provider": _l("Provider"), "provider_call_id": _l("Provider call ID"),
                     "event": _l("Event"), "event_id": _l("Event ID"), "payload": _l("Raw payload"),
                     "occurred_at": _l("Occurred at"), "received_at": _l("Received at"),
                     "call_record_id": _l("Call record"), "call_record": _l("Call record")}


class SmsConsole(ReadOnlyView):
    column_list = ("id", "mobile", "text", "purpose", "gateway", "status", "created_at")
    column_searchable_list = ("mobile", "text")
    column_filters = ("purpose", "gateway", "status", "created_at")
    column_sortable_list = ("id", "mobile", "purpose", "gateway", "status", "created_at")
    column_labels = {"id": _l("ID"), "mobile": _l("Mobile"), "text": _l("Text"), "purpose": _l("Purpose"),
                     "gateway": _l("Gateway"), "status": _l("Status"), "created_at": _l("Created at")}


class OwnerHistoryConsole(ReadOnlyView):
    column_list = ("id", "customer", "action", "from_owner", "to_owner", "actor", "reason", "at")
    column_searchable_list = ("reason", "action")
    column_filters = ("action", "at", "customer_id")
    column_sortable_list = ("id", "action", "at")
    column_formatters = {"action": lambda view, context, model, name: model.action_label()}
    column_labels = {"id": _l("ID"), "customer": _l("Customer"), "customer_id": _l("Customer"),
                     "action": _l("Action"), "from_owner": _l("Previous owner"), "to_owner": _l("New owner"),
                     "actor": _l("Operator"), "reason": _l("Reason"), "at": _l("Time")}


class CustomFieldConsole(ReadOnlyView):
    column_list = ("id", "module", "key", "label", "type", "required", "unique", "hidden", "filterable",
                   "sort_order", "updated_at")
    column_searchable_list = ("label", "key")
    column_filters = ("module", "type", "required", "unique", "hidden")
    column_sortable_list = ("id", "module", "key", "label", "type", "sort_order", "updated_at")
    column_default_sort = [("module", False), ("sort_order", False)]
    column_labels = {"id": _l("ID"), "module": _l("Module"), "key": _l("Key"), "label": _l("Label"),
                     "type": _l("Type"), "required": _l("Required"), "unique": _l("Unique"),
                     "hidden": _l("Hidden"), "filterable": _l("Filterable"), "sort_order": _l("Order"),
                     "updated_at": _l("Updated at"), "created_at": _l("Created at"), "default": _l("Default"),
                     "help_text": _l("Help text"), "max_length": _l("Maximum length"),
                     "min_value": _l("Minimum"), "max_value": _l("Maximum"), "list_default": _l("Shown by default"),
                     "options": _l("Options")}


def _action_label(view, context, model, name):
    return model.action_label()


class AuditLogConsole(ReadOnlyView):
    """审计日志: every entry; read-only like every console view (the entries are append-only anyway)."""

    column_list = ("id", "at", "actor_name", "action", "module", "record_ids", "ip", "changes", "detail")
    column_details_list = ("id", "at", "actor_name", "actor_id", "action", "module", "record_ids", "ip",
                           "user_agent", "changes", "detail")
    column_searchable_list = ("actor_name", "record_ids", "ip", "detail")
    column_filters = ("action", "module", "actor_name", "at")
    column_sortable_list = ("id", "at", "actor_name", "action", "module")
    column_formatters = {"action": _action_label}
    column_formatters_export = {}
    column_labels = {"id": _l("ID"), "at": _l("Time"), "actor_name": _l("Operator"), "actor_id": _l("Employee ID"),
                     "action": _l("Action"), "module": _l("Module"), "record_ids": _l("Records"),
                     "ip": _l("IP address"), "user_agent": _l("Browser"), "changes": _l("Changes"),
                     "detail": _l("Details")}


class LoginLogConsole(AuditLogConsole):
    """登录记录: the logins, failed logins and logouts of the audit trail."""

    column_list = ("id", "at", "actor_name", "action", "ip", "user_agent")
    column_searchable_list = ("actor_name", "ip", "user_agent")
    column_filters = ("action", "actor_name", "ip", "at")

    def get_query(self):
        return super().get_query().filter(self.model.action.in_(LOGIN_ACTIONS))

    def get_count_query(self):
        return super().get_count_query().filter(self.model.action.in_(LOGIN_ACTIONS))

    def get_one(self, id):
        item = super().get_one(id)
        return item if item is not None and item.action in LOGIN_ACTIONS else None


LOGIN_ACTIONS = ("login", "login_failed", "logout")


def _console_views():
    from custom_fields.models import FieldDefinition
    from models.call import CallEvent, SmsMessage
    from models.crm import OwnerHistory
    from models.jobs import ImportJob

    from models.audit import AuditLog

    return [
        AuditLogConsole(AuditLog, db, name=_l("Audit log"), endpoint="console_audit_log"),
        LoginLogConsole(AuditLog, db, name=_l("Login records"), endpoint="console_login_log"),
        ImportJobConsole(ImportJob, db, name=_l("Import jobs"), endpoint="console_import_job"),
        CallEventConsole(CallEvent, db, name=_l("Call events"), endpoint="console_call_event"),
        SmsConsole(SmsMessage, db, name=_l("SMS outbox"), endpoint="console_sms"),
        OwnerHistoryConsole(OwnerHistory, db, name=_l("Owner changes"), endpoint="console_owner_history"),
        CustomFieldConsole(FieldDefinition, db, name=_l("Custom field definitions"),
                           endpoint="console_custom_field"),
    ]


def _translations_dir() -> str:
    """Flask-Admin's own strings (列表, 过滤器, 搜索 ...) ship as zh_Hans_CN; our locale is `zh`."""
    from config import INSTANCE_DIR

    target = INSTANCE_DIR / "console-translations"
    mo = target / "zh" / "LC_MESSAGES" / "admin.mo"
    if not mo.exists():
        source = Path(flask_admin.__file__).parent / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "admin.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, mo)
    return str(target)


def init_console(app) -> Admin:
    """One console per app (tests and the CLI build several apps; Flask-Admin views belong to one)."""
    console = Admin(name=_l("Console"), url=CONSOLE_URL, endpoint="console",
                    index_view=ConsoleIndexView(name=_l("Console"), url=CONSOLE_URL, endpoint="console",
                                                template="admin/crm_console_index.html"),
                    theme=Bootstrap4Theme(base_template="admin/crm_console.html", fluid=False),
                    translations_path=_translations_dir(),
                    csp_nonce_generator=csp_nonce)
    console.add_views(*_console_views())
    console.add_link(MenuLink(name=_l("Back to the CRM"), url="/"))
    console.init_app(app)
    return console
