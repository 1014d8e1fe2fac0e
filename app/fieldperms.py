"""Field-level permission: per role and module a field is editable, read-only, masked (138****8000) or
hidden. A field without a RoleFieldPermission row is editable for that role.

An employee's access to a field is the most permissive of their roles' (editable > read-only > masked >
hidden), and the administrator's is editable everywhere. A role's rows are kept until a role or a field
permission changes (app/authcache.py): a change counts from the next request. Screens, exports and the API call these functions, so the rule is the same everywhere:

    access = field_access(g.user, "customer")                    # once per request
    columns = readable_columns("customer", list_columns, access)  # lists, details, exports, API reads
    row = apply_to_values("customer", row, access)                # drop hidden values, mask masked ones
    columns = writable_columns("customer", edit_columns, access)  # edit forms, API writes
    check_writable("customer", body, access)                      # refuse a write to a protected field
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from app import authcache
from app.errors import CrmError
from app.extensions import db
from app.permissions import ADMIN_ROLE
from models.crm import Contact, Customer, FollowUp
from models.roles import FIELD_ACCESS, RoleFieldPermission
from models.sales import Contract, Invoice, Opportunity, Product

EDITABLE, READ_ONLY, HIDDEN, MASKED = FIELD_ACCESS
# most permissive first: the union of several roles takes the earliest
PERMISSIVENESS = (EDITABLE, READ_ONLY, MASKED, HIDDEN)
# what may be searched, filtered and sorted on: a masked value is shown in part only, so it is not
SEARCHABLE = {EDITABLE, READ_ONLY}

# the model behind each permission module (线路管理 has none yet: no field permissions there)
MODULE_MODELS: dict[str, type] = {
    "customer": Customer, "pool": Customer, "contact": Contact, "opportunity": Opportunity,
    "contract": Contract, "product": Product, "followup": FollowUp, "invoice": Invoice,
}
# bookkeeping columns: never offered for field permissions
SYSTEM_FIELDS = {"id", "created_by", "updated_by", "created_at", "updated_at", "call_record_id"}


# ---------------------------------------------------------------- what a module's fields are

@lru_cache(maxsize=None)
def _shape(model: type) -> tuple[tuple[str, ...], dict[str, str]]:
    """(field names, column key -> field) for a model: plain columns, and a many-to-one relationship as
    one field whose foreign-key column (status_id) and dotted paths (owner.first_name) map to it.
    The mapping is static (declared models), so caching it cannot make a permission stale."""
    mapper = inspect(model)
    fields, aliases = [], {}
    relationship_of = {}
    for rel in mapper.relationships:
        if rel.uselist:
            continue
        relationship_of.update({column.key: rel.key for column in rel.local_columns})
    for column in mapper.columns:
        if column.key in relationship_of:
            aliases[column.key] = relationship_of[column.key]
        elif column.key not in SYSTEM_FIELDS and not column.key.endswith("_id"):
            fields.append(column.key)
    for name in dict.fromkeys(relationship_of.values()):
        if name not in SYSTEM_FIELDS:
            fields.append(name)
    return tuple(fields), aliases


# the custom-field module of each model (the pool shows the customers' custom fields)
CUSTOM_FIELD_MODULES = {Customer: "customer", Contact: "contact", Product: "product", Contract: "contract",
                        Invoice: "invoice"}


def custom_definitions(module: str) -> list:
    """The module's custom fields as they are now (read each call: an admin may add one at any time)."""
    from custom_fields import definitions

    custom_module = CUSTOM_FIELD_MODULES.get(MODULE_MODELS.get(module))
    return definitions(custom_module, include_hidden=True) if custom_module else []


def module_fields(module: str) -> list[str]:
    """The fields a role may restrict in `module` (relationships by name: status, owner, customer;
    custom fields as cf_<key>)."""
    model = MODULE_MODELS.get(module)
    if model is None:
        return []
    return list(_shape(model)[0]) + [d.name for d in custom_definitions(module)]


def custom_field_labels(module: str) -> dict[str, str]:
    return {d.name: d.label for d in custom_definitions(module)}


def maskable_fields(module: str) -> set[str]:
    """Only mobile numbers can be masked (a custom field of the 手机 type too)."""
    model = MODULE_MODELS.get(module)
    if model is None:
        return set()
    return set(getattr(model, "mobile_fields", ())) | {d.name for d in custom_definitions(module) if d.type == "mobile"}


def field_of(module: str, column: str) -> str:
    """The field a column name stands for: status_id -> status, owner.first_name -> owner."""
    head = column.split(".", 1)[0]
    model = MODULE_MODELS.get(module)
    if model is None:
        return head
    return _shape(model)[1].get(head, head)


# ---------------------------------------------------------------- an employee's access

def _is_user(user) -> bool:
    return user is not None and not getattr(user, "is_anonymous", False) and getattr(user, "id", None) is not None


def most_permissive(accesses: Iterable[str]) -> str:
    found = set(accesses)
    return next((access for access in PERMISSIVENESS if access in found), HIDDEN)


# modules that show another module's records: the stricter of both modules' settings applies (a pool
# customer is a customer, so a field hidden for customers stays hidden in the pool)
SHARES_FIELDS = {"pool": "customer"}


def least_permissive(accesses: Iterable[str]) -> str:
    found = set(accesses)
    return next((access for access in reversed(PERMISSIVENESS) if access in found), EDITABLE)


def field_access(user, module: str) -> dict[str, str]:
    """{field: access} for every field of `module`, for this employee (their roles' union); for a module
    in SHARES_FIELDS, combined with the other module's (the stricter wins).

    A field the roles restrict but the module does not declare (a custom field) is included too; any
    other name is editable: use `access_for()` to read the dict. No user: everything hidden."""
    own = _field_access(user, module)
    shared = SHARES_FIELDS.get(module)
    if shared is None:
        return own
    other = _field_access(user, shared)
    return {field: least_permissive((own.get(field, EDITABLE), other.get(field, EDITABLE)))
            for field in {**own, **other}}


def _field_access(user, module: str) -> dict[str, str]:
    fields = module_fields(module)
    if not _is_user(user):
        return {field: HIDDEN for field in fields}
    roles = list(user.roles)
    if any(role.name == ADMIN_ROLE for role in roles):
        return {field: EDITABLE for field in fields}
    if not roles:
        return {field: EDITABLE for field in fields}
    role_ids = frozenset(role.id for role in roles)
    # kept per set of roles until a role or a field permission changes (app/authcache.py); the module's
    # current custom fields are part of the key. Callers get their own copy.
    return dict(authcache.cached("fields", (role_ids, module, tuple(fields)),
                                 lambda: _read_field_access(role_ids, module, fields)))


def _read_field_access(role_ids, module: str, fields) -> dict[str, str]:
    result = {field: EDITABLE for field in fields}
    per_role: dict[int, dict[str, str]] = {role_id: {} for role_id in role_ids}
    rows = db.session.execute(select(RoleFieldPermission.role_id, RoleFieldPermission.field, RoleFieldPermission.access)
                              .where(RoleFieldPermission.role_id.in_(sorted(per_role)),
                                     RoleFieldPermission.module == module))
    for role_id, field, access in rows:
        per_role[role_id][field] = access
    for field in {f for restricted in per_role.values() for f in restricted}:
        # a role without a row for the field leaves it editable
        result[field] = most_permissive(restricted.get(field, EDITABLE) for restricted in per_role.values())
    return result


def access_for(module: str, column: str, accesses: Mapping[str, str]) -> str:
    return accesses.get(field_of(module, column), EDITABLE)


# ---------------------------------------------------------------- applying it

def mask_mobile(value: Optional[str]) -> Optional[str]:
    """13800138000 -> 138****8000: the first three and the last four digits stay, as the manual shows."""
    if value in (None, ""):
        return value
    text = str(value)
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_value(value: Any) -> Any:
    if value is None or value == "":
        return value
    return mask_mobile(str(value))


def readable_columns(module: str, columns: Iterable[str], accesses: Mapping[str, str]) -> list[str]:
    """Columns the employee may see (list, detail, export, API read): all but the hidden ones."""
    return [c for c in columns if access_for(module, c, accesses) != HIDDEN]


def searchable_columns(module: str, columns: Iterable[str], accesses: Mapping[str, str]) -> list[str]:
    """Columns the employee may search, filter and sort on: editable and read-only ones. A masked field is
    not searchable in any way, not even by an exact full value: 138****5678 leaves four digits, which
    10,000 exact-match searches would find. A hidden one never."""
    return [c for c in columns if access_for(module, c, accesses) in SEARCHABLE]


def writable_columns(module: str, columns: Iterable[str], accesses: Mapping[str, str],
                     creating: bool = False) -> list[str]:
    """Columns the employee may fill in: editable ones; when creating a record also read-only and
    masked ones (the value is theirs to type, nothing is disclosed). Hidden ones never."""
    allowed = {EDITABLE, READ_ONLY, MASKED} if creating else {EDITABLE}
    return [c for c in columns if access_for(module, c, accesses) in allowed]


def apply_to_values(module: str, values: Mapping[str, Any], accesses: Mapping[str, str]) -> dict[str, Any]:
    """One record as the employee may see it (an API row, an export row, a detail): hidden values are
    dropped and masked ones masked."""
    result = {}
    for column, value in values.items():
        access = access_for(module, column, accesses)
        if access == HIDDEN:
            continue
        result[column] = mask_value(value) if access == MASKED else value
    return result


def apply_to_rows(module: str, rows: Iterable[Mapping[str, Any]], accesses: Mapping[str, str]) -> list[dict]:
    """apply_to_values for many rows, each column's access decided once (rows usually share their keys)."""
    decided: dict[str, str] = {}
    result = []
    for row in rows:
        shown = {}
        for column, value in row.items():
            access = decided.get(column)
            if access is None:
                access = decided[column] = access_for(module, column, accesses)
            if access == HIDDEN:
                continue
            shown[column] = mask_value(value) if access == MASKED else value
        result.append(shown)
    return result


def check_writable(module: str, data: Mapping[str, Any], accesses: Mapping[str, str], creating: bool = False,
                   labels: Optional[Mapping[str, Any]] = None) -> None:
    """Refuse (403) a write that names a field the employee may not fill in: the whole write, not a part."""
    allowed = set(writable_columns(module, data.keys(), accesses, creating=creating))
    for column in data:
        if column not in allowed:
            field = field_of(module, column)
            model_labels = getattr(MODULE_MODELS.get(module), "field_labels", {})
            label = (labels or {}).get(field) or model_labels.get(field, field)
            raise CrmError(_l("You may not change the field %(field)s.", field=label), field=field, status=403)


def fillable(user, module: str, fields: Iterable[str], creating: bool = False,
             required: Iterable[str] = ()) -> list[str]:
    """The hand-written forms' rule (the phone site's and the dialing page's follow-up): the fields of `fields`
    the employee may fill in, as the generated forms offer them (writable_columns). A required field they may
    not fill in refuses the form (CrmError 403 naming it): such a form is not offered."""
    accesses = field_access(user, module)
    _check_required(module, required, accesses, creating)
    return writable_columns(module, fields, accesses, creating=creating)


def check_fill(user, module: str, data: Mapping[str, Any], creating: bool = False,
               required: Iterable[str] = ()) -> None:
    """The hand-written write paths' check before saving (the generated API's check_writable): a required field
    the employee may not fill in, or any value of a field they may not fill in, refuses the whole write (403)."""
    accesses = field_access(user, module)
    _check_required(module, required, accesses, creating)
    check_writable(module, data, accesses, creating=creating)


def _check_required(module: str, required: Iterable[str], accesses: Mapping[str, str], creating: bool) -> None:
    required = list(required)
    allowed = set(writable_columns(module, required, accesses, creating=creating))
    for column in required:
        if column not in allowed:
            field = field_of(module, column)
            label = getattr(MODULE_MODELS.get(module), "field_labels", {}).get(field, field)
            raise CrmError(_l("You may not do this: you may not fill in the required field %(field)s.", field=label),
                           field=field, status=403)


# ---------------------------------------------------------------- a record shown in another module

def module_of_model(model) -> Optional[str]:
    """The permission module whose field settings govern a model's records where another module shows
    them (a contact's 客户 column, a picker): the first module of that model (customer, not pool)."""
    return next((module for module, candidate in MODULE_MODELS.items() if candidate is model), None)


def record_label(record, access: str) -> str:
    """How a record is named where the employee may not see its label field: hidden -> its number only
    (#12, nothing of the field), masked -> masked; otherwise its usual label."""
    if record is None:
        return ""
    if access == HIDDEN:
        return f"#{record.id}"
    if access == MASKED:
        return mask_value(str(record))
    return str(record)


class FieldView:
    """One employee's view of one module's records, for the hand-written screens (the phone site, the PC
    dialing page, refusals naming a record): the same rule as the generated ones, asked once per request.

        view = FieldView(g.user, "customer")
        view.label(customer)                   # its name, or #12 when the name is hidden (masked: masked)
        view.value(customer, "mobile")         # "" when hidden, 138****8000 when masked, else the value
        view.shows("status", customer)         # may the employee see the field (of this record)?
        view.searchable("contact_name")        # may a search match on it (editable or read-only)?

    A customer in the pool (no owner) is seen as 公海 sees it: the stricter of both modules' settings."""

    def __init__(self, user, module: str):
        self.user, self.module = user, module
        self.accesses = field_access(user, module)
        model = MODULE_MODELS.get(module)
        self.label_field = getattr(model, "label_column", "name")
        self._pool: Optional["FieldView"] = None

    def _for(self, record) -> "FieldView":
        if self.module == "customer" and record is not None and getattr(record, "owner_id", 0) is None:
            return self.pool_view()
        return self

    def pool_view(self) -> Optional["FieldView"]:
        """The view of this module's records that 公海's rules govern (customers without an owner), or None."""
        if self.module != "customer":
            return None
        if self._pool is None:
            self._pool = FieldView(self.user, "pool")
        return self._pool

    def pooled(self, entity=None):
        """Which of this module's records pool_view() governs, as SQL (None where there are none); `entity`:
        an alias of the module's model (a join)."""
        if self.module != "customer":
            return None
        return (entity if entity is not None else MODULE_MODELS[self.module]).owner_id.is_(None)

    def labels_in_full(self) -> bool:
        """Does label() name every record as its own label does (the label field not hidden or masked, in
        the pool either)? Then a column naming these records needs no formatter."""
        views = [self] + [view for view in (self.pool_view(),) if view is not None]
        return all(access_for(view.module, self.label_field, view.accesses) in SEARCHABLE for view in views)

    def access(self, field: str, record=None) -> str:
        view = self._for(record)
        return access_for(view.module, field, view.accesses)

    def shows(self, field: str, record=None) -> bool:
        return self.access(field, record) != HIDDEN

    def searchable(self, field: str, record=None) -> bool:
        return self.access(field, record) in SEARCHABLE

    def value(self, record, field: str, hidden: Any = "") -> Any:
        """The field of `record` as the employee may see it: `hidden` in place of a hidden one, masked."""
        if record is None:
            return hidden
        return self.show(field, getattr(record, field, None), hidden, record)

    def show(self, field: str, value: Any, hidden: Any = "", record=None) -> Any:
        """A value of the field as the employee may see it (a message naming a value: hidden="***")."""
        return shown_value(value, self.access(field, record), hidden)

    def label(self, record) -> str:
        """The record named as on the generated screens (record_label): #12 for a hidden name."""
        return record_label(record, self.access(self.label_field, record))


def label_view(model, user, cache: Optional[dict] = None) -> Optional[FieldView]:
    """The employee's view of the module whose settings name a record of `model` where another module shows
    it (a contact's 客户, a picker): FieldView.label names it, a pool customer as 公海 sees it. None when
    `model` is no module's (named as is). `cache`: {module: FieldView}, one per request."""
    module = module_of_model(model)
    if module is None:
        return None
    if cache is None:
        return FieldView(user, module)
    if module not in cache:
        cache[module] = FieldView(user, module)
    return cache[module]


def related_label(record, user, cache: Optional[dict] = None) -> str:
    """A record named as the employee may see it where another module shows it (FieldView.label)."""
    view = label_view(type(record), user, cache) if record is not None else None
    return view.label(record) if view is not None else record_label(record, EDITABLE)


# ---------------------------------------------------------------- a call's customer number

# a call record's customer number is a customer's or a contact's 手机: the stricter of both settings governs it
# wherever a call shows it (the dialing pages, the call lists and details, the API, exports), and whether the
# employee's own phone may dial a customer (app/telephony refuses a device dial of a number they may not see)
CALL_NUMBER_FIELDS = (("customer", "mobile"), ("contact", "mobile"))


def call_number_access(user) -> str:
    """The employee's access to the customer numbers of calls (editable, read-only, masked or hidden)."""
    return least_permissive(access_for(module, name, field_access(user, module)) for module, name in CALL_NUMBER_FIELDS)


def sees_call_numbers(user) -> bool:
    """May the employee see a customer's full number (and so dial it on their own phone)?"""
    return call_number_access(user) in SEARCHABLE


def shown_value(value: Any, access: str, hidden: Any = "***") -> Any:
    """A value as an employee with `access` to its field may see it: masked (138****8000), `hidden` in place of
    a hidden one (a page shows ***, the API leaves the key out), or as it is (FieldView.show, a call's number)."""
    if access == HIDDEN:
        return hidden
    if access == MASKED:
        return mask_value(value)
    return value
