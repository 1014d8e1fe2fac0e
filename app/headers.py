"""Security headers on every response (flask-talisman) and the session cookie's flags.

- Content-Security-Policy: everything from the app's own origin only (no CDN). Scripts: 'self' plus a fresh
  nonce per request (`csp_nonce()` / FAB's `baselib.get_nonce()` in the templates); no 'unsafe-inline', no
  'unsafe-eval', no inline event handlers (onclick=...) and no javascript: links. Styles: 'self' and
  'unsafe-inline', because FAB's own templates carry style="" attributes that a nonce cannot cover (the login
  box, the hidden action/delete forms, `white-space: pre-line` of every detail page, the tabs of a detail page),
  and ECharts' tooltips and select2 write style attributes too. A nonce is deliberately not put in style-src:
  a browser that sees a nonce there ignores 'unsafe-inline'.
- frame-ancestors 'none' and X-Frame-Options DENY; X-Content-Type-Options nosniff; Referrer-Policy
  strict-origin-when-cross-origin; a Permissions-Policy turning off camera, microphone, geolocation.
- force_https stays off (the app is served on http://127.0.0.1); HSTS is sent only on an https request.
- The session cookie: HttpOnly and SameSite=Lax always; Secure as SESSION_COOKIE_SECURE says: "auto" (the
  default) marks it Secure when the request came over https (directly, or through a proxy counted in
  PROXY_COUNT that sends X-Forwarded-Proto) or PREFERRED_URL_SCHEME is https; "1" always, "0" never.
"""
from __future__ import annotations

import flask
from flask.sessions import SecureCookieSessionInterface
from flask_talisman import Talisman
from flask_talisman.talisman import NONCE_LENGTH, get_random_string
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",  # + 'nonce-…' of the request
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],  # data: for select2's / Bootstrap's icons and the dial QR code
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = {"camera": "()", "microphone": "()", "geolocation": "()", "payment": "()"}
REFERRER_POLICY = "strict-origin-when-cross-origin"


class CrmTalisman(Talisman):
    """Talisman whose nonce is made when a template first asks for it, not only in its before_request: a
    request another before_request answers first (the request guard's 400/413, the idle-session redirect) or
    an error page rendered before it still gets a nonce that the header then names."""

    def _get_nonce(self):
        return csp_nonce()


def csp_nonce() -> str:
    """The request's script nonce (made on first use); Flask-Admin's console asks it through this."""
    request = flask.request
    if not getattr(request, "csp_nonce", None):
        request.csp_nonce = get_random_string(NONCE_LENGTH)
    return request.csp_nonce


class CrmSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session whose Secure flag may follow the request (SESSION_COOKIE_SECURE=auto)."""

    def get_cookie_secure(self, app) -> bool:
        return cookie_secure(app)


def cookie_secure(app) -> bool:
    setting = str(app.config.get("SESSION_COOKIE_SECURE", "auto")).strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        return True
    return bool(flask.has_request_context() and flask.request.is_secure)


class TrustedProxies:
    """werkzeug's ProxyFix for PROXY_COUNT proxies (read per request, 0 = none): behind them an https request is
    seen as https (the cookie's Secure flag, HSTS) and the client's address is the forwarded one (the audit
    trail). Without a trusted proxy, X-Forwarded-* headers are a client's claim and are ignored."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        proxies = int(self.app.config.get("PROXY_COUNT") or 0)
        if proxies <= 0:
            return self.wsgi_app(environ, start_response)
        return ProxyFix(self.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                        x_port=proxies)(environ, start_response)


def init_app(app) -> Talisman:
    """Called first in create_app, so its before_request runs before any other."""
    app.wsgi_app = TrustedProxies(app, app.wsgi_app)
    app.session_interface = CrmSessionInterface()
    # the remember-me cookie of flask-login (unused by the login forms, set anyway) follows the same rules
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    talisman = CrmTalisman()
    talisman.init_app(
        app,
        force_https=False,
        strict_transport_security=True,  # sent only on https requests
        session_cookie_secure=False,  # Talisman would force it on every request; CrmSessionInterface decides
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        x_content_type_options=True,
    )
    return talisman
