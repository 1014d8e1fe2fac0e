"""Create, change and delete CRM records: the rules every module shares, for screens, API and importer.

- the data scope: a record can only be given to an owner within the user's scope, and a record that
  hangs off another (a contact off its customer) must hang off one the user can see;
- owners: a new owned record belongs to its creator, or follows its parent (`owner_follows`);
  the owner's department is kept with it;
- normalised mobile numbers, unique fields and required fields refused with the field named;
- who created and changed it, and when.
Each function is one transaction.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from app import audit_records, scopes
from app.errors import CrmError, NotFound, unit_of_work
from app.inputs import check_column, parse_id
from app.extensions import db
from app.phone import normalise_mobile
from models.mixins import OwnedMixin
from models.org import Employee


def _label(model, field: str) -> str:
    labels = getattr(model, "field_labels", {})
    return str(labels.get(field, field))


def _relationship(model, name: str):
    return inspect(model).relationships.get(name)


def resolve_related(model, name: str, value, user: Optional[Employee]):
    """An id (or object) for relationship `name` -> the object, refused if missing or out of the user's scope."""
    rel = _relationship(model, name)
    if value in (None, ""):
        return None
    target = rel.mapper.class_
    pk = value.id if isinstance(value, target) else value
    pk = parse_id(pk, name, _label(model, name), malformed_status=400)
    query = select(target).where(target.id == pk)
    if issubclass(target, OwnedMixin) and target is not Employee:
        query = query.where(scopes.reachable(target, user))
    obj = db.session.scalar(query)
    if obj is None:
        raise NotFound(_l("%(field)s: this record does not exist.", field=_label(model, name)), field=name)
    return obj


def required_fields(model) -> set[str]:
    """The fields a new record must be given (what `_check_required` refuses to save without): NOT NULL
    columns without a default, a relationship by its name when its foreign key is one of them. Read from
    the model, so a column made optional or required there changes the forms' and the API's marks too;
    plus what the model declares required although its column is nullable (a customer's mobile)."""
    mapper = inspect(model)
    required = set(getattr(model, "required_fields", ()))
    for column in mapper.columns:
        if column.primary_key or column.nullable or column.default is not None or column.server_default is not None:
            continue
        required.add(column.key[:-3] if column.foreign_keys and column.key.endswith("_id") else column.key)
    return required


def _check_required(obj) -> None:
    mapper = inspect(type(obj))
    for name in getattr(type(obj), "required_fields", ()):
        value = getattr(obj, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CrmError(_l("%(field)s is required.", field=_label(type(obj), name)), field=name)
    for column in mapper.columns:
        if column.primary_key or column.nullable or column.default is not None or column.server_default is not None:
            continue
        if column.foreign_keys and column.key.endswith("_id"):
            rel = column.key[:-3]
            if getattr(obj, rel, None) is not None:
                continue
            name = rel
        else:
            name = column.key
        value = getattr(obj, column.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CrmError(_l("%(field)s is required.", field=_label(type(obj), name)), field=name)


def _check_unique(obj) -> None:
    model = type(obj)
    for field in getattr(model, "unique_fields", ()):
        value = getattr(obj, field)
        if value in (None, ""):
            continue
        query = select(model.id).where(getattr(model, field) == value)
        if obj.id is not None:
            query = query.where(model.id != obj.id)
        if db.session.scalar(query) is not None:
            raise CrmError(_l("%(field)s %(value)s already exists.", field=_label(model, field), value=value),
                           field=field)


def _apply(obj, data: dict[str, Any], user: Optional[Employee]) -> None:
    model = type(obj)
    mapper = inspect(model)
    for name, value in data.items():
        if name in mapper.relationships:
            setattr(obj, name, resolve_related(model, name, value, user))
        elif name in mapper.columns:
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    value = None
            column = mapper.columns[name]
            if value is None and not column.nullable and column.default is not None:
                continue  # left empty: the column's default applies
            if name in getattr(model, "mobile_fields", ()) and value is not None:
                try:
                    value = normalise_mobile(value)
                except CrmError as error:
                    raise CrmError(error.message, field=name)
            setattr(obj, name, check_column(model, column, value, _label(model, name)))
        else:
            raise CrmError(_l("Unknown field: %(field)s", field=name), field=name)


def _set_owner(obj, owner: Optional[Employee]) -> None:
    obj.owner = owner
    obj.owner_id = owner.id if owner else None
    obj.department_id = owner.department_id if owner else None


def _follow_parent(obj) -> None:
    parent_name = getattr(type(obj), "owner_follows", None)
    if parent_name:
        parent = getattr(obj, parent_name)
        if parent is not None:
            _set_owner(obj, parent.owner)
    for attribute, via in getattr(type(obj), "from_parent", {}).items():
        parent = getattr(obj, via)
        if parent is not None:
            setattr(obj, attribute, getattr(parent, attribute))


def _owner_from_data(model, data: dict, user: Optional[Employee]) -> Optional[Employee]:
    owner = data.pop("owner", ...)
    if owner is ...:
        return user
    if owner in (None, ""):
        return None
    owner_id = owner.id if isinstance(owner, Employee) else parse_id(owner, "owner", _label(model, "owner"), 400)
    if not scopes.can_own(user, owner_id):
        raise CrmError(_l("You cannot give records to this employee."), field="owner")
    return db.session.get(Employee, int(owner_id))


def _flush(obj) -> None:
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise CrmError(_l("This record conflicts with an existing one (a unique value is already used)."))


def _check_and_save(obj, after) -> None:
    with db.session.no_autoflush:
        _check_required(obj)
        _check_unique(obj)
    _flush(obj)
    if after is not None:
        after(obj)


def create_record(model, data: dict[str, Any], user: Optional[Employee], after=None):
    """`after(obj)` runs inside the same transaction (custom fields, owner history, ...)."""
    data = dict(data)
    with unit_of_work():
        obj = model()
        owned = issubclass(model, OwnedMixin)
        owner = _owner_from_data(model, data, user) if owned else None
        db.session.add(obj)
        with db.session.no_autoflush:
            _apply(obj, data, user)
            if owned:
                _set_owner(obj, owner)
                _follow_parent(obj)
            if hasattr(obj, "created_by_id") and user is not None:
                obj.created_by_id = obj.updated_by_id = user.id
        _check_and_save(obj, after)
        audit_records.record_created(obj, user)
    return obj


def update_record(obj, data: dict[str, Any], user: Optional[Employee], after=None):
    data = dict(data)
    data.pop("owner", None)  # owners change only through transfer, claim, assign and release
    with unit_of_work():
        before = audit_records.snapshot(obj)
        with db.session.no_autoflush:
            _apply(obj, data, user)
            if issubclass(type(obj), OwnedMixin):
                _follow_parent(obj)
            if hasattr(obj, "updated_by_id") and user is not None:
                obj.updated_by_id = user.id
        _check_and_save(obj, after)
        audit_records.record_changed(obj, before, user)
    return obj


def delete_record(obj, user: Optional[Employee] = None) -> None:
    """A customer, contact, opportunity, contract, product, follow-up or invoice goes to the recycle bin with
    what hangs off it (app/recycle.py); other records are deleted."""
    from app import audit, recycle
    from app.locking import write_lock
    from models.mixins import BinnedMixin

    if user is None and has_request_context():
        user = g.get("user")
    with unit_of_work():
        if isinstance(obj, BinnedMixin):
            pk, name = obj.id, audit_records.name_of(obj)
            write_lock()
            batch = recycle.move_to_bin(obj, user)
            audit.record("delete", module=obj.__tablename__, record_ids=[pk],
                         detail={"name": name, "recycle_batch": batch})
            return
        audit.record("delete", module=obj.__tablename__, record_ids=[obj.id],
                     detail={"name": audit_records.name_of(obj)})
        db.session.delete(obj)
        _flush(obj)
