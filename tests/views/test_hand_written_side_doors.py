"""Attack tests for the hand-written screens (not made by views/generator.py): a role that hides a customer's
公司名称, 联系人, 手机 and a custom field sees none of the values on the phone site (list, search, detail,
follow-up form, calls, a call), the PC dialing page, a customer's detail with its tabs and 操作记录, the
recycle bin, the pickers and the API; a search on the phone site by a hidden field's value finds nothing.
A record is named by its number (#12) where its name is hidden. Full access sees everything as before.

The generated screens' side doors: tests/views/test_field_side_doors.py; the call's number:
tests/views/test_call_number_side_doors.py."""
import re

import pytest

from tests import factories as f
from tests.conftest import bearer
from tests.rolefixtures import SECRET_MOBILE, SECRET_NAME, leaks, person_with_fields
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from tests.views.test_sessions import form_login, token_of

pytestmark = pytest.mark.usefixtures("restore_roles")

SECRET_CONTACT, SECRET_NOTE = "张三", "机密备注内容"
SECRETS = (SECRET_NAME, SECRET_CONTACT, SECRET_MOBILE, SECRET_NOTE)


def _custom_field(app) -> str:
    """A custom text field of customers (its cf_<key>)."""
    admin = bearer(app.test_client())
    created = app.test_client().post("/api/v1/custom_field/", json={"module": "customer", "label": "内部备注",
                                                                     "type": "text"}, headers=admin)
    assert created.status_code == 201, created.get_json()
    return "cf_" + created.get_json()["key"]


def _person(app, rules: dict, tag: str, field: str, **extra) -> dict:
    """person_with_fields, and the secret customer's custom value written (and audited) by the administrator."""
    ids = person_with_fields(app, rules, tag, calls=True, **extra)
    admin = bearer(app.test_client())
    saved = app.test_client().put(f"/api/v1/customer/{ids['secret']}", json={field: SECRET_NOTE}, headers=admin)
    assert saved.status_code == 200, saved.get_json()
    return {**ids, "field": field}


@pytest.fixture
def field(app):
    return _custom_field(app)


@pytest.fixture
def hidden(app, field):
    rules = {"customer": {"company_name": "hidden", "contact_name": "hidden", "mobile": "hidden", field: "hidden"}}
    return _person(app, rules, "手写隐", field, rights={"customer": ["delete"]})


@pytest.fixture
def browser(csrf, client):
    """A session cookie with CSRF checks on, as in production."""
    return client


def _pages(ids) -> list[str]:
    secret, call = ids["secret"], ids["call"]
    return ["/m/", "/m/customers", f"/m/customer/{secret}", f"/m/customer/{secret}/followup", "/m/calls",
            f"/m/call/{call}", f"/dial/{call}/", f"/customer/show/{secret}", "/customer/list/", "/contact/list/",
            f"/contact/show/{ids['contact']}", f"/followup/show/{ids['followup']}", "/call/list/",
            f"/call/show/{call}", "/contact/lookup/customer/?q=", "/followup/lookup/customer/?q="]


def _shown(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _found(client, text: str) -> set[int]:
    """The customers the phone site's search box finds for `text` (their ids)."""
    page = client.get("/m/customers", query_string={"q": text})
    assert page.status_code == 200
    return {int(pk) for pk in re.findall(r'href="/m/customer/(\d+)"', page.get_data(as_text=True))}


def test_no_hand_written_page_shows_a_hidden_field(browser, hidden):
    form_login(browser, hidden["login"], f.PASSWORD)
    for url in _pages(hidden):
        page = _shown(browser, url)
        for secret in SECRETS:
            assert not leaks(page, secret), (url, secret)
    # the customer is named by its number where a name is needed
    for url in (f"/m/customer/{hidden['secret']}", f"/m/customer/{hidden['secret']}/followup", "/m/customers",
                "/m/calls", f"/m/call/{hidden['call']}", f"/dial/{hidden['call']}/"):
        assert f"#{hidden['secret']}" in _shown(browser, url), url
    # what is not hidden is still there: the follow-up and the contact
    assert "跟进了一次" in _shown(browser, f"/m/customer/{hidden['secret']}")
    assert "联系人甲" in _shown(browser, f"/customer/show/{hidden['secret']}")


def test_the_phone_sites_search_does_not_match_a_hidden_field(browser, hidden):
    form_login(browser, hidden["login"], f.PASSWORD)
    assert _found(browser, "") == {hidden["secret"], hidden["plain"]}
    for probe in ("保密", SECRET_NAME, "张", SECRET_CONTACT, SECRET_MOBILE[:3], SECRET_MOBILE[:7], SECRET_MOBILE,
                  "普通", "李四", SECRET_NOTE):
        assert _found(browser, probe) == set(), probe
        page = _shown(browser, f"/m/customers?q={probe}")
        assert all(not leaks(page, secret) for secret in SECRETS if secret != probe), probe


def test_a_search_matches_the_fields_still_visible(app, browser, field):
    """Only the company name hidden: the contact and the number still find the customer, the name does not."""
    ids = _person(app, {"customer": {"company_name": "hidden"}}, "名隐", field)
    form_login(browser, ids["login"], f.PASSWORD)
    assert _found(browser, SECRET_CONTACT) == {ids["secret"]}
    assert _found(browser, SECRET_MOBILE[:7]) == {ids["secret"]}
    assert _found(browser, "保密") == set() and _found(browser, "普通") == set()
    page = _shown(browser, "/m/customers")
    assert SECRET_CONTACT in page and SECRET_MOBILE in page and not leaks(page, SECRET_NAME)


def test_a_masked_mobile_is_masked_and_not_searched_on_the_phone_site(app, browser, field):
    ids = _person(app, {"customer": {"mobile": "masked"}}, "号掩", field)
    form_login(browser, ids["login"], f.PASSWORD)
    for url in ("/m/customers", f"/m/customer/{ids['secret']}"):
        page = _shown(browser, url)
        assert "138****5678" in page and SECRET_MOBILE not in page and SECRET_NAME in page, url
    for probe in (SECRET_MOBILE[:3], SECRET_MOBILE[:7], SECRET_MOBILE):
        assert _found(browser, probe) == set(), probe
    assert _found(browser, "保密") == {ids["secret"]}


def test_the_recycle_bin_names_a_customer_with_a_hidden_name_by_its_number(app, browser, hidden):
    form_login(browser, hidden["login"], f.PASSWORD)
    token = token_of(browser, f"/customer/show/{hidden['secret']}")
    deleted = browser.post(f"/customer/delete/{hidden['secret']}", data={"csrf_token": token})
    assert deleted.status_code == 302
    page = _shown(browser, "/recycle_bin/list/")
    assert f"#{hidden['secret']}" in page and not any(leaks(page, secret) for secret in SECRETS)
    api = app.test_client()
    listed = api.get("/api/v1/recycle_bin/", headers=bearer(api, hidden["login"], f.PASSWORD))
    assert listed.status_code == 200 and not any(leaks(listed.get_data(as_text=True), s) for s in SECRETS)


def test_the_api_shows_no_hidden_field(app, hidden):
    api = app.test_client()
    token = bearer(api, hidden["login"], f.PASSWORD)
    for url in (f"/api/v1/customer/{hidden['secret']}", "/api/v1/customer/", f"/api/v1/call/{hidden['call']}",
                "/api/v1/call/", f"/api/v1/contact/{hidden['contact']}", f"/api/v1/followup/{hidden['followup']}"):
        response = api.get(url, headers=token)
        assert response.status_code == 200, url
        assert not any(leaks(response.get_data(as_text=True), secret) for secret in SECRETS), url


def test_full_access_still_sees_everything(app, browser, field):
    ids = _person(app, {}, "手写全", field)
    form_login(browser, ids["login"], f.PASSWORD)
    for url, wanted in ((f"/m/customer/{ids['secret']}", (SECRET_NAME, SECRET_CONTACT, SECRET_MOBILE)),
                        ("/m/customers", (SECRET_NAME, SECRET_CONTACT, SECRET_MOBILE)),
                        (f"/m/customer/{ids['secret']}/followup", (SECRET_NAME,)),
                        ("/m/calls", (SECRET_NAME,)), (f"/m/call/{ids['call']}", (SECRET_NAME,)),
                        (f"/dial/{ids['call']}/", (SECRET_NAME,)),
                        (f"/customer/show/{ids['secret']}", SECRETS)):
        page = _shown(browser, url)
        for secret in wanted:
            assert secret in page, (url, secret)
    for probe in ("保密", SECRET_CONTACT, SECRET_MOBILE[:7]):
        assert _found(browser, probe) == {ids["secret"]}, probe


@pytest.mark.parametrize("rules", [{"owner": "hidden", "release_reason": "hidden"}, {}])
def test_the_owner_history_and_the_activity_log_follow_the_owner_and_reason_rules(app, browser, field, rules):
    """A customer returned to the pool with a reason: its detail's 负责人变更记录 is the owners (gone when 负责人
    is hidden) and the reason is its 退回原因 (gone from the history and the 操作记录 tab when that is hidden)."""
    from app import customers
    from app.extensions import db
    from models.org import Employee

    ids = _person(app, {"customer": rules}, f"负责人{len(rules)}", field)
    with app.app_context():
        customers.release([ids["secret"]], "机密的退回原因", db.session.get(Employee, ids["id"]))
        db.session.commit()
        db.session.remove()
    form_login(browser, ids["login"], f.PASSWORD)
    page = _shown(browser, f"/pool/show/{ids['secret']}")
    assert ("机密的退回原因" in page) is (not rules)
    assert ('id="crm-owner-history"' in page) is (not rules)
    assert 'id="crm-audit-tab"' in page


def test_the_recycle_bins_refusals_do_not_name_a_hidden_value(app, field):
    """Restoring names what stands in the way: the record a child was deleted with, a number taken meanwhile —
    as the restorer may see them (#12, ***)."""
    rules = {"customer": {"company_name": "hidden", "mobile": "hidden"}}
    ids = _person(app, rules, "回收隐", field, rights={"customer": ["delete"], "contact": ["delete"]})
    api = app.test_client()
    token = bearer(api, ids["login"], f.PASSWORD)
    assert api.delete(f"/api/v1/customer/{ids['secret']}", headers=token).status_code == 200
    child = api.post(f"/api/v1/contact/{ids['contact']}/restore", headers=token)
    assert child.status_code == 409 and f"#{ids['secret']}" in child.get_json()["message"]
    assert not leaks(child.get_data(as_text=True), SECRET_NAME)
    admin = app.test_client()
    taken = admin.post("/api/v1/customer/", json={"company_name": "后来者", "mobile": SECRET_MOBILE},
                       headers=bearer(admin))
    assert taken.status_code == 201, taken.get_json()
    refused = api.post(f"/api/v1/customer/{ids['secret']}/restore", headers=token)
    assert refused.status_code == 409 and "***" in refused.get_json()["message"]
    assert SECRET_MOBILE not in refused.get_data(as_text=True)


def test_a_pool_customer_on_the_phone_site_follows_the_pools_rules(app, browser, field):
    """公海's own field settings (stricter than 客户's here) hold for a pool customer opened on the phone site."""
    from app import customers
    from app.extensions import db
    from models.org import Employee

    ids = _person(app, {"pool": {"company_name": "hidden", "mobile": "hidden"}}, "公海规则", field)
    with app.app_context():
        customers.release([ids["secret"]], "退回", db.session.get(Employee, ids["id"]))
        db.session.commit()
        db.session.remove()
    form_login(browser, ids["login"], f.PASSWORD)
    page = _shown(browser, f"/m/customer/{ids['secret']}")
    assert f"#{ids['secret']}" in page and not leaks(page, SECRET_NAME) and SECRET_MOBILE not in page
    assert SECRET_CONTACT in page
    owned = _shown(browser, f"/m/customer/{ids['plain']}")  # still owned: 客户's rules, nothing hidden
    assert "普通乙公司" in owned and "13987654321" in owned


def test_a_customer_deleted_from_the_pool_is_named_in_the_bin_as_the_pool_names_it(app, browser, field):
    from app import customers
    from app.extensions import db
    from models.org import Employee

    ids = _person(app, {"pool": {"company_name": "hidden"}}, "公海回收", field,
                  rights={"pool": ["delete"], "customer": ["delete"]})
    with app.app_context():
        customers.release([ids["secret"]], "退回", db.session.get(Employee, ids["id"]))
        db.session.commit()
        db.session.remove()
    api = app.test_client()
    assert api.delete(f"/api/v1/pool/{ids['secret']}", headers=bearer(api, ids["login"], f.PASSWORD)).status_code == 200
    form_login(browser, ids["login"], f.PASSWORD)
    page = _shown(browser, "/recycle_bin/list/")
    assert f"#{ids['secret']}" in page and not leaks(page, SECRET_NAME)
