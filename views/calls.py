"""呼叫中心 dialing: the dialing page (tel: link and QR code, the outcome form, the follow-up it offers) and
the call API (dial, outcome, the signed webhook). The lists (通话记录, 短信发件箱) are ModuleSpecs in
views/modules.py; the seats' own screens are views/seats.py."""
from __future__ import annotations

import functools
from typing import Optional as Optional_

import segno
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import safe
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, DateTimePickerWidget, Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import verify_jwt_in_request
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from marshmallow import Schema, fields
from wtforms import DateTimeField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app import fieldperms, records, telephony
from app.errors import CrmError
from app.extensions import db
from app.telephony import events as call_events
from app.telephony.providers import provider as get_provider
from models.call import DISPOSITIONS, CallRecord
from models.crm import FOLLOWUP_WAYS, FollowUp
from models.mixins import utcnow
from views.base import attach_error

MAX_WEBHOOK_BODY = 256 * 1024


# ---------------------------------------------------------------- dialing (screens)

class OutcomeForm(FlaskForm):
    disposition = SelectField(_l("How did the call go?"), choices=[("", _l("Please choose"))] + DISPOSITIONS,
                              validators=[DataRequired()], widget=Select2Widget())
    talk_seconds = IntegerField(_l("Talk time (seconds)"), default=0, validators=[Optional(), NumberRange(0, 86400)],
                                widget=BS3TextFieldWidget())
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class CallFollowUpForm(FlaskForm):
    way = SelectField(_l("Way"), choices=FOLLOWUP_WAYS, default="call", widget=Select2Widget())
    content = TextAreaField(_l("Content"), validators=[DataRequired(), Length(max=5000)])
    next_followup_at = DateTimeField(_l("Next follow-up"), format="%Y-%m-%d %H:%M:%S", validators=[Optional()],
                                     widget=DateTimePickerWidget())


def back_to(fallback: str) -> str:
    """The page the request came from, when it is one of ours (never another site's address)."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else fallback


def qr_svg(link: str) -> Markup:
    """A tel: QR code drawn here as inline SVG (no image service, no CDN)."""
    return Markup(segno.make(link, error="m").svg_inline(scale=5, border=2, dark="#222"))


def followup_text(record: CallRecord) -> str:
    text = _("Phone call: %(d)s", d=record.disposition_label())
    if record.talk_seconds:
        text += _(", talked %(n)d seconds", n=record.talk_seconds)
    if record.note:
        text += "\n" + record.note
    return text


def dial_from_form(fallback: str):
    """拨号 posted by a form (PC or mobile site): the call page of the current blueprint (".call"), or back
    where the employee came from with the refusal shown; a record out of reach is a 404."""
    try:
        result = telephony.dial(g.user, customer_id=request.form.get("customer"),
                                contact_id=request.form.get("contact"), number=request.form.get("number"))
    except CrmError as error:
        db.session.rollback()
        if error.status == 404:
            abort(404)
        flash(str(error.message), "danger")
        return redirect(back_to(fallback))
    return redirect(url_for(".call", pk=result.record.id))


# what a follow-up cannot be saved without (its customer comes from the page, its content is typed)
FOLLOWUP_REQUIRED = ("customer", "content")
FOLLOWUP_INPUTS = ("way", "content", "next_followup_at")


def followup_form(user, **kwargs) -> Optional_[CallFollowUpForm]:
    """The follow-up form with only the fields the employee may fill in on a new follow-up (the generated add
    form's rule, app.fieldperms.fillable: a hidden 方式 is left out, so a posted value is ignored); None when a
    required field is not theirs to fill in, or their roles may not add follow-ups (跟进记录 → 新增), as on
    the PC's 跟进记录 screen (the form is not offered)."""
    if not may_add_followup(user):
        return None
    try:
        allowed = set(fieldperms.fillable(user, "followup", FOLLOWUP_INPUTS, creating=True,
                                          required=FOLLOWUP_REQUIRED))
    except CrmError:
        return None
    form = CallFollowUpForm(**kwargs)
    for name in FOLLOWUP_INPUTS:
        if name not in allowed:
            del form[name]
    return form


def may_add_followup(user) -> bool:
    return ("can_add", "followup") in current_app.appbuilder.sm.permission_pairs(user)


def refuse_followup(user):
    """The Chinese 403 page for posting a follow-up the employee may not add (no 新增 right for 跟进记录, or a
    required field not theirs)."""
    from app.error_pages import answer

    if not may_add_followup(user):
        return answer(403, _l("You may not add follow-ups."))
    try:
        fieldperms.fillable(user, "followup", (), creating=True, required=FOLLOWUP_REQUIRED)
    except CrmError as error:
        return answer(403, error.message)
    return answer(403)


def save_followup(user, customer, data: dict, record: Optional_[CallRecord] = None) -> FollowUp:
    """Save a follow-up from a hand-written form (the phone site, a call): only the values given; a field the
    employee may not fill in refuses the whole follow-up (403, app.fieldperms.check_fill), nothing is written."""
    from views.modules import _followup_saved

    if not may_add_followup(user):
        raise CrmError(_l("You may not add follow-ups."), status=403)
    values = {"customer": customer, **{k: data[k] for k in FOLLOWUP_INPUTS if k in data}}
    if not values.get("way", "call"):
        del values["way"]  # none chosen: the default (电话)
    fieldperms.check_fill(user, "followup", values, creating=True, required=FOLLOWUP_REQUIRED)
    if record is not None:
        values.update(followed_at=utcnow(), call_record_id=record.id)
    return records.create_record(FollowUp, values, user, after=lambda obj: _followup_saved(obj, True, user))


def save_call_followup(user, record: CallRecord, data: dict) -> FollowUp:
    """The follow-up a finished call offers, linked to the call (FollowUp.call_record_id)."""
    if record.customer_id is None:
        raise CrmError(_l("This call has no customer to follow up."))
    if record.state != "ended":
        raise CrmError(_l("Record how the call went first."))
    return save_followup(user, record.customer, data, record)


class DialView(BaseView):
    """拨号 from the PC: every logged-in employee may ask; app.telephony decides, in the issue's order."""

    route_base = "/dial"
    default_view = "start"

    def _signed_in(self):
        return current_user.is_authenticated

    @expose("/", methods=["POST"])
    def start(self):
        if not self._signed_in():
            return redirect(url_for("AuthDBView.login"))
        return dial_from_form(url_for("CustomerView.list"))

    @expose("/<int:pk>/", methods=["GET", "POST"])
    def call(self, pk):
        """The call in progress: tel: link and QR code, then the outcome, then the follow-up it offers."""
        if not self._signed_in():
            return redirect(url_for("AuthDBView.login"))
        try:
            record = telephony.own_call(g.user, pk)
        except CrmError:
            abort(404)
        outcome, followup = OutcomeForm(prefix="outcome"), followup_form(g.user, prefix="followup")
        if request.method == "POST":
            if "followup-content" in request.form and followup is None:
                return refuse_followup(g.user)
            try:
                if "hangup" in request.form:
                    telephony.hang_up(g.user, record.id)
                    flash(_("The call is being hung up."), "success")
                    return redirect(url_for(".call", pk=record.id))
                if "outcome-disposition" in request.form and outcome.validate():
                    record = telephony.record_outcome(g.user, record.id, outcome.disposition.data,
                                                      outcome.talk_seconds.data or 0, outcome.note.data)
                    flash(_("The outcome of the call is recorded."), "success")
                    return redirect(url_for(".call", pk=record.id))
                if "followup-content" in request.form and followup.validate():
                    save_call_followup(g.user, record, followup.data)
                    flash(_("The follow-up is saved."), "success")
                    return redirect(url_for("CustomerView.show", pk=record.customer_id))
            except CrmError as error:
                db.session.rollback()
                attach_error(outcome if "outcome-disposition" in request.form else followup, error)
        elif record.state == "ended" and followup is not None:
            followup.content.data = followup_text(record)
        link = telephony.dial_link(g.user, record)
        return self.render_template("calls/dial.html", record=record, outcome=outcome, followup=followup,
                                    number=telephony.shown_number(g.user, record), tel=link,
                                    fields=fieldperms.FieldView(g.user, "customer"),
                                    qr=qr_svg(link) if link else None,
                                    followed=db.session.query(FollowUp.id).filter(
                                        FollowUp.call_record_id == record.id).first() is not None)


# ---------------------------------------------------------------- the call API: dial, outcome, webhook

def signed_in_api(f):
    """Logged in (session cookie or JWT) is enough: app.telephony checks the rest in the issue's order."""
    @functools.wraps(f)
    def wraps(self, *args, **kwargs):
        if not current_user.is_authenticated:
            try:
                verify_jwt_in_request()
            except Exception:  # noqa: BLE001 - any token problem is "not logged in"
                return self.response_401()
        user = current_app.appbuilder.sm.current_user
        if user is None or not user.is_active:
            return self.response_401()
        g.user = user
        return f(self, *args, **kwargs)
    return wraps


class DialSchema(Schema):
    customer = fields.Integer(allow_none=True)
    contact = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    seat = fields.Integer(allow_none=True)


class OutcomeSchema(Schema):
    disposition = fields.String(required=True)
    talk_seconds = fields.Integer(load_default=0)
    note = fields.String(allow_none=True, load_default=None)


class CallApiMixin:
    routes = ("dial", "outcome", "hangup", "events")
    route_permissions = {}

    def _call_json(self, record):
        """The call as GET /api/v1/call/<pk> shows it; its customer number as the employee may see it (left out
        when hidden), a number they typed themselves in full."""
        result = self.show_model_schema.dump(record)
        if "customer_number" in result:
            shown = telephony.shown_number(g.user, record, hidden=None)
            if shown is None:
                del result["customer_number"]
            else:
                result["customer_number"] = shown
        return result

    @api_expose("/dial", methods=["POST"])
    @signed_in_api
    @safe
    def dial(self):
        """Dial a customer, a contact (by record id) or a typed number.
        ---
        post:
          description: >-
            Checks, in order: the caller has a seat, it is theirs, bound, in service and not expired; the customer
            or contact is in their data scope (else 404); their role may dial; the number can be dialed.
          requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {
            customer: {type: integer}, contact: {type: integer}, number: {type: string}, seat: {type: integer}}}}}}
          responses:
            201: {description: 'the call record, and for the device provider {"tel": "tel:..."}'}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {description: 'no usable seat, the role may not dial, or the role may not see the full customer
              number while the seat dials on the employee phone (device provider): such a role calls through a
              callback line'}
            404: {$ref: '#/components/responses/404'}
        """
        def run():
            body = self.load_body(DialSchema())
            result = telephony.dial(g.user, customer_id=body.get("customer"), contact_id=body.get("contact"),
                                    number=body.get("number"), seat_id=body.get("seat"))
            return self.response(201, id=result.record.id, result=self._call_json(result.record),
                                 **result.client_action)
        return self._answer(run)

    @api_expose("/<int:pk>/outcome", methods=["POST"])
    @signed_in_api
    @safe
    def outcome(self, pk):
        """Record how a device call went (the CRM never guesses "answered").
        ---
        post:
          parameters: [{in: path, name: pk, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {
            disposition: {type: string, enum: [answered, busy, no_answer, agent_no_answer, invalid_number, cancelled,
            failed]}, talk_seconds: {type: integer}, note: {type: string}}, required: [disposition]}}}}
          responses:
            200: {description: the call record}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            409: {description: the outcome is already recorded}
        """
        def run():
            body = self.load_body(OutcomeSchema())
            record = telephony.record_outcome(g.user, pk, body["disposition"], body.get("talk_seconds"),
                                              body.get("note"))
            return self.response(200, result=self._call_json(record))
        return self._answer(run)

    @api_expose("/<int:pk>/hangup", methods=["POST"])
    @signed_in_api
    @safe
    def hangup(self, pk):
        """挂断: end a live call (with the SIP callback provider both legs end).
        ---
        post:
          parameters: [{in: path, name: pk, required: true, schema: {type: integer}}]
          responses:
            202: {description: the provider was asked to end the call; its events end the record}
            403: {description: not the caller's own call}
            404: {$ref: '#/components/responses/404'}
            409: {description: the call has ended already}
        """
        def run():
            record = telephony.hang_up(g.user, pk)
            return self.response(202, result=self._call_json(record))
        return self._answer(run)

    @api_expose("/events/<provider>", methods=["POST"])
    @safe
    def events(self, provider):
        """The providers' signed webhook.
        ---
        post:
          description: >-
            Headers X-Timestamp (unix seconds, within 5 minutes) and X-Signature (hex HMAC-SHA256 of
            timestamp + "." + body with the webhook secret). Without a valid signature: 401, whatever the
            provider, and nothing changes. Body: one event or a list, {"call_id", "event", "event_id", "at", ...}.
          parameters: [{in: path, name: provider, required: true, schema: {type: string}}]
          responses:
            200: {description: the call records the events were applied to}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            404: {description: unknown provider}
        """
        body = request.get_data(cache=False)[:MAX_WEBHOOK_BODY + 1]
        try:
            call_events.verify_signature(request.headers, body)
        except CrmError as error:
            return self.response(401, message=str(error.message))
        if len(body) > MAX_WEBHOOK_BODY:
            return self.response(413, message=_("The request is too large."))

        def run():
            events = get_provider(provider).parse_event(body)
            applied = [call_events.apply_event(provider, event).id for event in events]
            return self.response(200, ids=applied, count=len(applied))
        return self._answer(run)
