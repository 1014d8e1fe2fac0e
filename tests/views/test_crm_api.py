"""The generated CRM APIs, as an integration and as a salesperson's app would use them."""
import csv
import io

import openpyxl
import prison
import pytest

from app.extensions import db
from models.crm import Customer
from tests import factories as f
from tests.conftest import bearer


@pytest.fixture
def people(app):
    """An admin, two salespeople (scope 本人) and their customers."""
    with app.app_context():
        dept = f.department("销售部")
        alice = f.employee("小李", dept)
        bob = f.employee("小王", dept)
        a = f.customer(alice, "甲公司", "13911110001")
        b = f.customer(bob, "乙公司", "13911110002")
        pooled = f.customer(None, "公海公司", "13911110003")
        ids = dict(alice=alice.id, bob=bob.id, a=a.id, b=b.id, pooled=pooled.id,
                   alice_login=alice.username, bob_login=bob.username)
        db.session.remove()
    return ids


def _headers(client, login):
    return bearer(client, login, f.PASSWORD)


def test_admin_creates_reads_updates_and_deletes_a_customer(client, admin_headers):
    status = client.get("/api/v1/customer/_info", headers=admin_headers)
    assert status.status_code == 200
    body = {"company_name": "新客户有限公司", "contact_name": "张三", "mobile": "+86 139-1111-2222"}
    created = client.post("/api/v1/customer/", json=body, headers=admin_headers)
    assert created.status_code == 201, created.get_json()
    pk = created.get_json()["id"]
    shown = client.get(f"/api/v1/customer/{pk}", headers=admin_headers).get_json()["result"]
    assert shown["mobile"] == "13911112222" and shown["owner_id"] is not None  # the creator owns it
    changed = client.put(f"/api/v1/customer/{pk}", json={"address": "杭州市"}, headers=admin_headers)
    assert changed.status_code == 200 and changed.get_json()["result"]["address"] == "杭州市"
    assert client.delete(f"/api/v1/customer/{pk}", headers=admin_headers).status_code == 200
    assert client.get(f"/api/v1/customer/{pk}", headers=admin_headers).status_code == 404


def test_duplicate_and_malformed_mobile_and_missing_name_are_clear_errors(client, admin_headers, people):
    duplicate = client.post("/api/v1/customer/", json={"company_name": "重复", "mobile": "13911110001"},
                            headers=admin_headers)
    assert duplicate.status_code == 400 and duplicate.get_json()["field"] == "mobile"
    assert "已存在" in duplicate.get_json()["message"]
    malformed = client.post("/api/v1/customer/", json={"company_name": "坏号码", "mobile": "12345"},
                            headers=admin_headers)
    assert malformed.status_code == 400 and malformed.get_json()["field"] == "mobile"
    missing = client.post("/api/v1/customer/", json={"company_name": "无号码"}, headers=admin_headers)
    assert missing.status_code == 400 and missing.get_json()["field"] == "mobile"
    # as in the manual's import template: the mobile number is required, the company name is not
    no_name = client.post("/api/v1/customer/", json={"mobile": "13911119999"}, headers=admin_headers)
    assert no_name.status_code == 201, no_name.get_json()
    info = client.get("/api/v1/customer/_info", headers=admin_headers).get_json()
    required = {f["name"] for f in info["add_columns"] if f.get("required")}
    assert "mobile" in required and "company_name" not in required
    wrong_type = client.post("/api/v1/customer/", json={"company_name": "x", "status": "abc"}, headers=admin_headers)
    assert wrong_type.status_code == 400
    listed = client.get("/api/v1/customer/", headers=admin_headers).get_json()
    assert listed["count"] == 3  # the two owned customers and the one without a name; nothing half-written


def test_a_salesperson_sees_only_their_own_and_gets_404_for_a_strangers_id(client, people):
    headers = _headers(client, people["alice_login"])
    listed = client.get("/api/v1/customer/", headers=headers).get_json()
    assert [r["company_name"] for r in listed["result"]] == ["甲公司"]
    b = people["b"]
    assert client.get(f"/api/v1/customer/{b}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/customer/{b}", json={"company_name": "抢走"}, headers=headers).status_code == 404
    assert client.delete(f"/api/v1/customer/{b}", headers=headers).status_code in (403, 404)
    assert client.post("/api/v1/customer/transfer", json={"ids": [b], "owner": people["alice"]},
                       headers=headers).status_code in (403, 404)
    assert client.post("/api/v1/contact/", json={"customer": b, "name": "偷偷加"}, headers=headers).status_code == 404
    with client.application.app_context():
        assert db.session.get(Customer, b).company_name == "乙公司"
        assert db.session.get(Customer, b).owner_id == people["bob"]


def test_search_by_phone_through_the_api(client, admin_headers, people):
    q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": "13911110002"}]})
    found = client.get(f"/api/v1/customer/?q={q}", headers=admin_headers).get_json()
    assert [r["company_name"] for r in found["result"]] == ["乙公司"]
    q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": "139111100"}]})
    assert client.get(f"/api/v1/customer/?q={q}", headers=admin_headers).get_json()["count"] == 2


def test_claim_assign_release_transfer_through_the_api(client, admin_headers, people):
    alice = _headers(client, people["alice_login"])
    claimed = client.post("/api/v1/customer/claim", json={"ids": [people["pooled"]]}, headers=alice)
    assert claimed.status_code == 200, claimed.get_json()
    released = client.post("/api/v1/customer/release", json={"ids": [people["pooled"]], "reason": ""}, headers=alice)
    assert released.status_code == 400 and released.get_json()["field"] == "reason"
    released = client.post("/api/v1/customer/release", json={"ids": [people["pooled"]], "reason": "无意向"},
                           headers=alice)
    assert released.status_code == 200
    assigned = client.post("/api/v1/customer/assign", json={"ids": [people["pooled"]], "owner": people["bob"]},
                           headers=admin_headers)
    assert assigned.status_code == 200
    moved = client.post("/api/v1/customer/transfer", json={"ids": [people["pooled"], people["a"]],
                                                           "owner": people["alice"]}, headers=admin_headers)
    assert moved.status_code == 200 and moved.get_json()["count"] == 2
    # a salesperson may not assign (no pool assign right)
    denied = client.post("/api/v1/customer/assign", json={"ids": [people["b"]], "owner": people["alice"]},
                         headers=alice)
    assert denied.status_code == 403
    forged = client.post("/api/v1/customer/transfer", json={"ids": ["x"], "owner": people["bob"]},
                         headers=admin_headers)
    assert forged.status_code == 400


def test_every_module_has_a_working_api(client, admin_headers, people):
    customer = people["a"]
    contact = client.post("/api/v1/contact/", json={"customer": customer, "name": "联系人甲", "mobile": "13911113333"},
                          headers=admin_headers)
    assert contact.status_code == 201, contact.get_json()
    assert contact.get_json()["result"]["owner_id"] == people["alice"]  # follows its customer
    opportunity = client.post("/api/v1/opportunity/", json={"customer": customer, "name": "项目", "amount": "1200.50"},
                              headers=admin_headers)
    assert opportunity.status_code == 201, opportunity.get_json()
    contract = client.post("/api/v1/contract/", json={"customer": customer, "number": "HT-001", "name": "合同",
                                                      "opportunity": opportunity.get_json()["id"]},
                           headers=admin_headers)
    assert contract.status_code == 201, contract.get_json()
    again = client.post("/api/v1/contract/", json={"customer": customer, "number": "HT-001", "name": "重复"},
                        headers=admin_headers)
    assert again.status_code == 400 and again.get_json()["field"] == "number"
    invoice = client.post("/api/v1/invoice/", json={"contract": contract.get_json()["id"], "number": "FP-1",
                                                    "amount": "99.00"}, headers=admin_headers)
    assert invoice.status_code == 201, invoice.get_json()
    product = client.post("/api/v1/product/", json={"code": "P1", "name": "坐席", "price": "1980"},
                          headers=admin_headers)
    assert product.status_code == 201
    followup = client.post("/api/v1/followup/", json={"customer": customer, "way": "call", "content": "电话沟通"},
                           headers=admin_headers)
    assert followup.status_code == 201, followup.get_json()
    with client.application.app_context():
        assert db.session.get(Customer, customer).last_followup_at is not None
    group = client.post("/api/v1/customer_group/", json={"name": "重点"}, headers=admin_headers)
    assert group.status_code == 201
    for resource in ("contact", "opportunity", "contract", "invoice", "product", "followup", "customer_group"):
        listed = client.get(f"/api/v1/{resource}/", headers=admin_headers)
        assert listed.status_code == 200 and listed.get_json()["count"] == 1, resource


def test_export_xlsx_and_csv_neutralise_formulas(client, admin_headers, people):
    client.put(f"/api/v1/customer/{people['a']}", json={"company_name": "=HYPERLINK(\"http://x\")"},
               headers=admin_headers)
    xlsx = client.get("/api/v1/customer/export?format=xlsx", headers=admin_headers)
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "公司名称" and len(rows) == 3
    assert "'=HYPERLINK(\"http://x\")" in [r[0] for r in rows]
    text = client.get("/api/v1/customer/export?format=csv", headers=admin_headers).data.decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0][0] == "公司名称" and "'=HYPERLINK(\"http://x\")" in [r[0] for r in parsed]
    q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": "13911110002"}]})
    filtered = client.get(f"/api/v1/customer/export?format=csv&q={q}", headers=admin_headers).data.decode()
    assert len(list(csv.reader(io.StringIO(filtered.lstrip("\ufeff"))))) == 2
    assert client.get("/api/v1/customer/export?format=pdf", headers=admin_headers).status_code == 400


def test_export_is_within_the_scope_and_needs_the_right(client, people):
    alice = _headers(client, people["alice_login"])
    assert client.get("/api/v1/customer/export?format=csv", headers=alice).status_code == 403  # 销售: no export
