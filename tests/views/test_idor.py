"""IDOR: an employee who guesses a colleague's record id gets 404 from every screen and API, and the
record stays as it was. Both hold a role with every right, so only the data scope (本人) stands between
them: a 403 would prove nothing."""
import prison
import pytest
from sqlalchemy import inspect

from app import organisation as org
from app.extensions import db
from models.crm import Contact, Customer, FollowUp
from models.sales import Contract, Invoice, Opportunity
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles, two_with_every_right  # noqa: F401  (restore_roles: a fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")

MODELS = {"customer": Customer, "contact": Contact, "opportunity": Opportunity, "contract": Contract,
          "followup": FollowUp, "invoice": Invoice}
# a harmless change per module, for edit forms and PUT
CHANGES = {"customer": {"company_name": "抢走"}, "contact": {"name": "抢走"}, "opportunity": {"name": "抢走"},
           "contract": {"name": "抢走"}, "followup": {"content": "抢走"}, "invoice": {"number": "抢走"}}


@pytest.fixture
def people(app):
    with app.app_context():
        _dept, alice, bob = two_with_every_right()
        ids = {"alice": alice.id, "bob": bob.id, "alice_login": alice.username,
               "mine": f.family(alice, "甲", "13911110001"), "theirs": f.family(bob, "乙", "13911110002")}
        db.session.remove()
    return ids


def _snapshot(app, module, pk):
    with app.app_context():
        model = MODELS[module]
        row = db.session.get(model, pk)
        return {c.key: getattr(row, c.key) for c in inspect(model).columns}


@pytest.mark.parametrize("module", list(MODELS))
def test_a_guessed_id_is_404_on_the_screens_and_the_record_is_unchanged(client, people, module):
    web_login(client, people["alice_login"], f.PASSWORD)
    theirs, mine = people["theirs"][module], people["mine"][module]
    before = _snapshot(client.application, module, theirs)
    assert client.get(f"/{module}/show/{mine}").status_code == 200  # the rights are there
    for method, url in (("get", f"/{module}/show/{theirs}"), ("get", f"/{module}/edit/{theirs}"),
                        ("post", f"/{module}/edit/{theirs}"), ("post", f"/{module}/delete/{theirs}")):
        response = getattr(client, method)(url, data=CHANGES[module] if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)
    # a delete over GET is refused before anything is looked up (CSRF protection is on)
    assert client.get(f"/{module}/delete/{theirs}").status_code == 302
    assert _snapshot(client.application, module, theirs) == before


@pytest.mark.parametrize("module", list(MODELS))
def test_a_guessed_id_is_404_on_the_api_and_the_record_is_unchanged(client, people, module):
    headers = bearer(client, people["alice_login"], f.PASSWORD)
    theirs, mine = people["theirs"][module], people["mine"][module]
    before = _snapshot(client.application, module, theirs)
    assert client.get(f"/api/v1/{module}/{mine}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/{module}/{theirs}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/{module}/{theirs}", json=CHANGES[module], headers=headers).status_code == 404
    assert client.delete(f"/api/v1/{module}/{theirs}", headers=headers).status_code == 404
    assert _snapshot(client.application, module, theirs) == before


def test_bulk_actions_on_a_guessed_customer_are_refused_whole(client, people):
    """转移, 退回公海 and the pool's 领取/分配 through the API and the screen: 404, nothing moves."""
    headers = bearer(client, people["alice_login"], f.PASSWORD)
    theirs, mine = people["theirs"]["customer"], people["mine"]["customer"]
    before = _snapshot(client.application, "customer", theirs)
    for action, body in (("transfer", {"owner": people["alice"]}), ("release", {"reason": "抢"}), ("claim", {}),
                         ("assign", {"owner": people["alice"]})):
        response = client.post(f"/api/v1/customer/{action}", json={"ids": [mine, theirs], **body}, headers=headers)
        assert response.status_code == 404, (action, response.get_json())
    web_login(client, people["alice_login"], f.PASSWORD)
    client.post(f"/customer/act/transfer/?ids={theirs}", data={"owner": str(people["alice"])})
    client.post(f"/customer/act/release/?ids={theirs}", data={"reason": "抢"})
    assert _snapshot(client.application, "customer", theirs) == before
    assert _snapshot(client.application, "customer", mine)["owner_id"] == people["alice"]


def test_claiming_a_guessed_customer_from_the_pool_screen_is_refused(client, people):
    theirs = people["theirs"]["customer"]
    before = _snapshot(client.application, "customer", theirs)
    web_login(client, people["alice_login"], f.PASSWORD)
    response = client.post("/pool/action_post", data={"action": "claim", "rowid": [str(theirs)]})
    assert response.status_code == 404  # not in the pool: out of this screen's reach
    assert _snapshot(client.application, "customer", theirs) == before


def test_the_pool_does_not_show_an_owned_customer(client, people):
    headers = bearer(client, people["alice_login"], f.PASSWORD)
    theirs = people["theirs"]["customer"]
    assert client.get(f"/api/v1/pool/{theirs}", headers=headers).status_code == 404
    web_login(client, people["alice_login"], f.PASSWORD)
    assert client.get(f"/pool/show/{theirs}").status_code == 404


def test_search_export_pickers_and_related_records_stay_within_the_scope(client, people):
    headers = bearer(client, people["alice_login"], f.PASSWORD)
    theirs = people["theirs"]
    # customer search by phone
    q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": "13911110002"}]})
    assert client.get(f"/api/v1/customer/?q={q}", headers=headers).get_json()["count"] == 0
    # export
    text = client.get("/api/v1/customer/export?format=csv", headers=headers).data.decode("utf-8")
    assert "甲公司" in text and "乙公司" not in text
    # a record hung off someone else's
    response = client.post("/api/v1/contact/", json={"customer": theirs["customer"], "name": "挂靠"}, headers=headers)
    assert response.status_code == 404
    response = client.post("/api/v1/invoice/", json={"contract": theirs["contract"], "number": "FP-X"},
                           headers=headers)
    assert response.status_code == 404
    # an owner outside the scope
    response = client.post("/api/v1/customer/", json={"company_name": "送人", "mobile": "13966630001", "owner": people["bob"]}, headers=headers)
    assert response.status_code == 400 and response.get_json()["field"] == "owner"
    # the record pickers (autocomplete) of the edit forms
    web_login(client, people["alice_login"], f.PASSWORD)
    found = client.get("/contact/lookup/customer/?q=公司").get_json()["results"]
    assert [r["text"] for r in found] == ["甲公司"]
    found = client.get("/invoice/lookup/contract/?q=合同").get_json()["results"]
    assert [r["text"] for r in found] == ["HT-甲 甲合同"]


def test_the_owner_dropdown_offers_only_employees_in_scope(client, people):
    with client.application.app_context():
        org.update_employee(people["alice"], name="小李")
    web_login(client, people["alice_login"], f.PASSWORD)
    page = client.get("/customer/add").get_data(as_text=True)
    assert "小李" in page and "小王" not in page
