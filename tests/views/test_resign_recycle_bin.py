"""办理离职 and the recycle bin (回收站): a leaver's records in the bin are handed over with the live ones, to the
heir or to the pool, by the same rule and audited alike; a record restored while its owner is no longer active
does not go back to that account (a customer goes to the public pool, what hangs on a customer to the customer's
owner, the money nobody else would see to the one who restored it), and the answer says so. Screens with their
CSRF token and session cookie, and the API; SQLite and PostgreSQL alike."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import recycle
from app.extensions import db
from models.audit import AuditLog
from models.crm import Contact, Customer, FollowUp, OwnerHistory
from models.org import Employee
from models.sales import Contract, Invoice, Opportunity
from tests import factories as f
from tests.conftest import bearer, token_of
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from tests.views.test_recycle_bin import people  # noqa: F401  (a fixture)
from tests.views.test_sessions import admin_client

pytestmark = pytest.mark.usefixtures("restore_roles")

MODELS = {"customer": Customer, "contact": Contact, "opportunity": Opportunity, "contract": Contract,
          "followup": FollowUp, "invoice": Invoice}
MONEY = ("opportunity", "contract", "invoice")


def owners(app, family) -> dict:
    """{module: owner id} of a family's records, in the bin or not."""
    with app.app_context():
        found = {module: db.session.scalar(select(MODELS[module].owner_id).where(MODELS[module].id == pk)
                                           .execution_options(**recycle.OPTIONS))
                 for module, pk in family.items()}
        db.session.remove()
    return found


def in_bin(app, model, pk) -> bool:
    with app.app_context():
        found = db.session.scalar(select(model.deleted_at).where(model.id == pk)
                                  .execution_options(**recycle.OPTIONS)) is not None
        db.session.remove()
    return found


def history(app, customer_id) -> list:
    with app.app_context():
        rows = [(h.action, h.from_owner_id, h.to_owner_id, h.reason) for h in db.session.scalars(
            select(OwnerHistory).where(OwnerHistory.customer_id == customer_id).order_by(OwnerHistory.id))]
        db.session.remove()
    return rows


def audit_entries(app, action, module) -> list:
    with app.app_context():
        rows = [(e.record_ids, e.changes_dict, e.detail_dict, e.actor_name) for e in db.session.scalars(
            select(AuditLog).where(AuditLog.action == action, AuditLog.module == module).order_by(AuditLog.id))]
        db.session.remove()
    return rows


def second_family(app, people, tag="丙", mobile="13911110003") -> dict:
    with app.app_context():
        family = f.family(db.session.get(Employee, people["alice"]), tag, mobile)
        db.session.remove()
    return family


def test_resign_on_the_screen_hands_the_leavers_binned_records_to_the_heir_with_the_live_ones(csrf, people):
    app, mine = csrf, people["mine"]
    live = second_family(app, people)
    client = app.test_client()
    alice = bearer(client, people["alice_login"], "secret12")
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=alice).status_code == 200  # all six
    assert client.delete(f"/api/v1/contact/{live['contact']}", headers=alice).status_code == 200  # on its own
    admin = admin_client(csrf)
    url = f"/employees/resign/?ids={people['alice']}"
    page = admin.post(url, data={"handover_to": str(people["bob"]), "csrf_token": token_of(admin, url)},
                      follow_redirects=True).get_data(as_text=True)
    assert "已为 1 名员工办理离职" in page
    bob, alice_id = people["bob"], people["alice"]
    for family in (mine, live):  # in the bin or not, all but the follow-up (its author's) are Bob's now
        assert owners(app, family) == {**{m: bob for m in family}, "followup": alice_id}
    assert in_bin(app, Customer, mine["customer"]) and in_bin(app, Contact, live["contact"])  # still binned
    assert history(app, mine["customer"])[-1] == ("resign", alice_id, bob, None)
    assert history(app, live["customer"])[-1] == ("resign", alice_id, bob, None)
    # audited like the live hand-over, in an entry of its own that says the records are in the bin
    entries = {ids: (changes, detail) for ids, changes, detail, _actor in audit_entries(app, "transfer", "customer")}
    assert entries[str(live["customer"])] == ({"owner": [[alice_id], bob]}, None)
    assert entries[str(mine["customer"])] == ({"owner": [[alice_id], bob]}, {"recycle_bin": True})
    audit_page = admin.get("/audit-log/list/?module=customer").get_data(as_text=True)
    assert "在回收站中" in audit_page
    # Bob (his own records only) finds them in his bin and gets them back as his, with no owner notice
    bob_headers = bearer(client, people["bob_login"], "secret12")
    listed = client.get("/api/v1/recycle_bin/", headers=bob_headers).get_json()
    assert {(r["module"], r["id"]) for r in listed["result"]} == {("customer", mine["customer"]),
                                                                 ("contact", live["contact"])}
    answer = client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=bob_headers)
    assert answer.status_code == 200 and answer.get_json()["message"] == "已恢复。"
    assert answer.get_json()["owners"] == {}
    for module in ("customer", "contact", "contract", "invoice"):
        assert client.get(f"/api/v1/{module}/{mine[module]}", headers=bob_headers).status_code == 200, module
    bob_web = app.test_client()
    from tests.views.test_sessions import form_login

    form_login(bob_web, people["bob_login"], "secret12")
    restore_url = f"/recycle_bin/restore/contact/{live['contact']}"
    page = bob_web.post(restore_url, data={"csrf_token": token_of(bob_web, "/recycle_bin/list/")},
                        follow_redirects=True).get_data(as_text=True)
    assert "已恢复" in page and "原负责人已离职或停用" not in page
    assert bob_web.get(f"/contact/show/{live['contact']}").status_code == 200


def test_resign_to_the_pool_through_the_api_sends_the_binned_customer_to_the_pool_by_the_live_rule(
        client, people, admin_headers):
    app, mine, alice_id = client.application, people["mine"], people["alice"]
    live = second_family(app, people)
    alice = bearer(client, people["alice_login"], "secret12")
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=alice).status_code == 200
    answer = client.post(f"/api/v1/employee/{alice_id}/resign", json={"handover_to": None}, headers=admin_headers)
    assert answer.status_code == 200 and answer.get_json()["result"]["state"] == "resigned"
    # the pool takes the customer and its contacts; the money stays with its owner, binned or not
    expected = {"customer": None, "contact": None, "followup": alice_id, **{m: alice_id for m in MONEY}}
    assert owners(app, mine) == expected and owners(app, live) == expected
    assert history(app, mine["customer"])[-1] == ("resign", alice_id, None, "已离职")
    details = {ids: detail for ids, _changes, detail, _actor in audit_entries(app, "transfer", "customer")}
    assert details[str(mine["customer"])] == {"reason": "已离职", "recycle_bin": True}
    assert details[str(live["customer"])] == {"reason": "已离职"}
    # restored by an administrator: the customer comes back into the pool; its money, whose owner has left and
    # which nobody could see without one, goes to the administrator, and the answer says so
    answer = client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=admin_headers)
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert body["message"] == "已恢复。3 条记录的原负责人已离职或停用，已转给您。"
    assert body["owners"] == {"restorer": {m: [mine[m]] for m in MONEY}}
    with app.app_context():
        admin_id = db.session.scalar(select(Employee.id).where(Employee.username == "admin"))
        db.session.remove()
    assert owners(app, mine) == {**expected, **{m: admin_id for m in MONEY}}
    assert mine["customer"] in client.get("/api/v1/pool/", headers=admin_headers).get_json()["ids"]
    moved = {ids: (changes, actor) for ids, changes, _detail, actor in audit_entries(app, "transfer", "contract")}
    assert moved[str(mine["contract"])] == ({"owner": [[alice_id], admin_id]}, "admin")


def test_a_customer_restored_on_the_screen_while_its_owner_is_disabled_goes_to_the_pool(csrf, people):
    app, mine, alice_id = csrf, people["mine"], people["alice"]
    client = app.test_client()
    alice = bearer(client, people["alice_login"], "secret12")
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=alice).status_code == 200
    admin_headers = bearer(client)
    assert client.post(f"/api/v1/employee/{alice_id}/disable", headers=admin_headers).status_code == 200
    assert owners(app, mine)["customer"] == alice_id  # disabling hands nothing over
    admin = admin_client(csrf)
    url = f"/recycle_bin/restore/customer/{mine['customer']}"
    assert admin.post(url).status_code == 400  # no CSRF token
    page = admin.post(url, data={"csrf_token": token_of(admin, "/recycle_bin/list/")},
                      follow_redirects=True).get_data(as_text=True)
    assert "已恢复。" in page
    assert "原负责人已离职或停用，客户已放入公海。" in page and "3 条记录的原负责人已离职或停用，已转给您。" in page
    with app.app_context():
        admin_id = db.session.scalar(select(Employee.id).where(Employee.username == "admin"))
        db.session.remove()
    assert owners(app, mine) == {"customer": None, "contact": None, "followup": alice_id,
                                 **{m: admin_id for m in MONEY}}
    assert not in_bin(app, Customer, mine["customer"])
    assert history(app, mine["customer"])[-1] == ("release", alice_id, None, "从回收站恢复时原负责人已离职或停用")
    released = {ids: (changes, detail, actor) for ids, changes, detail, actor in audit_entries(app, "release",
                                                                                              "customer")}
    assert released[str(mine["customer"])] == ({"owner": [[alice_id], None]},
                                               {"reason": "从回收站恢复时原负责人已离职或停用"}, "admin")
    assert mine["customer"] in client.get("/api/v1/pool/", headers=admin_headers).get_json()["ids"]
    # Alice, back at work, does not get it back by herself: it is in the pool for anyone to claim
    assert client.post(f"/api/v1/employee/{alice_id}/activate", headers=admin_headers).status_code == 200
    alice = bearer(client, people["alice_login"], "secret12")
    assert client.get(f"/api/v1/customer/{mine['customer']}", headers=alice).status_code == 404


def test_a_record_restored_while_its_owner_has_left_goes_to_its_customers_owner(client, people, admin_headers):
    app, theirs, alice_id, bob_id = client.application, people["theirs"], people["alice"], people["bob"]
    with app.app_context():  # Alice's contract on Bob's customer: not hers to hand over when she leaves
        db.session.get(Contract, theirs["contract"]).owner_id = alice_id
        db.session.commit()
        db.session.remove()
    assert client.delete(f"/api/v1/contract/{theirs['contract']}", headers=admin_headers).status_code == 200
    assert client.post(f"/api/v1/employee/{alice_id}/resign", json={"handover_to": bob_id},
                       headers=admin_headers).status_code == 200
    assert owners(app, theirs)["contract"] == alice_id
    bob = bearer(client, people["bob_login"], "secret12")
    assert client.post(f"/api/v1/contract/{theirs['contract']}/restore", headers=bob).status_code == 404  # not his
    answer = client.post(f"/api/v1/contract/{theirs['contract']}/restore", headers=admin_headers)
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert body["message"] == "已恢复。1 条记录的原负责人已离职或停用，已转给客户负责人。"
    assert body["owners"] == {"customer_owner": {"contract": [theirs["contract"]]}}
    assert body["restored"] == {"contract": [theirs["contract"]], "invoice": [theirs["invoice"]]}
    assert owners(app, theirs)["contract"] == bob_id and owners(app, theirs)["invoice"] == bob_id
    assert client.get(f"/api/v1/contract/{theirs['contract']}", headers=bob).status_code == 200
    changes = {ids: c for ids, c, _detail, _actor in audit_entries(app, "transfer", "contract")}
    assert changes[str(theirs["contract"])] == {"owner": [[alice_id], bob_id]}
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "restore", AuditLog.module == "contract"))
        assert json.loads(entry.detail)["records"] == 2
        db.session.remove()
