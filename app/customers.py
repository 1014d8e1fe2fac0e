"""Customer ownership: the public pool (claim, assign, return), transfer, hand-over on resignation,
automatic return, and the owner history that records every move. Each function is one transaction."""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from app import recycle, scopes
from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.inputs import is_id
from app.locking import write_lock
from app.organisation import employee_resigned
from models.crm import Contact, Customer, OwnerHistory, PoolRules
from models.mixins import utcnow
from models.org import AccountState, Employee
from models.sales import Contract, Invoice, Opportunity

# records that follow their customer to a new owner
FOLLOWERS = (Contact, Opportunity, Contract, Invoice)
# what goes into the pool with the customer: the people to call. The money (opportunities, contracts,
# invoices) stays with its owner and in its owner's data scope; whoever claims the customer does not get
# it (only such records left without an owner, by a return before this rule, follow the claimer).
POOL_FOLLOWERS = (Contact,)


def pool_rules() -> PoolRules:
    rules = db.session.scalar(select(PoolRules).limit(1))
    if rules is None:
        rules = PoolRules(daily_claim_limit=0, reclaim_cooldown_days=0, max_owned=0, auto_release_days=0)
        db.session.add(rules)
        db.session.flush()
    return rules


def _ids(ids: Sequence) -> list[int]:
    try:
        clean = list(dict.fromkeys(int(i) for i in ids or []))
    except (TypeError, ValueError):
        raise CrmError(_l("Invalid customer id."))
    if not clean:
        raise CrmError(_l("Please select at least one customer."))
    return clean


def _load(ids: list[int], where) -> list[Customer]:
    """All of `ids` matching `where`, locked for the change (in id order; PostgreSQL re-checks `where` once a
    concurrent change commits); any other id is refused (404, no partial change)."""
    query = (select(Customer).where(Customer.id.in_(ids), where).order_by(Customer.id)
             .with_for_update(of=Customer, key_share=True).execution_options(populate_existing=True))
    customers = list(db.session.scalars(query))
    if len(customers) != len(ids):
        raise NotFound(_l("Some of the selected customers do not exist or are out of your reach."))
    return customers


def _load_from_pool(ids: list[int], user: Employee) -> list[Customer]:
    """All of `ids`, in the pool, locked for the change. One that is not in the pool any more, but that the
    user may see, is a conflict (409, "not in the pool"); one that does not exist or is out of the user's
    reach is 404, as everywhere (nothing tells whether it exists)."""
    try:
        return _load(ids, Customer.owner_id.is_(None))
    except NotFound:
        pooled = set(db.session.scalars(select(Customer.id).where(Customer.id.in_(ids), Customer.owner_id.is_(None))))
        rest = [i for i in ids if i not in pooled]
        seen = set(db.session.scalars(select(Customer.id).where(Customer.id.in_(rest), Customer.owner_id.isnot(None),
                                                                 scopes.visible_to(Customer, user))))
        if len(seen) == len(rest):
            raise CrmError(_l("The selected customers are not all in the public pool any more."), status=409)
        raise


def _employee(owner_id, field="owner") -> Employee:
    employee = db.session.get(Employee, int(owner_id)) if is_id(owner_id) else None
    if employee is None:
        raise NotFound(_l("This employee does not exist."), field=field)
    if employee.state != AccountState.ACTIVE.value:
        raise CrmError(_l("Customers can only go to an active employee."), field=field)
    return employee


def _check_max_owned(owner: Employee, incoming: int) -> None:
    limit = pool_rules().max_owned
    if not limit:
        return
    owned = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == owner.id))
    if owned + incoming > limit:
        raise CrmError(_l("%(name)s would own more than %(n)d customers, the most allowed.", name=owner.first_name,
                          n=limit), field="owner")


def audit_actions():
    from models.audit import AUDIT_ACTIONS

    return AUDIT_ACTIONS


def _move(customers: Iterable[Customer], owner: Optional[Employee], action: str, actor: Optional[Employee],
          reason: Optional[str] = None, detail: Optional[dict] = None) -> None:
    """Give customers (and what follows them) to `owner`, or to the pool when None; record the history.
    What follows a customer follows it from the recycle bin too (a contact deleted on its own comes back
    with the customer's owner, not with the one it had when it was deleted)."""
    now = utcnow()
    customers = list(customers)
    ids = [c.id for c in customers]
    history = []
    for customer in customers:
        history.append(dict(customer_id=customer.id, from_owner_id=customer.owner_id,
                            to_owner_id=owner.id if owner else None, actor_id=actor.id if actor else None,
                            action=action, reason=reason, at=now))
        customer.owner_id = owner.id if owner else None
        customer.department_id = owner.department_id if owner else None
        customer.owned_since = now if owner else None
        customer.released_at = None if owner else now
        customer.release_reason = None if owner else reason
    values = dict(owner_id=owner.id if owner else None, department_id=owner.department_id if owner else None)
    from_pool = action in ("claim", "assign")
    for model in FOLLOWERS:
        where = model.customer_id.in_(ids)
        if model not in POOL_FOLLOWERS:
            if owner is None:
                continue
            if from_pool:
                where = and_(where, model.owner_id.is_(None))
        db.session.execute(update(model).where(where).values(**values)
                           .execution_options(synchronize_session=False, **recycle.OPTIONS))
    if history:
        db.session.execute(OwnerHistory.__table__.insert(), history)
        from app import audit

        audit.record(action if action in audit_actions() else "transfer", module="customer", record_ids=ids,
                     changes={"owner": (sorted({h["from_owner_id"] for h in history if h["from_owner_id"]}),
                                        owner.id if owner else None)},
                     detail={**({"reason": reason} if reason else {}), **(detail or {})} or None, actor=actor)


def claim(ids: Sequence, user: Employee) -> list[Customer]:
    """领取: take customers from the pool, within the daily limit, the ex-owner cool-down and the holding limit."""
    ids = _ids(ids)
    with unit_of_work():
        write_lock(Employee, [user.id])  # the employee's quota: their claims run one at a time
        rules = pool_rules()
        customers = _load_from_pool(ids, user)
        if rules.daily_claim_limit:
            today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
            claimed = db.session.scalar(select(func.count()).select_from(OwnerHistory).where(
                OwnerHistory.actor_id == user.id, OwnerHistory.action == "claim", OwnerHistory.at >= today))
            if claimed + len(customers) > rules.daily_claim_limit:
                raise CrmError(_l("You can claim at most %(n)d customers a day; %(left)d left today.",
                                  n=rules.daily_claim_limit, left=max(rules.daily_claim_limit - claimed, 0)))
        if rules.reclaim_cooldown_days:
            since = utcnow() - dt.timedelta(days=rules.reclaim_cooldown_days)
            recent = db.session.scalar(select(func.count()).select_from(OwnerHistory).where(
                OwnerHistory.customer_id.in_(ids), OwnerHistory.from_owner_id == user.id,
                OwnerHistory.to_owner_id.is_(None), OwnerHistory.at >= since))
            if recent:
                raise CrmError(_l("You returned some of these customers less than %(n)d days ago and cannot "
                                  "claim them yet.", n=rules.reclaim_cooldown_days))
        _check_max_owned(user, len(customers))
        _move(customers, user, "claim", user)
    return customers


def assign(ids: Sequence, owner_id, user: Employee) -> list[Customer]:
    """分配: give pool customers to an employee within the assigner's data scope."""
    ids = _ids(ids)
    with unit_of_work():
        owner = _employee(owner_id)
        write_lock(Employee, [owner.id])  # the new owner's holding limit
        if not scopes.can_own(user, owner.id):
            raise CrmError(_l("You cannot give records to this employee."), field="owner")
        customers = _load_from_pool(ids, user)
        _check_max_owned(owner, len(customers))
        _move(customers, owner, "assign", user)
    return customers


def release(ids: Sequence, reason: Optional[str], user: Employee) -> list[Customer]:
    """退回公海: return customers the user can see to the pool, with a reason."""
    ids = _ids(ids)
    reason = (reason or "").strip()
    if not reason:
        raise CrmError(_l("Please give a reason for returning the customers to the pool."), field="reason")
    with unit_of_work():
        write_lock()
        customers = _load(ids, and_(Customer.owner_id.isnot(None), scopes.visible_to(Customer, user)))
        _move(customers, None, "release", user, reason[:255])
    return customers


def transfer(ids: Sequence, owner_id, user: Employee) -> list[Customer]:
    """转移: move customers the user can see to another employee in scope; contacts, opportunities,
    contracts and invoices follow."""
    ids = _ids(ids)
    with unit_of_work():
        owner = _employee(owner_id)
        write_lock(Employee, [owner.id])
        if not scopes.can_own(user, owner.id):
            raise CrmError(_l("You cannot give records to this employee."), field="owner")
        customers = _load(ids, and_(Customer.owner_id.isnot(None), scopes.visible_to(Customer, user)))
        moving = [c for c in customers if c.owner_id != owner.id]
        _check_max_owned(owner, len(moving))
        _move(moving, owner, "transfer", user)
    return customers


def record_creation(customer: Customer, user: Optional[Employee], action: str = "create") -> None:
    """Called inside the transaction that creates a customer."""
    customer.owned_since = utcnow() if customer.owner_id else None
    db.session.execute(OwnerHistory.__table__.insert(), [dict(
        customer_id=customer.id, from_owner_id=None, to_owner_id=customer.owner_id,
        actor_id=user.id if user else None, action=action, at=utcnow())])


@employee_resigned.connect
def _hand_over_on_resign(employee: Employee, handover_to: Optional[Employee] = None, **_):
    """办理离职 moves the leaver's customers to the chosen employee or to the pool (same transaction), those in
    the recycle bin too (with what was deleted with them, under the same rule): restored later, they belong
    to the heir or the pool, not to an account that has left. The binned ones are audited in an entry of their
    own (detail recycle_bin)."""
    reason = str(_l("Resigned")) if handover_to is None else None
    owned = (select(Customer).where(Customer.owner_id == employee.id).order_by(Customer.id)
             .with_for_update(of=Customer, key_share=True))
    _move(list(db.session.scalars(owned)), handover_to, "resign", None, reason=reason)
    in_bin = list(db.session.scalars(owned.where(Customer.deleted_at.isnot(None)).execution_options(**recycle.OPTIONS)))
    if in_bin:
        _move(in_bin, handover_to, "resign", None, reason=reason, detail={"recycle_bin": True})
    # what they followed up stays theirs; records that follow no customer (none today) would go here


def adopt_restored(records: dict, user: Optional[Employee]) -> dict[str, dict]:
    """Records coming back from the recycle bin (app/recycle.restore, inside its transaction) never go back to
    an owner who is no longer active (resigned, disabled, not activated):

    - such a customer goes to the public pool (退回公海, in its owner history and the audit trail, with the
      reason); its contacts go with it, as with any return to the pool;
    - a contact, opportunity, contract or invoice goes to its customer's owner when that one is active (as a
      hand-over to an employee moves it); otherwise a contact stays with its customer in the pool and the
      money (opportunity, contract, invoice), which nobody could see without an owner, goes to the employee
      who restored it;
    - a follow-up keeps its author (who followed up is history, as on resignation).

    Returns {"pool": {module: [ids]}, "customer_owner": {...}, "restorer": {...}} of the records moved."""
    moved: dict[str, dict] = {"pool": {}, "customer_owner": {}, "restorer": {}}
    inactive = select(Employee.id).where(Employee.state != AccountState.ACTIVE.value)
    customer_ids = records.get(Customer) or []
    if customer_ids:
        stale = list(db.session.scalars(
            select(Customer).where(Customer.id.in_(customer_ids), Customer.owner_id.in_(inactive))
            .order_by(Customer.id).with_for_update(of=Customer, key_share=True)
            .execution_options(populate_existing=True)))
        if stale:
            _move(stale, None, "release", user,
                  reason=str(_l("Restored from the recycle bin; the owner is no longer active")))
            moved["pool"]["customer"] = [c.id for c in stale]
    for model in FOLLOWERS:
        ids = records.get(model) or []
        if not ids:
            continue
        module = recycle.MODULE_OF[model]
        rows = db.session.execute(
            select(model.id, model.owner_id, Customer.owner_id, Customer.department_id)
            .outerjoin(Customer, Customer.id == model.customer_id)
            .where(model.id.in_(ids), model.owner_id.in_(inactive)).order_by(model.id)).all()
        active = set(db.session.scalars(select(Employee.id).where(
            Employee.id.in_({r[2] for r in rows if r[2] is not None}), Employee.state == AccountState.ACTIVE.value)))
        targets: dict[tuple, list] = {}
        for pk, old_owner, customer_owner, customer_department in rows:
            if customer_owner in active:
                key = ("customer_owner", customer_owner, customer_department)
            elif model in POOL_FOLLOWERS:
                key = ("pool", None, None)
            elif user is not None:
                key = ("restorer", user.id, user.department_id)
            else:
                key = ("pool", None, None)
            targets.setdefault(key, []).append((pk, old_owner))
        for (kind, owner_id, department_id), pairs in targets.items():
            pks = [pk for pk, _old in pairs]
            db.session.execute(update(model).where(model.id.in_(pks))
                               .values(owner_id=owner_id, department_id=department_id)
                               .execution_options(synchronize_session=False))
            moved[kind].setdefault(module, []).extend(pks)
            from app import audit

            audit.record("transfer" if owner_id else "release", module=module, record_ids=pks, actor=user,
                         changes={"owner": (sorted({old for _pk, old in pairs}), owner_id)},
                         detail={"reason": str(_l("Restored from the recycle bin; the owner is no longer active"))})
    return {kind: found for kind, found in moved.items() if found}


def auto_release(now: Optional[dt.datetime] = None) -> int:
    """公海规则: return customers without a follow-up for N days. Safe to run twice: the second run finds none."""
    with unit_of_work():
        write_lock()
        days = pool_rules().auto_release_days
        if not days:
            return 0
        cutoff = (now or utcnow()) - dt.timedelta(days=days)
        stale = or_(Customer.last_followup_at < cutoff,
                    and_(Customer.last_followup_at.is_(None), func.coalesce(Customer.owned_since,
                                                                            Customer.created_at) < cutoff))
        moved = 0
        while True:
            batch = list(db.session.scalars(
                select(Customer).where(Customer.owner_id.isnot(None), stale).order_by(Customer.id).limit(1000)
                .with_for_update(of=Customer, key_share=True).execution_options(populate_existing=True)))
            if not batch:
                break
            _move(batch, None, "auto_release", None,
                  reason=str(_l("No follow-up for %(n)d days", n=days)))
            db.session.flush()
            moved += len(batch)
    return moved
