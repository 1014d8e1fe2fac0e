"""The recycle bin (回收站): deleting a customer, contact, opportunity, contract, product, follow-up or invoice
moves it to the bin for RECYCLE_BIN_DAYS; restoring brings it back; `crm purge-deleted` removes the expired.

A binned record stays in its table with `deleted_at`, `deleted_by_id` and `deleted_batch` set
(models.mixins.BinnedMixin). What hangs off it goes with it in the same batch (a customer's contacts,
follow-ups, opportunities, contracts and invoices; a contract's invoices) and comes back with it. The batch id
names its root, `<module>.<id>.<random>`, so the bin lists roots only and a record deleted with another is
restored through that one.

Invisible everywhere else: every ORM statement run through a session gets `deleted_at IS NULL` on these
models (`_hide_binned`, a `do_orm_execute` hook with `with_loader_criteria`: lists, details, the API, pickers,
exports, statistics, lazy loads, `session.get`). Only statements with the execution option
`include_binned=True` (the bin itself, restore, purge) see them. Core statements on the bare tables are not
ORM statements: the few that exist (the importer's key lookups, custom-field value counts) say
`deleted_at` themselves.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session, with_loader_criteria

from app import fieldperms
from app.errors import NotFound
from app.extensions import db
from models.crm import Contact, Customer, FollowUp
from models.mixins import BinnedMixin, utcnow
from models.sales import Contract, Invoice, Opportunity, Product

INCLUDE_BINNED = "include_binned"
OPTIONS = {INCLUDE_BINNED: True}

# module key (the permission module and the URL) -> model, in the menu's order
MODELS = {"customer": Customer, "contact": Contact, "opportunity": Opportunity, "contract": Contract,
          "product": Product, "followup": FollowUp, "invoice": Invoice}
MODULE_OF = {model: module for module, model in MODELS.items()}
# what goes to the bin with a record: (child model, its column naming the parent)
CHILDREN = {
    Customer: ((Contact, "customer_id"), (FollowUp, "customer_id"), (Opportunity, "customer_id"),
               (Contract, "customer_id"), (Invoice, "customer_id")),
    Contract: ((Invoice, "contract_id"),),
}
# a record cannot come back while the record it hangs off is in the bin: (column, parent model)
PARENTS = {Contact: (("customer_id", Customer),), FollowUp: (("customer_id", Customer),),
           Opportunity: (("customer_id", Customer),), Contract: (("customer_id", Customer),),
           Invoice: (("contract_id", Contract), ("customer_id", Customer))}
# children first: the order in which a batch's rows are removed for good
PURGE_ORDER = (Invoice, Contract, Opportunity, FollowUp, Contact, Customer, Product)


def _hide_binned(state) -> None:
    if state.is_column_load or state.execution_options.get(INCLUDE_BINNED):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        with_loader_criteria(BinnedMixin, lambda cls: cls.deleted_at.is_(None), include_aliases=True))


def install() -> None:
    """Hide binned records from every ORM statement of every session (once per process)."""
    if not event.contains(Session, "do_orm_execute", _hide_binned):
        event.listen(Session, "do_orm_execute", _hide_binned)


def days() -> int:
    return int(current_app.config.get("RECYCLE_BIN_DAYS", 30))


def expires_at(deleted_at: dt.datetime) -> dt.datetime:
    return deleted_at + dt.timedelta(days=days())


def days_left(deleted_at: dt.datetime, now: Optional[dt.datetime] = None) -> int:
    left = expires_at(deleted_at) - (now or utcnow())
    return max(0, left.days + (1 if left.seconds or left.microseconds else 0))


def batch_root(batch: Optional[str]) -> Optional[tuple[str, int]]:
    """(module, id) of the record a batch was deleted as."""
    if not batch:
        return None
    module, pk, _rest = batch.split(".", 2)
    return module, int(pk)


def is_root(obj) -> bool:
    return batch_root(obj.deleted_batch) == (MODULE_OF[type(obj)], obj.id)


def binned(model, pk) -> Optional[BinnedMixin]:
    """A record in the bin, or None."""
    return db.session.scalar(select(model).where(model.id == pk, model.deleted_at.isnot(None))
                             .execution_options(**OPTIONS))


def batch_records(batch: str) -> dict[type, list[int]]:
    """The ids of a batch's records, per model."""
    found = {}
    for model in MODELS.values():
        table = model.__table__
        ids = list(db.session.scalars(select(table.c.id).where(table.c.deleted_batch == batch)))
        if ids:
            found[model] = ids
    return found


# ---------------------------------------------------------------- to the bin

def move_to_bin(obj, user) -> str:
    """Put `obj` and what hangs off it into the bin (one batch); inside the caller's transaction. Returns the
    batch id. A record already in the bin (another request moved it first) is not found."""
    model = type(obj)
    customer_id = getattr(obj, "customer_id", None)
    now = utcnow()
    batch = f"{MODULE_OF[model]}.{obj.id}.{uuid.uuid4().hex[:8]}"
    values = dict(deleted_at=now, deleted_by_id=getattr(user, "id", None), deleted_batch=batch)
    table = model.__table__
    moved = db.session.execute(update(table).where(table.c.id == obj.id, table.c.deleted_at.is_(None))
                               .values(**values)).rowcount
    if not moved:
        raise NotFound(_l("This record does not exist."))
    for child, column in CHILDREN.get(model, ()):
        child_table = child.__table__
        db.session.execute(update(child_table).where(child_table.c[column] == obj.id,
                                                     child_table.c.deleted_at.is_(None)).values(**values))
    _free_custom_unique(batch)
    if model is FollowUp:
        _refresh_last_followup(customer_id)
    return batch


def _value_tables(batch: str):
    from custom_fields.models import VALUE_MODELS

    for model, ids in batch_records(batch).items():
        module = MODULE_OF[model]
        if module in VALUE_MODELS:
            yield module, VALUE_MODELS[module].__table__, ids


def _free_custom_unique(batch: str) -> None:
    """A binned record's values of unique custom fields no longer hold their value (restore takes it again)."""
    for _module, table, ids in _value_tables(batch):
        for start in range(0, len(ids), 900):
            db.session.execute(update(table).where(table.c.record_id.in_(ids[start:start + 900]),
                                                   table.c.unique_value.isnot(None)).values(unique_value=None))


def _refresh_last_followup(customer_id: int) -> None:
    """A customer's last follow-up time counts the follow-ups not in the bin (the pool's auto-return reads it)."""
    from sqlalchemy import func

    latest = db.session.scalar(select(func.max(FollowUp.followed_at)).where(FollowUp.customer_id == customer_id))
    table = Customer.__table__
    db.session.execute(update(table).where(table.c.id == customer_id).values(last_followup_at=latest))


# ---------------------------------------------------------------- for good

def purge_batches(batches) -> int:
    """Remove the batches' records for good, children first (their custom values, owner history and group
    memberships go with them by the foreign keys' ON DELETE CASCADE). Returns how many records."""
    batches = list(batches)
    removed = 0
    for model in PURGE_ORDER:
        table = model.__table__
        for start in range(0, len(batches), 500):
            removed += db.session.execute(delete(table).where(
                table.c.deleted_batch.in_(batches[start:start + 500]))).rowcount
    return removed


def purge_expired(now: Optional[dt.datetime] = None) -> int:
    """`crm purge-deleted`: every batch deleted more than RECYCLE_BIN_DAYS ago; one transaction."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days())
    batches = set()
    for model in MODELS.values():
        table = model.__table__
        batches.update(db.session.scalars(select(table.c.deleted_batch).where(
            table.c.deleted_at.isnot(None), table.c.deleted_at < cutoff).distinct()))
    removed = purge_batches(sorted(batches))
    if batches:
        from app import audit

        audit.record("purge", detail={"batches": len(batches), "records": removed, "days": days()})
    db.session.commit()
    return removed


# ---------------------------------------------------------------- back

UNIQUE = {Customer: "mobile", Contract: "number", Invoice: "number", Product: "code"}


def _label(model, field) -> str:
    return str(getattr(model, "field_labels", {}).get(field, field))


def _view(model, user):
    """What the restorer may see of `model`'s records (no user: everything, as before field permissions)."""
    module = fieldperms.module_of_model(model)
    return fieldperms.FieldView(user, module) if user is not None and module is not None else None


def _shown(model, field, value, user):
    """A value a refusal names, as the restorer may see it (hidden: ***, a mobile masked)."""
    view = _view(model, user)
    return view.show(field, value, "***") if view is not None else value


def _name(record, user) -> str:
    """A record a refusal names, as the restorer may see it (a hidden name: #12)."""
    view = _view(type(record), user)
    return view.label(record) if view is not None else str(record)


def _conflicts(records: dict[type, list[int]], user=None) -> None:
    """Refuse (409) when a unique value of the batch was taken by a record created since."""
    for model, ids in records.items():
        field = UNIQUE.get(model)
        if field is None:
            continue
        table = model.__table__
        column = table.c[field]
        for start in range(0, len(ids), 900):
            values = [v for v in db.session.scalars(select(column).where(table.c.id.in_(ids[start:start + 900])))
                      if v is not None]
            if not values:
                continue
            taken = db.session.execute(select(table.c.id, column).where(
                column.in_(values), table.c.deleted_at.is_(None)).limit(1)).first()
            if taken is not None:
                raise Conflict(_l("Cannot restore: %(field)s %(value)s is now used by another record (#%(id)s).",
                                  field=_label(model, field), value=_shown(model, field, taken[1], user),
                                  id=taken[0]), field=field)


def _parents_binned(obj, records: dict[type, list[int]], user=None) -> None:
    for column, parent_model in PARENTS.get(type(obj), ()):
        parent_id = getattr(obj, column)
        if parent_id is None or parent_id in records.get(parent_model, ()):
            continue
        parent = binned(parent_model, parent_id)
        if parent is not None:
            raise Conflict(_l("Cannot restore: its %(parent)s %(name)s is in the recycle bin; restore that first.",
                              parent=_label(type(obj), column[:-3]), name=_name(parent, user)))


def _take_custom_unique(records: dict[type, list[int]], user=None) -> None:
    """The restored records' values of unique custom fields hold their value again (the partial unique index
    refuses a value another record took meanwhile)."""
    from sqlalchemy import BigInteger, String, cast

    from custom_fields.models import FieldDefinition, VALUE_MODELS
    from custom_fields.types import TYPES

    for model, ids in records.items():
        module = MODULE_OF[model]
        if module not in VALUE_MODELS:
            continue
        table = VALUE_MODELS[module].__table__
        for definition in db.session.scalars(select(FieldDefinition).where(FieldDefinition.module == module,
                                                                           FieldDefinition.unique.is_(True))):
            column = table.c[TYPES[definition.type].column]
            text = cast(cast(column, BigInteger), String) if definition.type == "integer" else column
            taken = db.session.execute(select(column).select_from(table).where(
                table.c.field_id == definition.id, table.c.record_id.in_(ids), column.isnot(None),
                text.in_(select(table.c.unique_value).where(table.c.field_id == definition.id,
                                                            table.c.unique_value.isnot(None)))).limit(1)).first()
            if taken is not None:
                raise Conflict(_l("Cannot restore: %(field)s %(value)s is now used by another record.",
                                  field=definition.label,
                                  value=_shown(model, f"cf_{definition.key}", taken[0], user)),
                               field=f"cf_{definition.key}")
            db.session.execute(update(table).where(table.c.field_id == definition.id, table.c.record_id.in_(ids),
                                                   column.isnot(None)).values(unique_value=text))


class Conflict(NotFound):
    status = 409


def restore(model, pk, reach=None, user=None) -> tuple[dict[type, list[int]], dict[str, dict]]:
    """Bring a binned record back with its batch, in one transaction. `reach`: the data-scope predicate on
    `model` (a record outside it is not found, 404). Refused (409) when it was deleted with another record,
    when the record it hangs off is still in the bin, or when a unique value was taken meanwhile (checked,
    and decided by the partial unique indexes should a concurrent save take it between check and write).
    Records whose owner is no longer active do not go back to that account (app/customers.adopt_restored).
    Returns (the records per model, what changed owner as adopt_restored says it)."""
    from sqlalchemy.exc import IntegrityError

    from app import audit

    from app.locking import write_lock

    batch = None
    query = select(model.id).where(model.id == pk, model.deleted_at.isnot(None))
    if reach is not None:
        query = query.where(reach)
    try:
        write_lock()  # SQLite: the writer from the first read on (PostgreSQL: the row lock below)
        # the row lock (PostgreSQL) makes a second restore of the same record wait, then find it restored
        found = db.session.scalar(query.execution_options(**OPTIONS).with_for_update())
        obj = binned(model, found) if found is not None else None
        if obj is None:
            raise NotFound(_l("This record is not in the recycle bin."))
        if not is_root(obj):
            root_module, root_id = batch_root(obj.deleted_batch)
            root = binned(MODELS[root_module], root_id)
            name = _name(root, user) if root is not None else "#" + str(root_id)
            raise Conflict(_l("This record was deleted together with %(record)s; restore that one.", record=name))
        batch = obj.deleted_batch
        records = batch_records(batch)
        _parents_binned(obj, records, user)
        _conflicts(records, user)
        for child in records:
            table = child.__table__
            db.session.execute(update(table).where(table.c.deleted_batch == batch).values(
                deleted_at=None, deleted_by_id=None, deleted_batch=None))
        _take_custom_unique(records, user)
        from app.customers import adopt_restored

        moved = adopt_restored(records, user)
        if model is FollowUp:
            _refresh_last_followup(obj.customer_id)
        audit.record("restore", module=MODULE_OF[model], record_ids=[pk], actor=user,
                     detail={"name": str(obj)[:200], "records": sum(len(v) for v in records.values())})
        db.session.flush()
        db.session.commit()
    except IntegrityError:
        # a concurrent save took a unique value between the check and the write: the index refused ours; say
        # which value (the other transaction has committed by now)
        db.session.rollback()
        try:
            _conflicts(batch_records(batch), user)
        finally:
            db.session.rollback()
        raise Conflict(_l("Cannot restore: one of its unique values was taken by another record just now."))
    except BaseException:
        db.session.rollback()
        raise
    return records, moved
