"""Attack tests: an employee whose role masks or hides the customers' 手机 never gets a customer's full number
from the call center. Dialing a customer or a contact on the own phone (a seat of the `device` provider: its
tel: link and QR code carry the number) is refused with a Chinese 403 and writes nothing — on the PC screen
(a form with its CSRF token), on the phone site and through the API; every place that shows a call's customer
number (the dialing pages, the call list, detail, export, the API, the phone site's lists) shows it masked or
not at all. A number the employee typed is theirs to dial; a full-access employee keeps the tel: link.
The callback line (双呼) for such an employee: tests/telephony/test_sip_dial_api.py (the real SIP gateway)."""
import pytest
from sqlalchemy import func, select

from app import roles as role_service
from app import telephony
from app.extensions import db
from models.call import CallRecord
from models.crm import Contact
from tests import callfixtures as cf
from tests import factories as f
from tests.conftest import bearer, token_of
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from tests.views.test_sessions import form_login

pytestmark = pytest.mark.usefixtures("restore_roles")

NUMBER, MASKED_NUMBER = "13912345678", "139****5678"
CONTACT_NUMBER = "13787654321"
REFUSAL = "您的角色看不到客户的完整号码"
RULES = {"masked": {"customer": {"mobile": "masked"}},
         "hidden": {"customer": {"mobile": "hidden"}},
         "contact_masked": {"contact": {"mobile": "masked"}}}


def _person(app, rules=None, tag="全") -> dict:
    """A salesperson with a device seat, a customer with a contact, and one call to each made while their role
    still showed the numbers; then `rules` restrict the role (None: full access)."""
    with app.app_context():
        sales = app.appbuilder.sm.find_role("销售")
        role = role_service.copy_role(sales.id, f"号码{tag}")
        modules = role_service.read_matrix(sales.id)["modules"]
        modules["line"] = sorted(set(modules.get("line", [])) | {"view", "export"})
        role_service.write_matrix(role.id, {"modules": modules})
        person = f.employee(f"坐席员工{tag}", role=role.name)
        seat = cf.seat(person)
        customer = f.customer(person, "号码甲公司", NUMBER)
        contact = Contact(customer_id=customer.id, name="联系人乙", mobile=CONTACT_NUMBER, owner_id=person.id,
                          department_id=person.department_id)
        db.session.add(contact)
        db.session.commit()
        calls = [telephony.dial(person, customer_id=customer.id).record.id,
                 telephony.dial(person, contact_id=contact.id).record.id]
        if rules:
            role_service.write_matrix(role.id, {"fields": rules})
        ids = dict(id=person.id, login=person.username, seat=seat.id, customer=customer.id, contact=contact.id,
                   calls=calls)
        db.session.remove()
    return ids


def _calls(app, person) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(CallRecord).where(CallRecord.owner_id == person))
        db.session.remove()
    return count


def _leaks(text: str) -> bool:
    """Either number in full (a call's number follows the stricter of the customer's and the contact's 手机)."""
    return NUMBER in text or CONTACT_NUMBER in text


def _customer_page_leaks(text: str, who: str) -> bool:
    """A customer's page (its contacts tab too) shows each 手机 as that module's rule says: only the restricted
    one is secret there."""
    return CONTACT_NUMBER in text if who == "contact_masked" else NUMBER in text


@pytest.fixture
def browser(csrf, client):
    """A session cookie with CSRF checks on, as in production."""
    return client


@pytest.mark.parametrize("who", list(RULES))
def test_dialing_a_customer_on_the_own_phone_is_refused_on_the_screen(app, browser, who):
    person = _person(app, RULES[who], who)
    form_login(browser, person["login"], f.PASSWORD)
    token = token_of(browser, f"/customer/show/{person['customer']}")
    for target in ({"customer": person["customer"]}, {"contact": person["contact"]}):
        refused = browser.post("/dial/", data={**target, "csrf_token": token},
                               headers={"Referer": f"http://localhost/customer/show/{person['customer']}"})
        assert refused.status_code == 302 and "/dial/" not in refused.headers["Location"], target
        page = browser.get(refused.headers["Location"]).get_data(as_text=True)
        assert REFUSAL in page and "回拨线路" in page, target
        assert not _customer_page_leaks(page, who) and "tel:" not in page
    assert _calls(app, person["id"]) == 2  # the two made before the role hid the numbers, nothing since


@pytest.mark.parametrize("who", list(RULES))
def test_dialing_a_customer_on_the_own_phone_is_refused_on_the_phone_site(app, browser, who):
    person = _person(app, RULES[who], who)
    form_login(browser, person["login"], f.PASSWORD)
    token = token_of(browser, "/m/dialpad")
    refused = browser.post("/m/dial", data={"customer": person["customer"], "csrf_token": token},
                           follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and REFUSAL in page and not _leaks(page)
    assert _calls(app, person["id"]) == 2
    customer_page = browser.get(f"/m/customer/{person['customer']}").get_data(as_text=True)
    assert not _customer_page_leaks(customer_page, who) and "tel:" not in customer_page
    for url in ("/m/calls", *[f"/m/call/{pk}" for pk in person["calls"]]):
        page = browser.get(url).get_data(as_text=True)
        assert not _leaks(page) and "tel:" not in page, url


@pytest.mark.parametrize("who", list(RULES))
def test_dialing_a_customer_on_the_own_phone_is_refused_by_the_api(app, client, who):
    person = _person(app, RULES[who], who)
    token = bearer(client, person["login"], f.PASSWORD)
    for target in ({"customer": person["customer"]}, {"contact": person["contact"]}):
        refused = client.post("/api/v1/call/dial", json=target, headers=token)
        assert refused.status_code == 403, refused.get_json()
        assert REFUSAL in refused.get_json()["message"] and not _leaks(refused.get_data(as_text=True))
    assert _calls(app, person["id"]) == 2


@pytest.mark.parametrize("who", list(RULES))
def test_no_call_surface_shows_the_full_number(app, client, who):
    """The calls are live (a device call's page would offer its tel: link), then ended through the API."""
    person = _person(app, RULES[who], who)
    form_login(client, person["login"], f.PASSWORD)
    pages = ["/call/list/", "/call/export/?format=csv", "/call/export/?format=xlsx",
             f"/customer/show/{person['customer']}", "/m/calls", f"/m/customer/{person['customer']}"]
    pages += [url for pk in person["calls"] for url in (f"/call/show/{pk}", f"/dial/{pk}/", f"/m/call/{pk}")]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True) if "xlsx" not in url else _xlsx_text(response)
        leaks = _customer_page_leaks(body, who) if "customer/" in url else _leaks(body)
        assert not leaks and "tel:" not in body, url
    if who == "masked":
        assert MASKED_NUMBER in client.get("/call/list/").get_data(as_text=True)
    api = app.test_client()  # no session cookie: the bearer token speaks
    token = bearer(api, person["login"], f.PASSWORD)
    listed = api.get("/api/v1/call/", headers=token)
    assert listed.status_code == 200 and listed.get_json()["count"] == 2
    assert not _leaks(listed.get_data(as_text=True))
    for pk in person["calls"]:
        shown = api.get(f"/api/v1/call/{pk}", headers=token)
        assert shown.status_code == 200 and not _leaks(shown.get_data(as_text=True))
        if who == "hidden":
            assert "customer_number" not in shown.get_json()["result"]
        else:
            assert shown.get_json()["result"]["customer_number"].count("*") == 4
        outcome = api.post(f"/api/v1/call/{pk}/outcome", json={"disposition": "busy"}, headers=token)
        assert outcome.status_code == 200 and not _leaks(outcome.get_data(as_text=True))
    exported = api.get("/api/v1/call/export?format=csv", headers=token)
    assert exported.status_code == 200 and not _leaks(exported.get_data(as_text=True))


def _xlsx_text(response) -> str:
    from tests.attack.sweep import export_text

    return export_text(response)


def test_a_typed_number_is_theirs_to_dial_and_links_to_no_customer(app, browser):
    """The number the employee typed: the tel: link is theirs; it is not matched to the customer who has it
    (the match would tell them whose number they typed)."""
    person = _person(app, RULES["masked"], "打")
    form_login(browser, person["login"], f.PASSWORD)
    token = token_of(browser, "/m/dialpad")
    dialed = browser.post("/m/dial", data={"number": NUMBER, "csrf_token": token})
    assert dialed.status_code == 302 and "/m/call/" in dialed.headers["Location"]
    page = browser.get(dialed.headers["Location"]).get_data(as_text=True)
    assert f"tel:{NUMBER}" in page and "号码甲公司" not in page
    pk = int(dialed.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        assert db.session.get(CallRecord, pk).customer_id is None
        db.session.remove()
    assert f"tel:{NUMBER}" in browser.get(f"/dial/{pk}/").get_data(as_text=True)
    api = app.test_client()
    answer = api.post("/api/v1/call/dial", json={"number": NUMBER},
                      headers=bearer(api, person["login"], f.PASSWORD))
    assert answer.status_code == 201 and answer.get_json()["tel"] == f"tel:{NUMBER}"
    assert answer.get_json()["result"]["customer_number"] == NUMBER


def test_a_full_access_employee_still_dials_on_the_own_phone(app, browser):
    person = _person(app)
    form_login(browser, person["login"], f.PASSWORD)
    token = token_of(browser, f"/customer/show/{person['customer']}")
    dialed = browser.post("/dial/", data={"customer": person["customer"], "csrf_token": token})
    assert dialed.status_code == 302 and "/dial/" in dialed.headers["Location"]
    page = browser.get(dialed.headers["Location"]).get_data(as_text=True)
    assert f"tel:{NUMBER}" in page and "<svg" in page and NUMBER in page
    mobile = browser.post("/m/dial", data={"contact": person["contact"], "csrf_token": token})
    assert f"tel:{CONTACT_NUMBER}" in browser.get(mobile.headers["Location"]).get_data(as_text=True)
    api = app.test_client()
    answer = api.post("/api/v1/call/dial", json={"customer": person["customer"]},
                      headers=bearer(api, person["login"], f.PASSWORD))
    assert answer.status_code == 201 and answer.get_json()["tel"] == f"tel:{NUMBER}"
    assert answer.get_json()["result"]["customer_number"] == NUMBER
    assert _calls(app, person["id"]) == 5
