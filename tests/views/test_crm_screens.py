"""The generated screens through the browser's protocol: search, detail, actions, export."""
import io

import openpyxl
import pytest

from app.extensions import db
from models.crm import Customer, CustomerGroup
from tests import factories as f
from tests.conftest import web_login


@pytest.fixture
def data(app):
    with app.app_context():
        seller = f.employee("小李")
        a = f.customer(seller, "甲公司", "13911110001")
        b = f.customer(None, "公海乙公司", "13911110002")
        c = f.customer(seller, "丙公司", "13811110003")
        ids = dict(seller=seller.id, seller_login=seller.username, a=a.id, b=b.id, c=c.id)
        db.session.remove()
    return ids


def test_search_box_finds_a_customer_by_phone(client, data):
    web_login(client)
    page = client.get("/customer/list/").get_data(as_text=True)
    assert "按公司名称、联系人、手机号搜索" in page
    import re

    arg = re.search(r'name="(_flt_\d+_company_name)"', page).group(1)
    assert arg == "_flt_0_company_name"
    assert "丙公司" in page
    found = client.get(f"/customer/list/?{arg}=13911110001").get_data(as_text=True)
    assert "甲公司" in found and "丙公司" not in found
    by_prefix = client.get(f"/customer/list/?{arg}=1391111").get_data(as_text=True)
    assert "甲公司" in by_prefix and "丙公司" not in by_prefix
    by_name = client.get(f"/customer/list/?{arg}=丙").get_data(as_text=True)
    assert "丙公司" in by_name and "甲公司" not in by_name


def test_pool_claim_and_transfer_from_the_screens(client, data):
    web_login(client)
    response = client.post("/pool/action_post", data={"action": "claim", "rowid": [str(data["b"])]},
                           follow_redirects=True)
    assert response.status_code == 200
    with client.application.app_context():
        assert db.session.get(Customer, data["b"]).owner_id is not None
    form = client.get(f"/customer/act/transfer/?ids={data['b']}").get_data(as_text=True)
    assert "转移" in form
    response = client.post(f"/customer/act/transfer/?ids={data['b']}", data={"owner": str(data["seller"])},
                           follow_redirects=True)
    assert "已转移 1 个客户" in response.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.get(Customer, data["b"]).owner_id == data["seller"]


def test_release_form_refuses_an_empty_reason(client, data):
    web_login(client)
    response = client.post(f"/customer/act/release/?ids={data['a']}", data={"reason": ""})
    assert response.status_code == 400  # the form comes back with its error
    with client.application.app_context():
        assert db.session.get(Customer, data["a"]).owner_id == data["seller"]


def test_groups_filter_the_customer_list(client, data):
    web_login(client, data["seller_login"], f.PASSWORD)
    client.post("/customer_group/add", data={"name": "重点客户", "sort_order": "0"})
    with client.application.app_context():
        group = db.session.query(CustomerGroup).filter_by(name="重点客户").one()
        group_id = group.id
    response = client.post(f"/customer/act/add_to_group/?ids={data['a']}", data={"group": str(group_id)},
                           follow_redirects=True)
    assert "已加入分组" in response.get_data(as_text=True)
    listed = client.get(f"/customer/list/?group={group_id}").get_data(as_text=True)
    assert "甲公司" in listed
    empty = client.get(f"/customer/list/?group={group_id + 999}").get_data(as_text=True)
    assert "甲公司" not in empty


def test_a_strangers_customer_is_404_on_every_screen(client, data):
    with client.application.app_context():
        other = f.employee("别人")
        login = other.username
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    for url in (f"/customer/show/{data['a']}", f"/customer/edit/{data['a']}"):
        assert client.get(url).status_code == 404, url
    client.post(f"/customer/edit/{data['a']}", data={"company_name": "抢走"})
    with client.application.app_context():
        assert db.session.get(Customer, data["a"]).company_name == "甲公司"


def test_export_from_the_screen_keeps_the_filter(client, data):
    web_login(client)
    response = client.get("/customer/export/?format=xlsx")
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["丙公司", "甲公司"]
    filtered = client.get("/customer/export/?format=xlsx&_flt_0_company_name=13911110001")
    rows = list(openpyxl.load_workbook(io.BytesIO(filtered.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["甲公司"]


def test_a_huge_list_counts_up_to_the_cap(client, data, admin_headers, monkeypatch):
    """Counting stops at the cap (a million customers must not be counted on every page)."""
    from views.datamodel import CrmInterface

    monkeypatch.setattr(CrmInterface, "count_cap", 1)
    web_login(client)
    page = client.get("/customer/list/").get_data(as_text=True)
    assert "1+" in page.split('id="crm-record-count"')[1][:200]
    listed = client.get("/api/v1/customer/", headers=admin_headers).get_json()
    assert listed["count"] == 2 and listed["count_capped"] is True


def test_a_contact_is_added_with_the_customer_picker_within_reach(client, data):
    web_login(client, data["seller_login"], f.PASSWORD)
    found = client.get("/contact/lookup/customer/?q=甲").get_json()["results"]
    assert [r["text"] for r in found] == ["甲公司"]
    response = client.post("/contact/add", data={"customer": str(data["a"]), "name": "王经理",
                                                 "mobile": "13911113333"}, follow_redirects=True)
    assert response.status_code == 200
    with client.application.app_context():
        from models.crm import Contact

        contact = db.session.query(Contact).filter_by(name="王经理").one()
        assert contact.customer_id == data["a"] and contact.owner_id == data["seller"]
    with client.application.app_context():
        other = f.customer(f.employee("别人2"), "别人的公司", "13711110009")
        other_id = other.id
        db.session.remove()
    assert client.get("/contact/lookup/customer/?q=别人").get_json()["results"] == []
    client.post("/contact/add", data={"customer": str(other_id), "name": "偷挂", "mobile": ""})
    with client.application.app_context():
        from models.crm import Contact

        assert db.session.query(Contact).filter_by(name="偷挂").count() == 0
