"""FAB security, speaking the CRM's language: employees are the users, only active accounts get in,
and disabling, resigning or new credentials end open sessions and API tokens at once."""
from __future__ import annotations

import datetime as dt
import time

from flask import current_app, g, has_request_context, request, session
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView, UserDBModelView
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import select

from app import authcache, sessions
from app.extensions import db
from app.sessions import SESSION_AUTH_AT
from models.org import Employee

TOKEN_AUTH_AT = "crm_auth_at"


class ProfileView(UserDBModelView):
    """FAB's user view, kept only for "my profile" and "change my password";
    employees are managed in 设置 → 组织架构."""

    route_base = "/profile"
    show_template = "crm/profile.html"  # with the 修改密码 button
    base_permissions = ["can_userinfo", "can_resetmypassword"]
    show_columns = ["first_name", "username", "mobile", "department", "manager", "roles"]
    show_fieldsets = user_show_fieldsets = [(_l("Employee"), {"fields": show_columns})]
    label_columns = {
        "first_name": _l("Name"),
        "username": _l("Login"),
        "mobile": _l("Mobile"),
        "department": _l("Department"),
        "manager": _l("Direct manager"),
        "roles": _l("Roles"),
    }
    # no "None" for an empty value, and the roles as names, not a Python list ("[销售主管]")
    formatters_columns = {
        **{name: (lambda value: "" if value is None else value) for name in ("mobile", "department", "manager")},
        "roles": lambda roles: "、".join(role.name for role in roles or ()),
    }


def _issued_before_epoch(user: Employee, issued_at: float | None) -> bool:
    """auth_epoch is naive UTC; a session or token without a stamp predates the epoch."""
    if user.auth_epoch is None:
        return False
    if issued_at is None:
        return True
    return issued_at < user.auth_epoch.replace(tzinfo=dt.timezone.utc).timestamp()


def _change_password_view():
    from views.profile import ChangePasswordView

    return ChangePasswordView


class AuthDBView(FabAuthDBView):
    """FAB's login form, under FAB's class name (FAB builds the login URL from it: AuthDBView.login). A
    refused login flashes one message: a locked account sees only the lockout reason with the minutes left,
    not FAB's generic "invalid login" next to it."""

    @property
    def invalid_login_message(self):
        refusal = g.get("_crm_login_refusal") if has_request_context() else None
        return refusal if refusal is not None else FabAuthDBView.invalid_login_message


class CrmSecurityApi(SecurityApi):
    """FAB's token login (/api/v1/security/login), answering in the user's language like every other API."""

    def response_400(self, message=None):
        from flask_babel import gettext

        return self.response(400, message=gettext("Please send a JSON body with username, password and "
                                                  "provider \"db\"."))

    def response_401(self):
        from flask_babel import gettext

        refusal = g.get("_crm_login_refusal")
        if refusal is not None:
            return self.response(401, message=str(refusal))
        return self.response(401, message=gettext("Wrong login or password, or the account is not active."))


class CrmSecurityManager(SecurityManager):
    user_model = Employee
    security_api = CrmSecurityApi
    authdbview = AuthDBView
    userdbmodelview = ProfileView

    def create_login_manager(self, app):
        lm = super().create_login_manager(app)
        # no sender: FAB passes its current_app proxy here, and flask-login sends with the real app object,
        # so a receiver tied to the proxy never ran and no session was ever stamped
        user_logged_in.connect(_session_started)
        user_logged_out.connect(_session_ended)
        return lm

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(lambda identity: {TOKEN_AUTH_AT: time.time()})
        # refresh tokens too: /security/refresh would otherwise mint a fresh token from a voided one
        jwt_manager.token_in_blocklist_loader(self._token_revoked)
        return jwt_manager

    def _token_revoked(self, _jwt_header, jwt_data) -> bool:
        try:
            user = self.get_user_by_id(int(jwt_data["sub"]))
        except (KeyError, TypeError, ValueError):
            return True
        g._crm_jwt_user = user  # held for load_user_jwt (the session's identity map does not keep it alive)
        return user is None or not user.is_active or _issued_before_epoch(user, jwt_data.get(TOKEN_AUTH_AT))

    def auth_user_db(self, username, password):
        """Employees log in with their mobile as they type it: '138 0013 8000', '+86…', fullwidth
        digits all find the account stored as 13800138000 (the login form, the API and /m/ alike).
        A locked account is refused even with the right password; an address that failed too often is
        answered 429 (app/lockout.py)."""
        from app import audit, lockout

        login = _login_name(username)
        name = str(login or "")[:64]
        address = request.remote_addr if has_request_context() else None  # a waiting one got 429 before
        state = lockout.account_lock(name)
        if state is None:
            user = super().auth_user_db(login, password)
            if user is None:
                state = lockout.record_failure(name, address)
                audit.record("login_failed", actor=self.find_user(username=login) if login else None,
                             actor_name=name, detail={"login": name, **({"locked": True} if state else {})})
                self.session.commit()
                if state is not None:
                    _refuse_locked(state)
                return None
            state = lockout.record_success(name)
            if state is None:
                audit.record("login", actor=user)
                self.session.commit()
                return user
        else:
            lockout.record_failure(None, address)  # the address still counts it
        # the right password is refused too while the lockout lasts
        audit.record("login_failed", actor=self.find_user(username=login), actor_name=name,
                     detail={"login": name, "locked": True})
        self.session.commit()
        _refuse_locked(state)
        return None

    def load_user(self, pk):
        user = super().load_user(pk)
        if user is None or _issued_before_epoch(user, session.get(SESSION_AUTH_AT)):
            return None
        if not sessions.is_live(user.id):  # logged out, or ended by a password change or an administrator
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        held = g.pop("_crm_jwt_user", None)
        user = held if held is not None and held.id == int(jwt_data["sub"]) else self.get_user_by_id(
            int(jwt_data["sub"]))
        if user is None or not user.is_active:
            return None
        if _issued_before_epoch(user, jwt_data.get(TOKEN_AUTH_AT)):
            return None
        g.user = user
        return user

    def has_access(self, permission_name, view_name):
        if permission_name == "menu_access":  # the navbar asks this per item; answer from the screens
            if "_crm_menu_access" not in g:
                g._crm_menu_access = self.get_user_menu_access()
            return view_name in g._crm_menu_access
        user = g.get("user")
        if view_name and view_name.startswith(STATS_RESOURCE_PREFIX):
            # 数据中心: a page opens with its 数据分析 right (RoleProfile.analysis), not a permission row
            return _stats_access(user, view_name)
        if view_name == RECYCLE_BIN_RESOURCE:
            # 回收站: opens with the delete right of any module whose records go to the bin
            return user is not None and not user.is_anonymous and user.is_active and any(
                ("can_delete", module) in self.permission_pairs(user) for module in RECYCLE_BIN_MODULES)
        if user is not None and not user.is_anonymous and user.is_active:
            return (permission_name, view_name) in self.permission_pairs(user)
        return super().has_access(permission_name, view_name)

    def permission_pairs(self, user) -> frozenset:
        """All (permission, resource) pairs of the user's roles: a page asks FAB dozens of times (menus,
        buttons, actions). Kept per set of roles until a role changes (app/authcache.py), so a role
        change still counts from the next request."""
        cached = g.get("_crm_permission_pairs")
        if cached is not None and cached[0] == user.id:
            return cached[1]
        roles = authcache.role_key(user)
        pairs = authcache.cached("pairs", roles, lambda: self._read_permission_pairs(roles))
        g._crm_permission_pairs = (user.id, pairs)
        return pairs

    def _read_permission_pairs(self, role_ids) -> frozenset:
        pv, role_link = self.permissionview_model, assoc_permissionview_role
        rows = self.session.execute(
            select(self.permission_model.name, self.viewmenu_model.name)
            .join(pv, pv.permission_id == self.permission_model.id)
            .join(self.viewmenu_model, self.viewmenu_model.id == pv.view_menu_id)
            .join(role_link, role_link.c.permission_view_id == pv.id)
            .where(role_link.c.role_id.in_(sorted(role_ids)))
        ).all()
        return frozenset((permission, resource) for permission, resource in rows)

    def is_item_public(self, permission_name, view_name):
        """FAB asks this before every API call (twice for a token): the public role's pairs, kept until a
        role changes (app/authcache.py)."""
        pairs = authcache.cached("public", None, lambda: frozenset(
            (pv.permission.name, pv.view_menu.name) for pv in self.get_public_permissions()))
        return (permission_name, view_name) in pairs

    def get_user_menu_access(self, menu_names=None):
        """A menu item shows when the user may open its screen: derived from the screen's own view
        permission, so a role has no separate menu rows to keep in step with its matrix."""
        allowed = set()
        if g.get("user") is None or g.user.is_anonymous:
            return allowed  # nothing is public

        def walk(items) -> bool:
            for item in items:
                if item.childs:
                    if walk(item.childs):
                        allowed.add(item.name)
                elif item.baseview is not None:
                    view = item.baseview
                    action = (view.method_permission_name or {}).get("list", "list")
                    if self.has_access(f"can_{action}", view.class_permission_name):
                        allowed.add(item.name)
            return any(item.name in allowed for item in items)

        walk(self.appbuilder.menu.menu)
        return allowed

    def register_views(self):
        """FAB's login, logout, profile and password views; no raw user/role/permission screens:
        employees and roles have screens of their own that keep the CRM's rules."""
        self.appbuilder.add_api(self.security_api)
        self.auth_view = self.authdbview()
        self.appbuilder.add_view_no_menu(self.auth_view)
        self.appbuilder.add_view_no_menu(_change_password_view()())
        self.user_view = self.appbuilder.add_view_no_menu(self.userdbmodelview)
        if self.is_auth_limited:
            self.limiter.limit(self.auth_rate_limit, methods=["POST"])(self.auth_view.blueprint)


def _refuse_locked(state) -> None:
    """The reason, with the time left, for the form (AuthDBView flashes it in place of FAB's generic
    message), the API (its 401 body) and /m/."""
    from app.lockout import lockout_message

    g._crm_login_refusal = lockout_message(state.seconds_left())


def _session_started(sender, user, **extra):
    sessions.start(user)


def _session_ended(sender, user=None, **extra):
    from app import audit

    if user is not None and getattr(user, "id", None):
        audit.record("logout", actor=user)
    sessions.end_current()
    db.session.commit()


STATS_RESOURCE_PREFIX = "stats:"
RECYCLE_BIN_RESOURCE = "recycle:bin"
RECYCLE_BIN_MODULES = ("customer", "pool", "contact", "opportunity", "contract", "product", "followup", "invoice")


def _stats_access(user, view_name: str) -> bool:
    """"stats:<page>" opens with one of the page's rights; "stats:any" with any 数据分析 right (read once
    per request)."""
    from app import stats

    if user is None or getattr(user, "is_anonymous", True) or not user.is_active:
        return False
    cached = g.get("_crm_analysis")
    if cached is None or cached[0] != user.id:
        cached = g._crm_analysis = (user.id, stats.rights_of(user))
    rights = cached[1]
    key = view_name[len(STATS_RESOURCE_PREFIX):]
    if key == "any":
        return bool(rights)
    page = stats.PAGES.get(key)
    return page is not None and stats.may_open(page, rights)


def _login_name(username):
    from app.errors import CrmError
    from app.phone import normalise_mobile

    try:
        return normalise_mobile(username)
    except CrmError:
        return username  # not a mobile: "admin" and other plain logins


def current_app_sm() -> CrmSecurityManager:
    return current_app.appbuilder.sm
