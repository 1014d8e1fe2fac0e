"""The CRM modules, one declaration each. views/generator.py turns each into a screen, a REST API,
permission names, a data-scope filter and an export."""
from __future__ import annotations

from flask import g
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.fields import QuerySelectField
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app import customers, fieldperms, groups
from app.importing.columns import ImportColumn, ImportSpec
from app.extensions import db
from app.inputs import parse_id
from models.call import CallRecord, Seat, SmsMessage
from models.crm import Contact, Customer, CustomerGroup, FollowUp, OwnerHistory, customer_group_member
from models.sales import Contract, Invoice, Opportunity, Product
from views.calls import CallApiMixin
from views.module_spec import ActionSpec, ModuleSpec
from views.seats import SeatApiMixin, SeatService, SeatViewMixin
from views.widgets import EmployeeSelectField


def _pk(value):
    return getattr(value, "id", value)


def _my_groups():
    return db.session.query(CustomerGroup).filter(CustomerGroup.owner_id == g.user.id).order_by(
        CustomerGroup.sort_order, CustomerGroup.id)


class OwnerForm(FlaskForm):
    owner = EmployeeSelectField(_l("Employee"), validators=[DataRequired()])  # typed: /<module>/lookup/owner/


class ReleaseForm(FlaskForm):
    reason = StringField(_l("Reason for return"), validators=[DataRequired(), Length(max=255)],
                         widget=BS3TextFieldWidget())


class GroupForm(FlaskForm):
    group = QuerySelectField(_l("Group"), query_func=_my_groups, get_pk_func=lambda o: o.id, get_label="name",
                             validators=[DataRequired()], widget=Select2Widget())


# ---------------------------------------------------------------- hooks

def _customer_saved(customer, created, user):
    if created:
        customers.record_creation(customer, user)


def _followup_saved(followup, created, user):
    """A follow-up moves the customer's last-follow-up time (which the auto-return rule reads)."""
    latest = db.session.scalar(select(func.max(FollowUp.followed_at)).where(FollowUp.customer_id == followup.customer_id))
    db.session.get(Customer, followup.customer_id).last_followup_at = latest


def _customer_group_filter(args):
    """?group=<id>: the customers in one of the user's own groups."""
    group_id = args.get("group")
    if not group_id:
        return None
    group_id = parse_id(group_id, "group", _l("Group"), malformed_status=400)
    members = select(customer_group_member.c.customer_id).join(
        CustomerGroup, CustomerGroup.id == customer_group_member.c.group_id).where(
        CustomerGroup.id == group_id, CustomerGroup.owner_id == g.user.id)
    return Customer.id.in_(members)


class GroupService:
    """Customer groups are each employee's own: saved through app.groups."""

    @staticmethod
    def create(data, user):
        return groups.create_group(data.get("name"), user, data.get("hidden") or False, data.get("sort_order") or 0)

    @staticmethod
    def update(item, data, user):
        return groups.update_group(item.id, user, name=data.get("name"), hidden=data.get("hidden"),
                                   sort_order=data.get("sort_order"))

    @staticmethod
    def delete(item, user):
        groups.delete_group(item.id, user)


def _imported_customers(rows, user, now):
    """Owner history for imported customers (action 'import'), like any other way a customer gets its owner."""
    from app.importing.writing import bulk_insert

    if rows:
        bulk_insert(OwnerHistory.__table__, [dict(
            customer_id=r["id"], from_owner_id=None, to_owner_id=r["owner_id"], actor_id=user.id, action="import",
            at=now) for r in rows])


def _customer_undo_keep():
    """An imported customer is kept by an undo once something hangs off it or it changed hands."""
    c = Customer.__table__.c
    return [FollowUp.customer_id == c.id, Contact.customer_id == c.id, Opportunity.customer_id == c.id,
            Contract.customer_id == c.id, Invoice.customer_id == c.id,
            (OwnerHistory.customer_id == c.id) & (OwnerHistory.action != "import")]


CUSTOMER_IMPORT = ImportSpec(
    key="mobile", owner_choice=True, after_insert=_imported_customers, undo_keep=_customer_undo_keep,
    columns=(ImportColumn("company_name"), ImportColumn("contact_name"),
             ImportColumn("mobile", kind="mobile", required=True),
             ImportColumn("status", kind="choice", choice_kind="customer_status"),
             ImportColumn("level", kind="choice", choice_kind="customer_level"),
             ImportColumn("source", kind="choice", choice_kind="customer_source"),
             ImportColumn("address"), ImportColumn("note")))
CONTACT_IMPORT = ImportSpec(
    key="mobile",
    columns=(ImportColumn("customer", kind="customer", required=True,
                          help=_l("The customer's mobile number or company name")),
             ImportColumn("name", required=True), ImportColumn("mobile", kind="mobile", required=True),
             ImportColumn("position"), ImportColumn("email"), ImportColumn("wechat"), ImportColumn("note")))
PRODUCT_IMPORT = ImportSpec(
    key="code",
    columns=(ImportColumn("code", required=True), ImportColumn("name", required=True),
             ImportColumn("price", kind="decimal"), ImportColumn("unit"), ImportColumn("on_sale", kind="bool"),
             ImportColumn("description")))

# ---------------------------------------------------------------- actions

TRANSFER = ActionSpec("transfer", _l("Transfer"), "transfer",
                      lambda ids, data, user: customers.transfer(ids, _pk(data.get("owner")), user),
                      form=OwnerForm, icon="fa-exchange", done=_l("%(n)d customer(s) transferred."))
RELEASE = ActionSpec("release", _l("Return to pool"), "release",
                     lambda ids, data, user: customers.release(ids, data.get("reason"), user),
                     form=ReleaseForm, icon="fa-reply", done=_l("%(n)d customer(s) returned to the pool."))
ADD_TO_GROUP = ActionSpec("add_to_group", _l("Add to group"), "view",
                          lambda ids, data, user: groups.add_to_group(_pk(data.get("group")), ids, user),
                          form=GroupForm, icon="fa-folder", done=_l("Added to the group."), api=False)
CLAIM = ActionSpec("claim", _l("Claim"), "claim", lambda ids, data, user: customers.claim(ids, user),
                   confirmation=_l("Claim the selected customers?"), icon="fa-hand-paper-o",
                   done=_l("%(n)d customer(s) claimed."))
ASSIGN = ActionSpec("assign", _l("Assign"), "assign",
                    lambda ids, data, user: customers.assign(ids, _pk(data.get("owner")), user),
                    form=OwnerForm, icon="fa-user-plus", done=_l("%(n)d customer(s) assigned."))


# ---------------------------------------------------------------- the modules

CUSTOMER_COLUMNS = ("company_name", "contact_name", "mobile", "status", "level", "source", "owner",
                    "last_followup_at", "created_at")

SPECS = [
    ModuleSpec(
        key="customer", model=Customer, label=_l("Customers"), icon="fa-address-book",
        list_columns=CUSTOMER_COLUMNS,
        show_columns=CUSTOMER_COLUMNS + ("address", "note", "department", "created_by", "updated_at"),
        form_columns=("company_name", "contact_name", "mobile", "status", "level", "source", "address", "note",
                      "owner"),
        edit_columns=("company_name", "contact_name", "mobile", "status", "level", "source", "address", "note"),
        filter_columns=("status", "level", "source", "owner", "created_at", "last_followup_at"),
        keyword_columns=("company_name", "contact_name", "mobile"), phone_columns=("mobile",),
        order_columns=("id", "company_name", "created_at", "last_followup_at"),
        choices={"status": "customer_status", "level": "customer_level", "source": "customer_source"},
        related=("contact", "followup", "call", "opportunity", "contract", "invoice"),
        actions=(TRANSFER, RELEASE, ADD_TO_GROUP,
                 # the pool's claim and assign also answer at /api/v1/customer/claim and /assign
                 ActionSpec(**{**CLAIM.__dict__, "screen": False, "module": "pool"}),
                 ActionSpec(**{**ASSIGN.__dict__, "screen": False, "module": "pool"})),
        after_save=_customer_saved,
        request_filter=_customer_group_filter, pool_records=False,  # the pool has its own screen
        custom_fields="customer", importer=CUSTOMER_IMPORT,
    ),
    ModuleSpec(
        key="pool", permission="pool", model=Customer, label=_l("Public pool"), icon="fa-life-ring",
        list_columns=("company_name", "contact_name", "mobile", "status", "level", "source", "released_at",
                      "release_reason"),
        show_columns=CUSTOMER_COLUMNS + ("address", "note", "released_at", "release_reason"),
        filter_columns=("status", "level", "source", "released_at"),
        keyword_columns=("company_name", "contact_name", "mobile"), phone_columns=("mobile",),
        order_columns=("id", "company_name", "released_at"),
        base_filter=lambda: Customer.owner_id.is_(None),
        # a pool viewer sees the customer, its contacts and (on the detail page) its follow-up history; its
        # opportunities, contracts and invoices stay in their owner's scope (app/customers.POOL_FOLLOWERS)
        related=("contact",),
        actions=(CLAIM, ASSIGN), can_add=False,
        custom_fields="customer",  # pool customers are customers: same fields, values kept when claimed
    ),
    ModuleSpec(
        key="contact", model=Contact, label=_l("Contacts"), icon="fa-user",
        list_columns=("name", "customer", "mobile", "position", "email", "wechat", "owner"),
        form_columns=("customer", "name", "mobile", "position", "email", "wechat", "note"),
        filter_columns=("customer", "owner"), keyword_columns=("name", "mobile"), phone_columns=("mobile",),
        order_columns=("id", "name"), custom_fields="contact", related=("call",), importer=CONTACT_IMPORT,
    ),
    ModuleSpec(
        key="opportunity", model=Opportunity, label=_l("Opportunities"), icon="fa-lightbulb-o",
        list_columns=("name", "customer", "amount", "stage", "expected_close", "owner", "created_at"),
        form_columns=("customer", "name", "amount", "stage", "expected_close", "note", "owner"),
        edit_columns=("customer", "name", "amount", "stage", "expected_close", "note"),
        filter_columns=("customer", "stage", "owner", "expected_close"), keyword_columns=("name",),
        order_columns=("id", "name", "amount", "expected_close"), choices={"stage": "opportunity_stage"},
        pool_records=False,  # the money stays in its owner's scope, also when the customer is in the pool
    ),
    ModuleSpec(
        key="contract", model=Contract, label=_l("Contracts"), icon="fa-file-text-o",
        list_columns=("number", "name", "customer", "amount", "signed_on", "status", "owner"),
        form_columns=("customer", "opportunity", "number", "name", "amount", "signed_on", "status", "note", "owner"),
        edit_columns=("customer", "opportunity", "number", "name", "amount", "signed_on", "status", "note"),
        filter_columns=("customer", "status", "owner", "signed_on"), keyword_columns=("number", "name"),
        order_columns=("id", "number", "amount", "signed_on"), choices={"status": "contract_status"},
        related=("invoice",), custom_fields="contract", pool_records=False,
    ),
    ModuleSpec(
        key="product", model=Product, label=_l("Products"), icon="fa-cube",
        list_columns=("code", "name", "price", "unit", "on_sale"),
        form_columns=("code", "name", "price", "unit", "on_sale", "description"),
        filter_columns=("on_sale",), keyword_columns=("code", "name"), order_columns=("id", "code", "name", "price"),
        custom_fields="product", importer=PRODUCT_IMPORT,
    ),
    ModuleSpec(
        key="followup", model=FollowUp, label=_l("Follow-ups"), icon="fa-comments",
        list_columns=("customer", "way", "content", "followed_at", "next_followup_at", "owner"),
        form_columns=("customer", "way", "content", "followed_at", "next_followup_at"),
        filter_columns=("customer", "way", "owner", "followed_at"), keyword_columns=("content",),
        order_columns=("id", "followed_at", "next_followup_at"), base_order=("followed_at", "desc"),
        after_save=_followup_saved,
    ),
    ModuleSpec(
        key="invoice", model=Invoice, label=_l("Invoices"), icon="fa-ticket",
        list_columns=("number", "contract", "customer", "amount", "issued_on", "status", "owner"),
        form_columns=("contract", "number", "amount", "issued_on", "status", "note"),
        filter_columns=("contract", "status", "owner", "issued_on"), keyword_columns=("number",),
        order_columns=("id", "number", "amount", "issued_on"), choices={"status": "invoice_status"},
        custom_fields="invoice", pool_records=False,
    ),
    ModuleSpec(
        key="customer_group", permission="customer", model=CustomerGroup, label=_l("Customer groups"),
        icon="fa-folder-open", menu=None,
        list_columns=("name", "hidden", "sort_order"), form_columns=("name", "hidden", "sort_order"),
        keyword_columns=("name",), order_columns=("id", "name", "sort_order"), base_order=("sort_order", "asc"),
        base_filter=lambda: CustomerGroup.owner_id == g.user.id, service=GroupService,
        # an employee's own groups need only the right to see customers
        permission_overrides={m: "view" for m in ("add", "edit", "delete", "post", "put", "export")},
    ),
    # 呼叫中心
    ModuleSpec(
        key="seat", permission="line", model=Seat, label=_l("Seat list"), icon="fa-headphones", menu="CallCenter",
        list_columns=("name", "number", "provider", "display_line", "expires_at", "remaining_badge", "bound_mobile",
                      "employee_name", "status", "choose_link"),
        show_columns=("name", "number", "provider", "display_line", "expires_at", "remaining", "bound_mobile",
                      "bound_at", "employee_name", "status"),
        form_columns=("name", "number", "provider", "display_line", "expires_at", "status"),
        export_fields=("name", "number", "provider", "display_line", "expires_at", "bound_mobile", "employee",
                       "status"),
        filter_columns=("status", "expires_at", "employee"), keyword_columns=("number", "name"),
        order_columns=("id", "number", "expires_at"), base_order=("id", "asc"),
        service=SeatService, view_mixin=SeatViewMixin, api_mixin=SeatApiMixin,
    ),
    ModuleSpec(
        key="call", permission="line", model=CallRecord, label=_l("Call records"), icon="fa-phone",
        menu="CallCenter",
        list_columns=("created_at", "owner", "department", "customer", "customer_number", "disposition",
                      "talk_seconds", "ring_seconds", "state"),
        show_columns=("created_at", "owner", "department", "seat", "customer", "contact", "customer_number",
                      "agent_number", "mode", "direction", "state", "disposition", "raw_cause", "hangup_by",
                      "answered_at", "ended_at", "ring_seconds", "talk_seconds", "recording_status", "note"),
        filter_columns=("owner", "department", "created_at", "disposition", "talk_seconds"),
        order_columns=("created_at", "talk_seconds"), base_order=("created_at", "desc"),
        read_only=True, can_add=False, pool_records=False,
        field_access_from={"customer_number": fieldperms.call_number_access},
        api_mixin=CallApiMixin,
    ),
    ModuleSpec(
        key="sms_message", permission="line", model=SmsMessage, label=_l("SMS outbox"), icon="fa-envelope",
        menu="CallCenter", list_columns=("created_at", "mobile", "text", "purpose", "gateway", "status"),
        filter_columns=("mobile", "created_at"), order_columns=("id", "created_at"), base_order=("id", "desc"),
        read_only=True, can_add=False,
        label_columns={"created_at": _l("Sent at"), "mobile": _l("Mobile"), "text": _l("Message"),
                       "purpose": _l("Purpose"), "gateway": _l("Gateway"), "status": _l("Status")},
        # the outbox holds binding codes: only those who may bind seats (线路管理 → 编辑) read it
        permission_overrides={m: "edit" for m in ("list", "show", "download", "lookup", "api_read", "api_get",
                                                   "get_list", "get", "info", "export", "action_form")},
    ),
]
