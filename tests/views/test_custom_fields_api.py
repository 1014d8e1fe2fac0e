"""Custom fields over REST: defined at /api/v1/custom_field/, then read and written as cf_<key> by
every record API, filtered and sorted in SQL, described by `_info`, and exported."""
import io

import openpyxl
import prison
import pytest

from app.extensions import db
from custom_fields.models import CustomerFieldValue, FieldDefinition
from tests import factories as f
from tests.conftest import bearer


def define(client, headers, **body):
    response = client.post("/api/v1/custom_field/", json={"module": "customer", **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def fields(client, admin_headers):
    city = define(client, admin_headers, label="城市", type="select", options=["杭州", "上海", "北京"],
                  filterable=True, list_default=True)
    staff = define(client, admin_headers, label="员工人数", type="integer", filterable=True, min_value=0)
    founded = define(client, admin_headers, label="成立日期", type="date", filterable=True)
    tags = define(client, admin_headers, label="标签", type="multiselect", options=["重点", "老客户"], filterable=True)
    return {"city": city, "staff": staff, "founded": founded, "tags": tags}


_MOBILES = iter(range(13966660000, 13966669999))


def add(client, headers, name, **custom):
    body = {"company_name": name, "mobile": str(next(_MOBILES)), **custom}  # the mobile is required
    response = client.post("/api/v1/customer/", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def names(response):
    assert response.status_code == 200, response.get_json()
    return [row["company_name"] for row in response.get_json()["result"]]


def test_defining_a_field_answers_its_key_and_the_spec_documents_the_contract(client, admin_headers):
    body = define(client, admin_headers, label="客户编号", type="text", unique=True, max_length=20)
    assert body["key"] == f"f{body['id']}" and body["name"] == f"cf_{body['key']}"
    assert body["result"]["unique"] is True and body["result"]["max_length"] == 20
    shown = client.get(f"/api/v1/custom_field/{body['id']}", headers=admin_headers).get_json()
    assert shown["result"]["label"] == "客户编号" and shown["value_count"] == 0
    listed = client.get("/api/v1/custom_field/?q=" + prison.dumps(
        {"filters": [{"col": "module", "opr": "eq", "value": "customer"}]}), headers=admin_headers)
    assert [r["key"] for r in listed.get_json()["result"]] == [body["key"]]
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    assert "/api/v1/custom_field/" in spec["paths"] and "/api/v1/custom_field/{pk}" in spec["paths"]
    schemas = spec["components"]["schemas"]
    post = schemas["CustomFieldApi.post"]["properties"]
    assert set(post["type"]["enum"]) >= {"text", "select", "multiselect", "money", "boolean"}
    assert set(post["module"]["enum"]) == {"customer", "contact", "product", "contract", "invoice"}
    assert "confirm" in str(spec["paths"]["/api/v1/custom_field/{pk}"]["delete"])


def test_bad_definitions_are_400_with_the_field(client, admin_headers):
    for body, field in (({"module": "opportunity", "label": "x", "type": "text"}, "module"),
                        ({"module": "customer", "label": "x", "type": "colour"}, "type"),
                        ({"module": "customer", "label": "x", "type": "select", "options": []}, "options"),
                        ({"module": "customer", "label": "x", "type": "integer", "colour": "red"}, "colour")):
        response = client.post("/api/v1/custom_field/", json=body, headers=admin_headers)
        assert response.status_code == 400 and response.get_json()["field"] == field, (body, response.get_json())
    with client.application.app_context():
        assert db.session.query(FieldDefinition).count() == 0


def test_only_settings_rights_may_define_fields(client, people_login):
    headers = bearer(client, people_login, f.PASSWORD)
    response = client.post("/api/v1/custom_field/", json={"module": "customer", "label": "x", "type": "text"},
                           headers=headers)
    assert response.status_code in (401, 403)


@pytest.fixture
def people_login(app):
    with app.app_context():
        login = f.employee("小李").username
        db.session.remove()
    return login


def test_records_read_and_write_custom_values_as_ordinary_keys(client, admin_headers, fields):
    city, staff, founded, tags = (fields[k]["name"] for k in ("city", "staff", "founded", "tags"))
    pk = add(client, admin_headers, "甲公司", **{city: "上海", staff: "1,200", founded: "2020/5/1", tags: ["老客户", "重点"]})
    result = client.get(f"/api/v1/customer/{pk}", headers=admin_headers).get_json()["result"]
    shanghai = fields["city"]["result"]["options"][1]["id"]
    tag_ids = sorted(o["id"] for o in fields["tags"]["result"]["options"])
    assert (result[city], result[staff], result[founded], result[tags]) == (shanghai, 1200, "2020-05-01", tag_ids)
    changed = client.put(f"/api/v1/customer/{pk}", json={staff: 5, city: None}, headers=admin_headers).get_json()
    assert changed["result"][staff] == 5 and changed["result"][city] is None
    assert changed["result"][founded] == "2020-05-01"  # not in the PUT: left alone
    listed = client.get("/api/v1/customer/", headers=admin_headers).get_json()["result"]
    assert listed[0][staff] == 5 and city in listed[0]


def test_a_wrong_value_is_400_on_its_field_and_nothing_is_written(client, admin_headers, fields):
    city, staff = fields["city"]["name"], fields["staff"]["name"]
    for body, field in (({staff: "很多"}, staff), ({staff: -1}, staff), ({city: "广州"}, city),
                        ({"cf_f999": 1}, "cf_f999")):
        response = client.post("/api/v1/customer/", json={"company_name": "坏数据", "mobile": "13966650000", **body}, headers=admin_headers)
        assert response.status_code == 400 and response.get_json()["field"] == field, response.get_json()
    with client.application.app_context():
        from models.crm import Customer

        assert db.session.query(Customer).count() == 0  # the record is not saved without its values
        assert db.session.query(CustomerFieldValue).count() == 0


def test_info_describes_custom_fields_so_a_client_can_build_its_form(client, admin_headers, fields):
    info = client.get("/api/v1/customer/_info", headers=admin_headers).get_json()
    added = {c["name"]: c for c in info["add_columns"] if c.get("custom")}
    city = added[fields["city"]["name"]]
    assert city["label"] == "城市" and city["field_type"] == "select"
    assert [v["value"] for v in city["values"]] == ["杭州", "上海", "北京"]
    assert fields["staff"]["name"] in {c["name"] for c in info["edit_columns"]}
    assert info["filters"][fields["staff"]["name"]][0]["operator"] == "eq"
    assert {d["name"] for d in info["custom_fields"]} == {v["name"] for v in fields.values()}


def test_filters_and_sorting_on_custom_fields_are_sql_and_combine_with_scope_and_built_ins(client, admin_headers,
                                                                                           fields):
    city, staff, founded, tags = (fields[k]["name"] for k in ("city", "staff", "founded", "tags"))
    with client.application.app_context():
        seller = f.employee("小王")
        seller_id, seller_login = seller.id, seller.username
        db.session.remove()
    add(client, admin_headers, "杭州大厂", **{city: "杭州", staff: 900, founded: "2001-01-01", tags: ["重点"]})
    add(client, admin_headers, "杭州小店", **{city: "杭州", staff: 5})
    add(client, admin_headers, "上海公司", **{city: "上海", staff: 300, tags: ["重点", "老客户"]})
    mine = add(client, admin_headers, "小王的杭州客户", **{city: "杭州", staff: 50, "owner": seller_id})

    def get(q, headers=admin_headers):
        return client.get("/api/v1/customer/?q=" + prison.dumps(q), headers=headers)

    hangzhou = get({"filters": [{"col": city, "opr": "eq", "value": "杭州"}]})
    assert sorted(names(hangzhou)) == ["小王的杭州客户", "杭州大厂", "杭州小店"] and hangzhou.get_json()["count"] == 3
    ranged = get({"filters": [{"col": staff, "opr": "gte", "value": 50}, {"col": staff, "opr": "lte", "value": 900}]})
    assert sorted(names(ranged)) == ["上海公司", "小王的杭州客户", "杭州大厂"]
    both = get({"filters": [{"col": city, "opr": "eq", "value": "杭州"},
                            {"col": "company_name", "opr": "kw_customer", "value": "小"}]})
    assert sorted(names(both)) == ["小王的杭州客户", "杭州小店"]  # with the built-in keyword filter
    tagged = get({"filters": [{"col": tags, "opr": "has", "value": "老客户"}]})
    assert names(tagged) == ["上海公司"]
    by_staff = get({"order_column": staff, "order_direction": "desc"})
    assert names(by_staff) == ["杭州大厂", "上海公司", "小王的杭州客户", "杭州小店"]
    by_date = get({"order_column": founded, "order_direction": "asc"})
    assert names(by_date)[0] == "杭州大厂" and len(names(by_date)) == 4  # empty values last, none lost
    paged = get({"order_column": founded, "order_direction": "asc", "page": 1, "page_size": 2})
    assert len(names(paged)) == 2 and paged.get_json()["count"] == 4
    # the salesperson's scope applies on top: only their own record
    seller_headers = bearer(client, seller_login, f.PASSWORD)
    assert names(get({"filters": [{"col": city, "opr": "eq", "value": "杭州"}]}, seller_headers)) == ["小王的杭州客户"]
    assert client.get(f"/api/v1/customer/{mine}", headers=seller_headers).status_code == 200
    bad = get({"filters": [{"col": staff, "opr": "gte", "value": "很多"}]})
    assert bad.status_code == 400 and bad.get_json()["field"] == staff
    unsortable = get({"order_column": tags})
    assert unsortable.status_code == 400


def test_a_field_not_marked_filterable_is_no_filter(client, admin_headers):
    note = define(client, admin_headers, label="备忘", type="text", filterable=False)  # filterable is the default
    response = client.get("/api/v1/customer/?q=" + prison.dumps(
        {"filters": [{"col": note["name"], "opr": "eq", "value": "x"}]}), headers=admin_headers)
    assert response.status_code == 400 and response.get_json()["field"] == note["name"]


def test_export_has_the_custom_columns_and_honours_their_filter(client, admin_headers, fields):
    city, staff, tags = fields["city"]["name"], fields["staff"]["name"], fields["tags"]["name"]
    add(client, admin_headers, "杭州大厂", **{city: "杭州", staff: 900, tags: ["重点", "老客户"]})
    add(client, admin_headers, "上海公司", **{city: "上海"})
    response = client.get("/api/v1/customer/export?format=xlsx", headers=admin_headers)
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header = rows[0]
    assert header[-4:] == ("城市", "员工人数", "成立日期", "标签")
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["杭州大厂"][-4:] == ("杭州", 900, None, "重点、老客户")
    q = prison.dumps({"filters": [{"col": city, "opr": "eq", "value": "上海"}]})
    filtered = client.get(f"/api/v1/customer/export?format=csv&q={q}", headers=admin_headers).data.decode()
    assert "上海公司" in filtered and "杭州大厂" not in filtered


def test_hidden_fields_leave_the_api_but_keep_their_values(client, admin_headers, fields):
    staff = fields["staff"]
    pk = add(client, admin_headers, "甲公司", **{staff["name"]: 12})
    client.put(f"/api/v1/custom_field/{staff['id']}", json={"hidden": True}, headers=admin_headers)
    assert staff["name"] not in client.get(f"/api/v1/customer/{pk}", headers=admin_headers).get_json()["result"]
    refused = client.put(f"/api/v1/customer/{pk}", json={staff["name"]: 1}, headers=admin_headers)
    assert refused.status_code == 400
    client.put(f"/api/v1/custom_field/{staff['id']}", json={"hidden": False}, headers=admin_headers)
    assert client.get(f"/api/v1/customer/{pk}", headers=admin_headers).get_json()["result"][staff["name"]] == 12


def test_type_change_and_delete_through_the_api(client, admin_headers, fields):
    staff = fields["staff"]
    add(client, admin_headers, "甲公司", **{staff["name"]: 12})
    changed = client.put(f"/api/v1/custom_field/{staff['id']}", json={"type": "text"}, headers=admin_headers)
    assert changed.status_code == 400 and changed.get_json()["field"] == "type"
    asked = client.delete(f"/api/v1/custom_field/{staff['id']}", headers=admin_headers)
    assert asked.status_code == 409 and asked.get_json()["value_count"] == 1
    done = client.delete(f"/api/v1/custom_field/{staff['id']}?confirm=true", headers=admin_headers)
    assert done.status_code == 200 and done.get_json()["values_removed"] == 1
    assert client.get(f"/api/v1/custom_field/{staff['id']}", headers=admin_headers).status_code == 404


def test_every_module_of_the_issue_takes_custom_fields(client, admin_headers):
    with client.application.app_context():
        owner = f.admin()
        customer = f.customer(owner, "甲公司")
        customer_id = customer.id
        db.session.remove()
    contract = client.post("/api/v1/contract/", json={"customer": customer_id, "number": "HT-1", "name": "合同"},
                           headers=admin_headers).get_json()["id"]
    bodies = {"contact": {"customer": customer_id, "name": "张三"}, "product": {"code": "P1", "name": "坐席"},
              "contract": None, "invoice": {"contract": contract, "number": "FP-1", "amount": "10"}}
    for module, body in bodies.items():
        field = define(client, admin_headers, module=module, label="备用字段", type="text")
        if body is None:
            response = client.put(f"/api/v1/contract/{contract}", json={field["name"]: "值"}, headers=admin_headers)
            assert response.status_code == 200 and response.get_json()["result"][field["name"]] == "值"
            continue
        response = client.post(f"/api/v1/{module}/", json={**body, field["name"]: "值"}, headers=admin_headers)
        assert response.status_code == 201 and response.get_json()["result"][field["name"]] == "值", module
