"""Option lists an administrator edits (设置 → 选项列表): add, rename, reorder, retire; delete only unused."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.inputs import check_attr, is_id
from app.organisation import check_name
from models.choices import CHOICE_KINDS, Choice
from models.crm import Customer
from models.sales import Contract, Invoice, Opportunity

USERS = {
    "customer_status": [Customer.status_id], "customer_level": [Customer.level_id],
    "customer_source": [Customer.source_id], "opportunity_stage": [Opportunity.stage_id],
    "contract_status": [Contract.status_id], "invoice_status": [Invoice.status_id],
}


def _check_free(kind: str, name: str, exclude_id=None) -> None:
    query = select(Choice.id).where(Choice.kind == kind, Choice.name == name)
    if exclude_id is not None:
        query = query.where(Choice.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise CrmError(_l("This option already exists in the list."), field="name")


def create_choice(kind: str, name: str, sort_order: int = 0) -> Choice:
    if kind not in CHOICE_KINDS:
        raise CrmError(_l("Unknown option list."), field="kind")
    name = check_name(name)
    with unit_of_work():
        _check_free(kind, name)
        choice = Choice(kind=kind, name=name, sort_order=check_attr(Choice, "sort_order", int(sort_order or 0)),
                        retired=False)
        db.session.add(choice)
    return choice


def update_choice(choice_id, name=None, sort_order=None, retired=None) -> Choice:
    with unit_of_work():
        choice = db.session.get(Choice, int(choice_id)) if is_id(choice_id) else None
        if choice is None:
            raise NotFound(_l("This record does not exist."))
        if name is not None:
            name = check_name(name)
            _check_free(choice.kind, name, exclude_id=choice.id)
            choice.name = name
        if sort_order is not None:
            choice.sort_order = check_attr(Choice, "sort_order", int(sort_order))
        if retired is not None:
            choice.retired = bool(retired)
    return choice


def usage(choice: Choice) -> int:
    return sum(db.session.scalar(select(func.count()).where(column == choice.id)) or 0
               for column in USERS.get(choice.kind, []))


def delete_choice(choice_id) -> None:
    with unit_of_work():
        choice = db.session.get(Choice, int(choice_id)) if is_id(choice_id) else None
        if choice is None:
            raise NotFound(_l("This record does not exist."))
        used = usage(choice)
        if used:
            raise CrmError(_l("%(n)d records use this option; retire it instead of deleting it.", n=used))
        db.session.delete(choice)
