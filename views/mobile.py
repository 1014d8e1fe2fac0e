"""手机端 (/m/): the staff's phone-sized site. Server-rendered, no build step, usable at 360 px. Same
permissions and data scope as the PC: every query goes through app.scopes and FAB's permission pairs,
and dialing through app.telephony (the device provider gives a tel: link the phone opens)."""
from __future__ import annotations

import functools

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import false, or_, select

from app import groups, scopes, telephony
from app.errors import CrmError
from app.extensions import db
from app.fieldperms import FieldView
from app.phone import ascii_digits
from models.call import DISPOSITIONS
from models.crm import FOLLOWUP_WAYS, Customer, FollowUp, customer_group_member
from views.calls import (OutcomeForm, dial_from_form, followup_form, refuse_followup, save_call_followup,
                         save_followup)

PAGE = 30


def signed_in(f):
    @functools.wraps(f)
    def wraps(self, *args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("MobileView.login", next=request.full_path))
        return f(self, *args, **kwargs)
    return wraps


def _may(permission, module) -> bool:
    return (permission, module) in current_app.appbuilder.sm.permission_pairs(g.user)


def _fields(module: str = "customer") -> FieldView:
    """What the employee may see of a module's records (app/fieldperms.py), asked once per request: the
    templates name a customer by `label()` (#12 when its 公司名称 is hidden) and show every other field
    through `value()` (nothing when hidden, 138****8000 when masked), as the PC's generated screens do."""
    views = g.setdefault("_crm_mobile_fields", {})
    if module not in views:
        views[module] = FieldView(g.user, module)
    return views[module]


def _search(text: str):
    """The search box: a name or a phone number, matched only on the fields the employee may search
    (a hidden or masked field matches nothing, as on the PC); None when no field may be searched."""
    view, parts = _fields(), []
    digits = "".join(ch for ch in ascii_digits(text) if ch.isdigit())
    if digits and len(digits) >= 3 and view.searchable("mobile"):
        parts.append(Customer.mobile.startswith(digits))
    for name in ("company_name", "contact_name"):
        if view.searchable(name):
            parts.append(getattr(Customer, name).contains(text))
    return or_(*parts) if parts else None


def _customer(pk) -> Customer:
    if not _may("can_view", "customer"):
        abort(403)
    found = db.session.scalar(select(Customer).where(Customer.id == pk, scopes.reachable(Customer, g.user)))
    if found is None:
        abort(404)
    return found


class MobileView(BaseView):
    route_base = "/m"
    default_view = "home"
    template_folder = None

    def _render(self, template, **kwargs):
        return self.render_template(f"mobile/{template}", **kwargs)

    @expose("/login", methods=["GET", "POST"])
    def login(self):
        """登录: the login mobile and the password (the same account as the PC)."""
        if current_user.is_authenticated:
            return redirect(url_for(".home"))
        error = None
        if request.method == "POST":
            username = ascii_digits(request.form.get("username", "")).replace(" ", "")[:64]
            user = current_app.appbuilder.sm.auth_user_db(username, request.form.get("password", "")[:128])
            if user is None:
                refusal = g.get("_crm_login_refusal")  # a locked account: the reason and the time left
                error = str(refusal) if refusal is not None else _(
                    "Wrong mobile number or password, or the account is not active.")
            else:
                login_user(user, remember=False)
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/m/") else url_for(".home"))
        return self._render("login.html", error=error)

    @expose("/logout")
    def logout(self):
        logout_user()
        return redirect(url_for(".login"))

    @expose("/")
    @signed_in
    def home(self):
        """客户管理 by the employee's own groups (the groups made on the PC)."""
        if not _may("can_view", "customer"):
            return self._render("home.html", groups=[], counts={}, may_view=False)
        my_groups = groups.visible_groups(g.user)
        counts = {}
        if my_groups:
            from sqlalchemy import func

            rows = db.session.execute(
                select(customer_group_member.c.group_id, func.count())
                .join(Customer, Customer.id == customer_group_member.c.customer_id)
                .where(customer_group_member.c.group_id.in_([x.id for x in my_groups]),
                       scopes.reachable(Customer, g.user))
                .group_by(customer_group_member.c.group_id))
            counts = dict(rows.all())
        return self._render("home.html", groups=my_groups, counts=counts, may_view=True)

    @expose("/customers")
    @signed_in
    def customers(self):
        if not _may("can_view", "customer"):
            abort(403)
        query = select(Customer).where(Customer.owner_id.isnot(None), scopes.visible_to(Customer, g.user))
        group = None
        if request.args.get("group"):
            try:
                group = groups.get_group(int(request.args["group"]), g.user)
            except (CrmError, ValueError):
                abort(404)
            query = query.where(Customer.id.in_(select(customer_group_member.c.customer_id)
                                                .where(customer_group_member.c.group_id == group.id)))
        text = request.args.get("q", "").strip()[:64]
        if text:
            predicate = _search(text)
            query = query.where(predicate if predicate is not None else false())
        rows = list(db.session.scalars(query.order_by(Customer.id.desc()).limit(PAGE)))
        return self._render("customers.html", rows=rows, group=group, q=text, fields=_fields())

    @expose("/customer/<int:pk>")
    @signed_in
    def customer(self, pk):
        """客户详情: 拨打电话, recent calls and follow-ups, 添加跟进."""
        item = _customer(pk)
        calls = telephony.recent_calls(g.user, limit=10, customer_id=item.id) if _may("can_view", "line") else []
        followups = list(db.session.scalars(
            select(FollowUp).where(FollowUp.customer_id == item.id, scopes.visible_to(FollowUp, g.user))
            .order_by(FollowUp.followed_at.desc()).limit(10))) if _may("can_view", "followup") else []
        return self._render("customer.html", item=item, fields=_fields(), followup_fields=_fields("followup"),
                            calls=calls, followups=followups,
                            may_follow=_may("can_add", "followup") and followup_form(g.user) is not None)

    @expose("/dial", methods=["POST"])
    @signed_in
    def dial(self):
        """拨打电话 (a customer, by record id) and the 拨号盘 (a typed number): one service, as on the PC."""
        return dial_from_form(url_for(".home"))

    @expose("/dialpad")
    @signed_in
    def dialpad(self):
        return self._render("dialpad.html", number=request.args.get("number", "")[:20])

    @expose("/calls")
    @signed_in
    def calls(self):
        """最近通话."""
        rows = telephony.recent_calls(g.user, limit=PAGE) if _may("can_view", "line") else []
        return self._render("calls.html", rows=rows, shown=lambda r: telephony.shown_number(g.user, r), fields=_fields())

    @expose("/call/<int:pk>", methods=["GET", "POST"])
    @signed_in
    def call(self, pk):
        """The call: 拨打 (tel:), then 通话结果, then the follow-up it offers."""
        try:
            record = telephony.own_call(g.user, pk)
        except CrmError:
            abort(404)
        outcome, followup = OutcomeForm(prefix="outcome"), followup_form(g.user, prefix="followup")
        if request.method == "POST":
            if "followup-content" in request.form and followup is None:
                return refuse_followup(g.user)
            try:
                if "outcome-disposition" in request.form and outcome.validate():
                    telephony.record_outcome(g.user, record.id, outcome.disposition.data,
                                             outcome.talk_seconds.data or 0, outcome.note.data)
                    return redirect(url_for(".call", pk=record.id))
                if "followup-content" in request.form and followup.validate():
                    save_call_followup(g.user, record, followup.data)
                    flash(_("The follow-up is saved."), "success")
                    return redirect(url_for(".customer", pk=record.customer_id))
            except CrmError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
        elif record.state == "ended" and followup is not None:
            from views.calls import followup_text

            followup.content.data = followup_text(record)
        followed = db.session.query(FollowUp.id).filter(FollowUp.call_record_id == record.id).first() is not None
        return self._render("call.html", record=record, number=telephony.shown_number(g.user, record), fields=_fields(),
                            tel=telephony.dial_link(g.user, record), outcome=outcome, followup=followup,
                            followed=followed, dispositions=DISPOSITIONS)

    @expose("/customer/<int:pk>/followup", methods=["GET", "POST"])
    @signed_in
    def add_followup(self, pk):
        """添加跟进 from the phone (same rules as the PC's follow-up form)."""
        item = _customer(pk)
        if not _may("can_add", "followup"):
            abort(403)
        form = followup_form(g.user)
        if form is None:  # a required field (内容) is not theirs to fill in
            return refuse_followup(g.user)
        if request.method == "POST" and form.validate():
            try:
                save_followup(g.user, item, form.data)
            except CrmError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
            else:
                flash(_("The follow-up is saved."), "success")
                return redirect(url_for(".customer", pk=item.id))
        return self._render("followup.html", item=item, form=form, ways=FOLLOWUP_WAYS, fields=_fields())
