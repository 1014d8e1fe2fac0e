"""Form pieces the generated screens share."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import html_params


def _label(record) -> str:
    """The chosen record named as the employee may see it (a hidden company name -> #12; a pool customer
    as 公海 sees it)."""
    from flask import g

    from app import fieldperms

    return fieldperms.related_label(record, g.get("user"))


class RecordSelectWidget:
    """A select2 box that asks the server for matches as the user types (a list of 1M customers
    cannot be put in a page)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        attrs = html_params(name=field.name, class_="crm-record-select form-control", **{
            "data-url": field.lookup_url(), "data-placeholder": str(_l("Type to search")), "style": "width:100%",
            **{k: v for k, v in kwargs.items() if k not in ("class_", "class")}})
        option = ""
        if field.data is not None:
            option = Markup('<option value="{}" selected>{}</option>').format(field.data.id, _label(field.data))
        return Markup("<select {}><option value=\"\"></option>{}</select>").format(Markup(attrs), option)


class RecordSelectField(Field):
    """A many-to-one field whose choices come from `lookup_url`; the value is checked by the service
    (existence and data scope), here only that it is an id."""

    widget = RecordSelectWidget()

    def __init__(self, label=None, validators=None, model=None, lookup_url=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.model = model
        self.lookup_url = lookup_url
        self._raw = None

    def process_formdata(self, valuelist):
        self._raw = valuelist[0] if valuelist else None
        if not self._raw:
            self.data = None
            return
        from app.extensions import db
        from app.inputs import is_id

        self.data = db.session.get(self.model, int(self._raw)) if is_id(self._raw) else None

    def pre_validate(self, form):
        if self._raw and self.data is None:
            raise ValidationError(_l("This record does not exist."))


class EmployeeSelectField(RecordSelectField):
    """An employee picker of a form (负责人, 转移给, 分配给, 直属上级, 交接给, 坐席的员工): search-as-you-type through
    the current view's /lookup/<column>/?active=1, which offers the active employees within the viewer's data
    scope (views/lookups.py). A page never holds the whole staff list, and a posted id the picker would not
    have offered is refused as a list would refuse a choice it did not have."""

    def __init__(self, label=None, validators=None, column=None, active_only=True, view=None, **kwargs):
        from models.org import Employee

        super().__init__(label, validators, model=Employee, lookup_url=self._url, **kwargs)
        self.column = column
        self.active_only = active_only
        self.view = view  # the endpoint whose lookup answers (default: the view rendering the form)
        self.exclude: list[int] = []  # ids never offered (the leavers of 办理离职); the view must honour ?exclude=

    def _url(self) -> str:
        from flask import url_for

        args = {"active": 1} if self.active_only else {}
        if self.exclude:
            args["exclude"] = ",".join(str(i) for i in self.exclude)
        return url_for(f"{self.view or ''}.lookup", column=self.column or self.short_name, **args)

    def process_formdata(self, valuelist):
        if valuelist:  # absent from the post: the default stays (a new record's owner is who adds it)
            super().process_formdata(valuelist)

    def pre_validate(self, form):
        from flask import g

        from views import lookups

        super().pre_validate(form)
        if self.data is not None and (self.data.id in self.exclude or
                                      not lookups.employee_allowed(self.data.id, g.user, self.active_only)):
            raise ValidationError(_l("Choose an employee the list offers: this one is not active or is outside "
                                     "your data permission."))
