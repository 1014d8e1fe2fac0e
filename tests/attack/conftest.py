"""The attack sweep runs against one organisation per test module (tests/attack/org.py), with CSRF checks on
as in production: every screen POST of the sweep carries its session's CSRF token, so a refusal is the data
scope's or the permission's, never a missing token's. The attacks change nothing (that is what they check), so
the data is emptied once, after the module, instead of after every test."""
from __future__ import annotations

import pytest

from app.extensions import db
from tests.attack.org import SCOPES, build
from tests.conftest import ADMIN_PASSWORD, bearer, token_of, wipe_data
from tests.rolefixtures import reset_roles

VIEWERS = [f"viewer_{scope}" for scope in SCOPES]


@pytest.fixture(autouse=True)
def _clean_data():
    """Overrides the suite's per-test emptying: `org` empties the tables once, after its module."""
    yield


class Browser:
    """A logged-in session cookie and its CSRF token, as a person's browser has them."""

    def __init__(self, app, login, password):
        self.client = app.test_client()
        data = {"username": login, "password": password, "csrf_token": token_of(self.client, "/login/")}
        response = self.client.post("/login/", data=data)
        assert response.status_code == 302 and "/login" not in response.headers["Location"], login
        self.token = token_of(self.client, "/m/dialpad")  # every employee may open the dial pad

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, token=True, **kwargs):
        data = dict(data or {})
        if token:
            data["csrf_token"] = self.token
        return self.client.post(url, data=data, **kwargs)


@pytest.fixture(scope="module")
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture(scope="module")
def org(csrf_app):
    with csrf_app.app_context():
        built = build()
        db.session.remove()
    yield built
    wipe_data(csrf_app)
    with csrf_app.app_context():
        reset_roles()
        db.session.remove()


@pytest.fixture(scope="module")
def browsers(csrf_app, org):
    from tests import factories as f

    found = {key: Browser(csrf_app, org.logins[key], f.PASSWORD) for key in VIEWERS + ["outsider"]}
    found["admin"] = Browser(csrf_app, "admin", ADMIN_PASSWORD)
    return found


@pytest.fixture(scope="module")
def tokens(csrf_app, org):
    from tests import factories as f

    client = csrf_app.test_client()
    return {key: bearer(client, org.logins[key], f.PASSWORD) for key in VIEWERS + ["outsider"]}


@pytest.fixture
def api(csrf_app):
    """A client without a session cookie (a cookie would win over the bearer token)."""
    return csrf_app.test_client()
