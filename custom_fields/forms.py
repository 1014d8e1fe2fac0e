"""Custom fields in the generated add/edit forms.

FAB builds a view's form classes once, at start-up; custom fields change at run time. So the form class a
request gets is the view's own class extended, for that request, with one field per current definition
(`extend()`). The fields only render and carry raw input: the check is custom_fields.values.check, the
same one the API and the importer use, run from the form's `validate()` so every refusal shows under its
field at once.
"""
from __future__ import annotations

from typing import Any, Mapping

from custom_fields import values
from custom_fields.choice_types import choices_for
from custom_fields.definitions import Definition, definitions


class _RequiredMark:
    """Puts FAB's red asterisk on a required field; the check itself is values.check()."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


def field_for(definition: Definition, current=None):
    """An unbound WTForms field for the definition. The browser's own `required` check is switched off:
    refusals come from the server, in the user's language, under the field."""
    kind = definition.field_type
    field = kind.form_field(definition, definition.label, definition.help_text or "", current)
    validators = [_RequiredMark()] if definition.required else []
    default = kind.form_data(definition, definition.default_value())
    field.kwargs.update(validators=validators, default=default or None, render_kw={"required": False})
    return field


def extend(form_class, module: str):
    """`form_class` plus the module's current custom fields, in their order (a new class per call)."""
    defs = definitions(module)
    if not defs:
        return form_class
    attrs: dict[str, Any] = {d.name: field_for(d) for d in defs}

    def validate(self, extra_validators=None):
        valid = form_class.validate(self, extra_validators)
        record_id = getattr(self, "_id", None)
        current = values.load(module, [record_id], defs).get(record_id, {}) if record_id is not None else {}
        keep_retired_choices(self, defs, current)
        _cleaned, errors = values.check(module, raw_data(self, defs), record_id=record_id,
                                        creating=record_id is None, defs=defs)
        for name, message in errors.items():
            if name in self:
                self[name].errors = list(self[name].errors or []) + [str(message)]
        return valid and not errors

    attrs["validate"] = validate
    attrs["custom_field_names"] = [d.name for d in defs]
    return type(form_class.__name__, (form_class,), attrs)


def custom_names(form) -> list[str]:
    """The custom fields the form holds now: one the employee may not fill in (field permissions) has
    been taken out of it, and must not be rendered."""
    return [name for name in getattr(form, "custom_field_names", []) if name in form]


def raw_data(form, defs) -> dict[str, Any]:
    return {d.name: form[d.name].data for d in defs if d.name in form}


def fill(form, module: str, record_id: int) -> None:
    """Put a record's current values into the edit form (GET)."""
    defs = [d for d in definitions(module) if d.name in form]
    current = values.load(module, [record_id], defs).get(record_id, {})
    keep_retired_choices(form, defs, current)
    for definition in defs:
        form[definition.name].data = definition.field_type.form_data(definition, current.get(definition.id))


def keep_retired_choices(form, defs, current: Mapping[int, Any]) -> None:
    """A retired option the record holds stays offered (and selected) so saving the form keeps it."""
    for definition in defs:
        if definition.field_type.has_options and definition.name in form:
            field = form[definition.name]
            blank = [("", field.choices[0][1])] if field.choices and field.choices[0][0] == "" else []
            field.choices = blank + choices_for(definition, current.get(definition.id))
