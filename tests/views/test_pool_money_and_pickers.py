"""Issue 8.6 and 8.7 as attack tests.

8.6: the pickers (/<module>/lookup/<relationship>/?q=) answer within the viewer's data scope, honour
`q` and answer a limited number of rows: another employee's private customer group, an employee out
of the scope, a record out of the scope never show.

8.7: a customer returned to the pool takes its contacts along (a pool viewer sees the customer, its
contacts and its follow-up history on the detail page), not its money: opportunities, contracts and
invoices stay with their owner and in their owner's scope, also after someone else claims the customer."""
import datetime as dt

import pytest

from app import customers
from app import groups
from app.extensions import db
from models.crm import Contact, FollowUp
from models.sales import Contract, Invoice, Opportunity
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


@pytest.fixture
def team(app):
    """A manager (销售主管: self and subordinates) with two reports, and an outsider in another department."""
    with app.app_context():
        dept, other_dept = f.department("一组"), f.department("二组")
        boss = f.employee("主管老赵", dept, role="销售主管")
        red = f.employee("下属小红", dept, manager=boss)
        green = f.employee("下属小绿", dept, manager=boss)
        outsider = f.employee("外人老张", other_dept)
        groups.create_group("老赵的组", boss)
        groups.create_group("外人的私组", outsider)
        db.session.commit()
        ids = dict(boss=boss.id, boss_login=boss.username, red=red.id, green=green.id, outsider=outsider.id,
                   outsider_login=outsider.username, red_login=red.username)
        db.session.remove()
    return ids


def _texts(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [row["text"] for row in response.get_json()["results"]]


def test_the_group_picker_shows_only_ones_own_groups(client, team):
    web_login(client, team["boss_login"], f.PASSWORD)
    assert _texts(client, "/customer/lookup/groups/") == ["老赵的组"]
    assert _texts(client, "/customer/lookup/groups/?q=私组") == []


@pytest.mark.parametrize("url", ["/customer/lookup/owner/", "/customer/lookup/created_by/",
                                 "/followup/lookup/owner/", "/contract/lookup/owner/", "/invoice/lookup/updated_by/",
                                 "/opportunity/lookup/owner/", "/contact/lookup/owner/"])
def test_employee_pickers_stay_in_the_scope_and_search_as_you_type(client, team, url):
    web_login(client, team["boss_login"], f.PASSWORD)
    names = _texts(client, url)
    assert set(names) == {"主管老赵", "下属小红", "下属小绿"}
    assert _texts(client, url + "?q=小红") == ["下属小红"]
    assert _texts(client, url + "?q=老张") == []  # out of the scope, even when named
    assert _texts(client, url + "?q=%25") == []  # a LIKE wildcard is a character, not "everyone"


def test_a_salesperson_sees_only_themselves_and_the_count_is_limited(client, team, monkeypatch):
    web_login(client, team["red_login"], f.PASSWORD)
    assert _texts(client, "/customer/lookup/owner/") == ["下属小红"]
    client = client.application.test_client()
    web_login(client, "admin", "admin-pass-123")
    from views import lookups
    monkeypatch.setattr(lookups, "LOOKUP_LIMIT", 2)
    assert len(_texts(client, "/customer/lookup/owner/")) == 2
    with client.application.app_context():
        for n in range(3):
            f.customer(None, f"公海{n}号")
    assert len(_texts(client, "/contact/lookup/customer/")) == 2


def test_a_record_picker_stays_in_the_scope(client, team, app):
    with app.app_context():
        f.customer(db.session.get(f.Employee, team["outsider"]), "外人的客户")
        f.customer(db.session.get(f.Employee, team["red"]), "小红的客户")
        db.session.remove()
    web_login(client, team["boss_login"], f.PASSWORD)
    assert _texts(client, "/contact/lookup/customer/?q=客户") == ["小红的客户"]


# ---------------------------------------------------------------- 8.7 the pool and the money

@pytest.fixture
def pooled(app, team):
    """小红's customer with a contact, a follow-up, an opportunity, a contract and an invoice, then returned
    to the pool by 小红."""
    with app.app_context():
        red = db.session.get(f.Employee, team["red"])
        item = f.customer(red, "退回的客户", "13711112222")
        contact = Contact(customer_id=item.id, name="客户联系人", owner_id=red.id, department_id=red.department_id)
        opportunity = Opportunity(customer_id=item.id, name="大商机", owner_id=red.id, department_id=red.department_id)
        followup = FollowUp(customer_id=item.id, content="聊过价格", followed_at=dt.datetime(2026, 3, 1),
                            owner_id=red.id, department_id=red.department_id)
        db.session.add_all([contact, opportunity, followup])
        db.session.flush()
        contract = Contract(customer_id=item.id, opportunity_id=opportunity.id, number="HT-秘", name="秘密合同",
                            amount=99999, owner_id=red.id, department_id=red.department_id)
        db.session.add(contract)
        db.session.flush()
        invoice = Invoice(contract_id=contract.id, customer_id=item.id, number="FP-秘", amount=99999,
                          owner_id=red.id, department_id=red.department_id)
        db.session.add(invoice)
        db.session.commit()
        customers.release([item.id], "不跟了", red)
        ids = dict(customer=item.id, contact=contact.id, opportunity=opportunity.id, contract=contract.id,
                   invoice=invoice.id, followup=followup.id)
        db.session.remove()
    return ids


MONEY = ("opportunity", "contract", "invoice")


def test_a_pool_viewer_sees_the_customer_contacts_and_history_not_the_money(client, team, pooled):
    headers = bearer(client, team["outsider_login"], f.PASSWORD)  # 销售: may look into the pool, scope 本人
    assert client.get(f"/api/v1/pool/{pooled['customer']}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/contact/{pooled['contact']}", headers=headers).status_code == 200
    for module in MONEY:
        assert client.get(f"/api/v1/{module}/{pooled[module]}", headers=headers).status_code == 404, module
        assert client.get(f"/api/v1/{module}/", headers=headers).get_json()["count"] == 0, module
        exported = client.get(f"/api/v1/{module}/export?format=csv", headers=headers).data.decode("utf-8")
        assert "秘" not in exported and "大商机" not in exported, module
    web_login(client, team["outsider_login"], f.PASSWORD)
    shown = client.get(f"/pool/show/{pooled['customer']}").get_data(as_text=True)
    assert "客户联系人" in shown and "聊过价格" in shown and "crm-pool-followups" in shown
    assert "秘密合同" not in shown and "大商机" not in shown and "FP-秘" not in shown
    for module in MONEY:
        assert client.get(f"/{module}/show/{pooled[module]}").status_code == 404, module
        listed = client.get(f"/{module}/list/").get_data(as_text=True)
        assert "秘" not in listed and "大商机" not in listed, module
    # the picker that hangs an invoice on a contract does not offer it either
    assert _texts(client, "/invoice/lookup/contract/") == []


def test_the_money_stays_with_its_owner_in_the_pool_and_after_a_claim(client, team, pooled):
    for login in (team["red_login"], team["boss_login"]):  # the owner and her manager still see it
        headers = bearer(client, login, f.PASSWORD)
        for module in MONEY:
            assert client.get(f"/api/v1/{module}/{pooled[module]}", headers=headers).status_code == 200, (login, module)
    outsider = bearer(client, team["outsider_login"], f.PASSWORD)
    claimed = client.post("/api/v1/pool/claim", json={"ids": [pooled["customer"]]}, headers=outsider)
    assert claimed.status_code == 200, claimed.get_json()
    assert client.get(f"/api/v1/customer/{pooled['customer']}", headers=outsider).status_code == 200
    assert client.get(f"/api/v1/contact/{pooled['contact']}", headers=outsider).status_code == 200
    for module in MONEY:
        assert client.get(f"/api/v1/{module}/{pooled[module]}", headers=outsider).status_code == 404, module
    red = bearer(client, team["red_login"], f.PASSWORD)
    assert client.get(f"/api/v1/contract/{pooled['contract']}", headers=red).status_code == 200
    # once claimed, the follow-up history is no longer shown to pool viewers on the pool screen
    web_login(client, team["boss_login"], f.PASSWORD)
    assert client.get(f"/pool/show/{pooled['customer']}").status_code == 404


def test_a_pool_viewer_without_the_pool_right_sees_no_history(client, app, pooled):
    with app.app_context():
        from app import roles as role_service
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售").id, "无公海销售")
        matrix = role_service.read_matrix(role.id)
        role_service.write_matrix(role.id, {"modules": {m: a for m, a in matrix["modules"].items() if m != "pool"}})
        person = f.employee("无公海的人", role=role.name)
        login = person.username
        db.session.remove()
    headers = bearer(client, login, f.PASSWORD)
    assert client.get(f"/api/v1/contact/{pooled['contact']}", headers=headers).status_code == 404
    from app.pool_history import pool_followups
    with app.app_context():
        assert pool_followups(pooled["customer"], db.session.query(f.Employee).filter_by(username=login).one()) is None


def test_the_lists_filter_forms_hold_no_record_out_of_the_scope(client, team, app):
    """FAB's "Add filter" form used to carry a select of every customer and every employee (anyone's, in
    the page's JSON); the relationship filters are pickers now, asking /lookup/ within the scope."""
    import json

    with app.app_context():
        f.customer(db.session.get(f.Employee, team["outsider"]), "外人的客户")
        db.session.remove()
    web_login(client, team["red_login"], f.PASSWORD)
    for url in ("/contact/list/", "/followup/list/", "/opportunity/list/", "/contract/list/", "/invoice/list/",
                "/customer/list/"):
        page = client.get(url).get_data(as_text=True)
        for secret in ("外人的客户", "外人老张", "主管老赵"):
            assert secret not in page and json.dumps(secret)[1:-1] not in page, (url, secret)
    page = client.get("/contact/list/").get_data(as_text=True)
    assert "crm-record-select" in page and "/contact/lookup/customer/" in page
    # the filter still works with the id the picker gives
    with app.app_context():
        mine = f.customer(db.session.get(f.Employee, team["red"]), "小红自己的客户")
        db.session.add(Contact(customer_id=mine.id, name="小红的联系人", owner_id=team["red"]))
        db.session.commit()
        mine_id = mine.id
        db.session.remove()
    assert "小红的联系人" in client.get(f"/contact/list/?_flt_0_customer={mine_id}").get_data(as_text=True)
