"""What someone who may look into the public pool (公海) sees of a pooled customer's past.

The manual's pool shows the customer with its history, not its money. So a pool viewer sees the
customer, its contacts (they go into the pool with it) and its follow-up history (read here: the
follow-ups stay their authors', so the follow-up list does not fill up with every pool customer's
history); opportunities, contracts and invoices stay with their owner, in their owner's data scope
(app/customers.POOL_FOLLOWERS). Field permissions of the follow-up module apply.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from app import fieldperms, scopes
from app.extensions import db
from models.crm import Customer, FollowUp

COLUMNS = ("followed_at", "way", "content", "owner")
LIMIT = 50


def pool_followups(customer_id, user) -> Optional[dict]:
    """{"columns": [(name, label)], "rows": [[cell, ...]]} of a pool customer's latest follow-ups, or None
    when the customer is not in the pool or the user may not look into the pool."""
    try:
        customer_id = int(customer_id)
    except (TypeError, ValueError):
        return None
    if not scopes.may_see_pool(user):
        return None
    pooled = db.session.scalar(select(Customer.id).where(Customer.id == customer_id, Customer.owner_id.is_(None)))
    if pooled is None:
        return None
    access = fieldperms.field_access(user, "followup")
    columns = fieldperms.readable_columns("followup", COLUMNS, access)
    labels = FollowUp.field_labels
    ways = FollowUp.value_labels["way"]
    rows = []
    for item in db.session.scalars(select(FollowUp).where(FollowUp.customer_id == customer_id)
                                   .order_by(FollowUp.followed_at.desc(), FollowUp.id.desc()).limit(LIMIT)):
        values = {"followed_at": item.followed_at.strftime("%Y-%m-%d %H:%M") if item.followed_at else "",
                  "way": str(ways.get(item.way, item.way)), "content": item.content,
                  "owner": item.owner.first_name if item.owner else ""}
        shown = fieldperms.apply_to_values("followup", {c: values[c] for c in columns}, access)
        rows.append([shown.get(c, "") for c in columns])
    return {"columns": [(c, str(labels.get(c, c))) for c in columns], "rows": rows}
