"""分组: each employee's own customer groups (新建分组 / 管理分组 in the manual)."""
from __future__ import annotations

from typing import Optional, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app import scopes
from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.inputs import check_attr, is_id
from app.organisation import check_name
from models.crm import Customer, CustomerGroup, customer_group_member
from models.org import Employee


def get_group(group_id, user: Employee) -> CustomerGroup:
    """A group of the user's own; anyone else's is "not found"."""
    group = db.session.get(CustomerGroup, int(group_id)) if is_id(group_id) else None
    if group is None or group.owner_id != user.id:
        raise NotFound(_l("This group does not exist."), field="group")
    return group


def _check_free(name: str, user: Employee, exclude_id: Optional[int] = None) -> None:
    query = select(CustomerGroup.id).where(CustomerGroup.owner_id == user.id, CustomerGroup.name == name)
    if exclude_id is not None:
        query = query.where(CustomerGroup.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise CrmError(_l("You already have a group with this name."), field="name")


def create_group(name: str, user: Employee, hidden: bool = False, sort_order: int = 0) -> CustomerGroup:
    name = check_name(name)
    with unit_of_work():
        _check_free(name, user)
        group = CustomerGroup(name=name, owner_id=user.id, hidden=bool(hidden),
                              sort_order=check_attr(CustomerGroup, "sort_order", int(sort_order or 0)))
        db.session.add(group)
    return group


def update_group(group_id, user: Employee, name: Optional[str] = None, hidden: Optional[bool] = None,
                 sort_order: Optional[int] = None) -> CustomerGroup:
    with unit_of_work():
        group = get_group(group_id, user)
        if name is not None:
            name = check_name(name)
            _check_free(name, user, exclude_id=group.id)
            group.name = name
        if hidden is not None:
            group.hidden = bool(hidden)
        if sort_order is not None:
            group.sort_order = check_attr(CustomerGroup, "sort_order", int(sort_order))
    return group


def delete_group(group_id, user: Employee) -> None:
    """Deleting a group never deletes its customers."""
    with unit_of_work():
        group = get_group(group_id, user)
        db.session.execute(delete(customer_group_member).where(customer_group_member.c.group_id == group.id))
        db.session.delete(group)


def add_to_group(group_id, customer_ids: Sequence, user: Employee) -> int:
    with unit_of_work():
        group = get_group(group_id, user)
        try:
            ids = list(dict.fromkeys(int(i) for i in customer_ids))
        except (TypeError, ValueError):
            raise CrmError(_l("Invalid customer id."))
        if not ids:
            raise CrmError(_l("Please select at least one customer."))
        visible = set(db.session.scalars(select(Customer.id).where(Customer.id.in_(ids),
                                                                   scopes.visible_to(Customer, user))))
        if len(visible) != len(ids):
            raise NotFound(_l("Some of the selected customers do not exist or are out of your reach."))
        present = set(db.session.scalars(select(customer_group_member.c.customer_id).where(
            customer_group_member.c.group_id == group.id, customer_group_member.c.customer_id.in_(ids))))
        rows = [dict(group_id=group.id, customer_id=i) for i in ids if i not in present]
        if rows:
            db.session.execute(customer_group_member.insert(), rows)
    return len(rows)


def remove_from_group(group_id, customer_ids: Sequence, user: Employee) -> None:
    with unit_of_work():
        group = get_group(group_id, user)
        db.session.execute(delete(customer_group_member).where(
            customer_group_member.c.group_id == group.id,
            customer_group_member.c.customer_id.in_([int(i) for i in customer_ids])))


def visible_groups(user: Employee, include_hidden: bool = False) -> list[CustomerGroup]:
    query = select(CustomerGroup).where(CustomerGroup.owner_id == user.id)
    if not include_hidden:
        query = query.where(CustomerGroup.hidden.is_(False))
    return list(db.session.scalars(query.order_by(CustomerGroup.sort_order, CustomerGroup.id)))
