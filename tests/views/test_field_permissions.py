"""Field-level permission in the generated screens and API: a role set to show the mobile masked,
hide the address and keep the company name read-only sees exactly that in the list, the detail, the
edit form, the export and the JSON — and cannot write around it."""
import csv
import io

import pytest

from app import roles as role_service
from app.extensions import db
from models.crm import Customer
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


@pytest.fixture
def seller(app):
    with app.app_context():
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "受限主管")
        role_service.write_matrix(role.id, {"fields": {"customer": {
            "mobile": "masked", "address": "hidden", "company_name": "read_only"}}})
        person = f.employee("受限员工", role=role.name)
        item = f.customer(person, "保密公司", "13812345678", address="秘密地址")
        ids = dict(login=person.username, customer=item.id)
        db.session.remove()
    return ids


def test_list_detail_and_form_follow_the_field_rules(client, seller):
    web_login(client, seller["login"], f.PASSWORD)
    listed = client.get("/customer/list/").get_data(as_text=True)
    assert "138****5678" in listed and "13812345678" not in listed
    assert "秘密地址" not in listed
    shown = client.get(f"/customer/show/{seller['customer']}").get_data(as_text=True)
    assert "138****5678" in shown and "秘密地址" not in shown and "地址" not in shown.split("crm-owner-history")[0]
    form = client.get(f"/customer/edit/{seller['customer']}").get_data(as_text=True)
    assert 'name="company_name"' not in form and 'name="mobile"' not in form and 'name="address"' not in form
    assert 'name="contact_name"' in form
    client.post(f"/customer/edit/{seller['customer']}", data={"contact_name": "新联系人", "company_name": "改名",
                                                              "mobile": "13900000000", "address": "新地址"})
    with client.application.app_context():
        item = db.session.get(Customer, seller["customer"])
        assert (item.company_name, item.mobile, item.address, item.contact_name) == (
            "保密公司", "13812345678", "秘密地址", "新联系人")


def test_api_reads_masked_and_hidden_and_refuses_protected_writes(client, seller):
    headers = bearer(client, seller["login"], f.PASSWORD)
    row = client.get(f"/api/v1/customer/{seller['customer']}", headers=headers).get_json()["result"]
    assert row["mobile"] == "138****5678" and "address" not in row
    listed = client.get("/api/v1/customer/", headers=headers).get_json()["result"]
    assert listed[0]["mobile"] == "138****5678" and "address" not in listed[0]
    refused = client.put(f"/api/v1/customer/{seller['customer']}", json={"company_name": "改名"}, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["field"] == "company_name"
    assert client.put(f"/api/v1/customer/{seller['customer']}", json={"address": "x"},
                      headers=headers).status_code == 403
    assert client.put(f"/api/v1/customer/{seller['customer']}", json={"contact_name": "可以改"},
                      headers=headers).status_code == 200
    with client.application.app_context():
        assert db.session.get(Customer, seller["customer"]).address == "秘密地址"


def test_export_leaves_out_hidden_columns_and_masks(client, seller):
    headers = bearer(client, seller["login"], f.PASSWORD)
    text = client.get("/api/v1/customer/export?format=csv", headers=headers).data.decode("utf-8").lstrip("\ufeff")
    parsed = list(csv.reader(io.StringIO(text)))
    assert "地址" not in parsed[0]
    assert "138****5678" in parsed[1] and "13812345678" not in text


def test_a_pool_customer_is_out_of_reach_without_the_pool_right_even_with_scope_all(client, app):
    with app.app_context():
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "全部无公海")
        matrix = role_service.read_matrix(role.id)
        modules = {m: a for m, a in matrix["modules"].items() if m != "pool"}
        role_service.write_matrix(role.id, {"modules": modules, "data_scope": "all"})
        person = f.employee("看全部的人", role=role.name)
        pooled = f.customer(None, "公海客户")
        login, pooled_id = person.username, pooled.id
        db.session.remove()
    headers = bearer(client, login, f.PASSWORD)
    response = client.post("/api/v1/contact/", json={"customer": pooled_id, "name": "挂到公海客户"}, headers=headers)
    assert response.status_code == 404 and response.get_json()["field"] == "customer"


def test_custom_fields_follow_the_field_rules_too(client, app, admin_headers):
    """A 手机 custom field masked and a 单行文本 one hidden: the role screen offers them, and the API,
    the list and the export apply them."""
    for label, kind in (("备用手机", "mobile"), ("内部备注", "text")):
        created = client.post("/api/v1/custom_field/", json={"module": "customer", "label": label, "type": kind},
                              headers=admin_headers)
        assert created.status_code == 201, created.get_json()
    keys = {row["label"]: "cf_" + row["key"] for row in
            client.get("/api/v1/custom_field/", headers=admin_headers).get_json()["result"]}
    phone, note = keys["备用手机"], keys["内部备注"]
    with app.app_context():
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "自定义受限")
        role_service.write_matrix(role.id, {"fields": {"customer": {phone: "masked", note: "hidden"}}})
        person = f.employee("自定义受限员工", role=role.name)
        item = f.customer(person, "自定义公司", "13811112222")
        login, pk = person.username, item.id
        db.session.remove()
    assert client.put(f"/api/v1/customer/{pk}", json={phone: "13912345678", note: "机密"},
                      headers=admin_headers).status_code == 200
    headers = bearer(client, login, f.PASSWORD)
    row = client.get(f"/api/v1/customer/{pk}", headers=headers).get_json()["result"]
    assert row[phone] == "139****5678" and note not in row
    refused = client.put(f"/api/v1/customer/{pk}", json={note: "改"}, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["field"] == note
    text = client.get("/api/v1/customer/export?format=csv", headers=headers).data.decode("utf-8")
    assert "139****5678" in text and "机密" not in text and "内部备注" not in text
    web_login(client, login, f.PASSWORD)
    listed = client.get("/customer/list/").get_data(as_text=True)
    assert "13912345678" not in listed and "机密" not in listed
