"""Field-level permission (hidden / read-only / masked / editable, set per role in 角色权限) applied to
the generated screens and API: lists, details, forms, exports and JSON alike (app/fieldperms.py holds
the rule; this file only applies it)."""
from __future__ import annotations

from typing import Optional

from flask import g, has_request_context

from app import fieldperms


def current_access(spec) -> Optional[dict]:
    """{field: access} for the logged-in employee on the spec's module, once per request; None where
    the module has no field rules (a screen whose model is not the module's, e.g. customer groups)."""
    if not has_request_context():
        return None
    if getattr(spec, "field_access_from", None):
        return borrowed_access(spec)
    if fieldperms.MODULE_MODELS.get(spec.module) is not spec.model:
        return None
    user = g.get("user")
    if user is None or user.is_anonymous:
        return None
    cache = g.setdefault("_crm_field_access", {})
    if spec.module not in cache:
        cache[spec.module] = fieldperms.field_access(user, spec.module)
    return cache[spec.module]


def borrowed_access(spec) -> Optional[dict]:
    """{column: access} for columns that show another module's field (a call's customer number follows the
    customer's 手机 permission): hidden there, hidden here; masked there, masked here."""
    user = g.get("user")
    if user is None or user.is_anonymous:
        return None
    cache = g.setdefault("_crm_field_access", {})
    result = {}
    for column, (module, field_name) in spec.field_access_from.items():
        if module not in cache:
            cache[module] = fieldperms.field_access(user, module)
        result[column] = fieldperms.access_for(module, field_name, cache[module])
    return result


def masked_columns(spec, columns, access) -> set:
    return {c for c in columns if fieldperms.access_for(spec.module, c, access) == fieldperms.MASKED}


def _restricted(static_name, pick):
    """A view attribute FAB sets once at start-up, narrowed per request by the employee's field access."""

    def getter(self):
        columns = getattr(self, static_name, None)
        access = current_access(self.spec) if columns is not None else None
        return columns if access is None else pick(self.spec.module, columns, access)

    def setter(self, value):
        setattr(self, static_name, value)

    return property(getter, setter)


class FieldPermissionScreenHooks:
    list_columns = _restricted("_static_list_columns", fieldperms.readable_columns)
    show_columns = _restricted("_static_show_columns", fieldperms.readable_columns)
    add_columns = _restricted("_static_add_columns", lambda m, c, a: fieldperms.writable_columns(m, c, a, True))
    edit_columns = _restricted("_static_edit_columns", fieldperms.writable_columns)

    @property
    def formatters_columns(self):
        formatters = self._static_formatters_columns
        access = current_access(self.spec)
        if not access:
            return formatters
        custom = [d.name for d in self._custom_defs()] if self.spec.custom_fields else []
        masked = masked_columns(self.spec, list(self._static_list_columns) + list(self._static_show_columns) + custom,
                                access)
        if not masked:
            return formatters
        return {**formatters, **{column: fieldperms.mask_value for column in masked}}

    @formatters_columns.setter
    def formatters_columns(self, value):
        self._static_formatters_columns = value

    def limit_form(self, form, creating: bool) -> None:
        """Take out of the submitted form what the employee may not fill in, so it is neither shown
        nor validated nor saved (custom fields included)."""
        static = list(self._static_add_columns if creating else self._static_edit_columns)
        allowed = set(self.add_columns if creating else self.edit_columns)
        access = current_access(self.spec)
        if access:
            custom = [n for n in getattr(form, "custom_field_names", []) if n in form]
            allowed |= set(fieldperms.writable_columns(self.spec.module, custom, access, creating=creating))
            static += custom
        for name in [n for n in static if n not in allowed and n in form]:
            del form[name]

    def _custom_defs(self):
        """The module's custom fields the employee may see (hidden ones are left out of lists, details
        and filters)."""
        defs = super()._custom_defs()
        access = current_access(self.spec)
        if not access:
            return defs
        return [d for d in defs if fieldperms.access_for(self.spec.module, d.name, access) != fieldperms.HIDDEN]


class FieldPermissionApiHooks:
    def pre_get(self, data):
        super().pre_get(data)
        access = current_access(self.spec)
        if access and isinstance(data.get("result"), dict):
            data["result"] = fieldperms.apply_to_values(self.spec.module, data["result"], access)

    def pre_get_list(self, data):
        super().pre_get_list(data)
        access = current_access(self.spec)
        if access and isinstance(data.get("result"), list):
            data["result"] = fieldperms.apply_to_rows(self.spec.module, data["result"], access)

    def _custom_defs(self):
        defs = super()._custom_defs()
        access = current_access(self.spec)
        if not access:
            return defs
        return [d for d in defs if fieldperms.access_for(self.spec.module, d.name, access) != fieldperms.HIDDEN]

    def check_field_permissions(self, data, creating: bool) -> None:
        """Refuse (403, the field named) a write to a field the employee may not fill in."""
        access = current_access(self.spec)
        if access:
            fieldperms.check_writable(self.spec.module, data, access, creating=creating, labels=self.spec.labels)
