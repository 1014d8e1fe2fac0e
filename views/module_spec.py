"""What a module declaration is and when it is wrong: ModuleSpec (one per CRM module, in views/modules.py),
ActionSpec (a bulk action on ticked rows) and validate_spec, the check that fails at boot when a declaration
names a column, permission or custom-fields module that does not exist. views/generator.py turns a checked
ModuleSpec into a screen, views/generator_api.py into a REST API.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from sqlalchemy import inspect

import custom_fields
from app.permissions import MODULES
from models.mixins import OwnedMixin
from models.org import Employee


@dataclass
class ActionSpec:
    """A bulk action on ticked rows. `run(ids, form_data, user)` does the work; `form` (a FlaskForm
    class) asks for input first; `permission` is the module action that allows it."""

    name: str
    label: Any
    permission: str
    run: Callable[[list[int], dict, Employee], Any]
    form: Optional[type] = None
    confirmation: Any = None
    icon: str = "fa-bolt"
    done: Any = None  # flash message; may use %(n)d
    api: bool = True
    screen: bool = True
    module: Optional[str] = None  # check `permission` on another module (e.g. the pool's claim from /customer)


@dataclass
class ModuleSpec:
    key: str  # URL /<key>/, API /api/v1/<key>/
    model: type
    label: Any
    permission: Optional[str] = None  # the permission module (MODULES key); default `key`
    list_columns: Sequence[str] = ()
    show_columns: Sequence[str] = ()
    form_columns: Sequence[str] = ()
    edit_columns: Optional[Sequence[str]] = None
    filter_columns: Sequence[str] = ()
    keyword_columns: Sequence[str] = ()
    phone_columns: Sequence[str] = ()
    order_columns: Sequence[str] = ()
    base_order: tuple = ("id", "desc")
    choices: dict = field(default_factory=dict)  # relationship -> Choice kind
    related: Sequence[str] = ()  # module keys shown as tabs on the detail page
    actions: Sequence[ActionSpec] = ()
    base_filter: Optional[Callable[[], Any]] = None  # an extra SQL predicate (e.g. the pool)
    after_save: Optional[Callable] = None  # (obj, created, user) inside the saving transaction
    request_filter: Optional[Callable[[Any], Any]] = None  # request args -> an extra predicate (e.g. ?group=)
    service: Any = None  # an object with create(data, user), update(obj, data, user), delete(obj, user)
    permission_overrides: dict = field(default_factory=dict)  # FAB method -> module action
    pool_records: bool = True  # show records without an owner (the pool's) to those who may see the pool
    can_add: bool = True
    icon: str = "fa-table"
    menu: Optional[str] = "CRM"
    label_columns: dict = field(default_factory=dict)
    custom_fields: Optional[str] = None  # the custom-fields module (custom_fields.MODULES) of these records
    export_fields: Sequence[str] = ()  # the export's columns when the list shows computed ones
    read_only: bool = False  # records written by a service, not by a form (call records): no add/edit/delete
    # columns whose field permission is another module's field: {"customer_number": ("customer", "mobile")}, or
    # a function of the employee giving the access (a call's number: fieldperms.call_number_access)
    field_access_from: dict = field(default_factory=dict)
    view_mixin: Optional[type] = None  # extra screens of the module (e.g. 更换绑定 of a seat)
    api_mixin: Optional[type] = None  # extra API routes of the module
    importer: Any = None  # app.importing.columns.ImportSpec: the module can be imported (the 导入 right)

    @property
    def module(self) -> str:
        return self.permission or self.key

    @property
    def owned(self) -> bool:
        return issubclass(self.model, OwnedMixin)

    @property
    def labels(self) -> dict:
        return {**getattr(self.model, "field_labels", {}), **self.label_columns}

    @property
    def export_columns(self) -> Sequence[str]:
        return self.export_fields or self.list_columns


def validate_spec(spec: ModuleSpec) -> None:
    """Fail at boot, not in front of a user, when a declaration names something that does not exist."""
    mapper = inspect(spec.model)
    names = set(mapper.attrs.keys()) | {n for n in dir(spec.model) if not n.startswith("_")}
    problems = []
    for group in ("list_columns", "show_columns", "form_columns", "filter_columns", "keyword_columns",
                  "phone_columns", "order_columns"):
        for column in getattr(spec, group) or ():
            if column.split(".")[0] not in names:
                problems.append(f"{group}: {column}")
    for column in spec.keyword_columns + tuple(spec.phone_columns) + tuple(spec.order_columns):
        if column not in mapper.columns:
            problems.append(f"not a column: {column}")
    if spec.module not in MODULES:
        problems.append(f"permission module {spec.module!r} is not in app.permissions.MODULES")
    if spec.custom_fields is not None:
        if custom_fields.RECORD_MODELS.get(spec.custom_fields) is not spec.model:
            problems.append(f"custom_fields {spec.custom_fields!r} is not the custom-fields module of "
                            f"{spec.model.__name__}")
        if spec.service is not None:
            problems.append("custom_fields needs saving through app.records, not a service")
    for action_spec in spec.actions:
        module = action_spec.module or spec.module
        if action_spec.permission not in MODULES.get(module, ("", ()))[1]:
            problems.append(f"action {action_spec.name}: {action_spec.permission!r} is not an action of {module}")
    if spec.importer is not None:
        if "import" not in MODULES[spec.module][1]:
            problems.append(f"importer: 'import' is not an action of {spec.module}")
        if spec.importer.key not in mapper.columns or not (mapper.columns[spec.importer.key].unique or any(
                idx.unique for idx in spec.model.__table__.indexes if [c.name for c in idx.columns] == [
                    spec.importer.key]) or spec.importer.key in getattr(spec.model, "mobile_fields", ())):
            problems.append(f"importer key {spec.importer.key!r} is not a unique column")
        for column in spec.importer.columns:
            if column.kind != "customer" and column.name not in mapper.attrs:
                problems.append(f"importer column {column.name!r}")
    if problems:
        raise RuntimeError(f"ModuleSpec {spec.key!r} ({spec.model.__name__}) is wrong: " + "; ".join(problems))
