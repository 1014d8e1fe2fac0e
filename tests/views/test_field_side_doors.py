"""Attack tests: a field a role cannot see (hidden) or sees only in part (masked) cannot be read back
through a side door — the search box, the built-in and custom filters, sorting, the record pickers, the
columns and exports of other modules that name the record, the pool. Each attack is tried through the
screens (session cookie) and the API, the way someone would try to rebuild a hidden mobile number one
request at a time.

The rule chosen for a masked field: it is not searchable, filterable or sortable at all, not even by an
exact full value (138****5678 leaves four digits unknown: 10,000 exact searches would find them)."""
import csv
import io

import prison
import pytest

from app import roles as role_service
from app.extensions import db
from models.crm import Contact
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import SECRET_MOBILE, SECRET_NAME, leaks, person_with_fields
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


@pytest.fixture
def hidden(app):
    return person_with_fields(app, {"customer": {"mobile": "hidden", "company_name": "hidden"}}, "隐")


@pytest.fixture
def masked(app):
    return person_with_fields(app, {"customer": {"mobile": "masked"}}, "掩")


def _kw(value, op="kw_customer", col="company_name", **extra):
    return prison.dumps({"filters": [{"col": col, "opr": op, "value": value}], **extra})


def _api_names(client, headers, url):
    body = client.get(url, headers=headers).get_json()
    return {row["contact_name"] for row in body["result"]}


def _probes(number: str):
    """What an attacker types to rebuild the number: each growing prefix, the whole, a near miss."""
    return [number[:n] for n in range(3, 12)] + [number[:-1] + "0"]


@pytest.mark.parametrize("who", ["hidden", "masked"])
def test_the_search_box_does_not_rebuild_a_protected_mobile(client, request, who):
    ids = request.getfixturevalue(who)
    headers = bearer(client, ids["login"], f.PASSWORD)
    for probe in _probes(SECRET_MOBILE):
        assert _api_names(client, headers, f"/api/v1/customer/?q={_kw(probe)}") == set(), probe
    # the visible field still searches
    assert _api_names(client, headers, f"/api/v1/customer/?q={_kw('张')}") == {"张三"}
    web_login(client, ids["login"], f.PASSWORD)
    for probe in (SECRET_MOBILE[:3], SECRET_MOBILE[:7], SECRET_MOBILE):
        page = client.get(f"/customer/list/?_flt_0_company_name={probe}").get_data(as_text=True)
        assert "张三" not in page and "李四" not in page, probe
    assert "张三" in client.get("/customer/list/?_flt_0_company_name=张").get_data(as_text=True)


def test_the_search_box_does_not_match_a_hidden_company_name(client, hidden):
    headers = bearer(client, hidden["login"], f.PASSWORD)
    for probe in ("保", "保密", SECRET_NAME):
        assert _api_names(client, headers, f"/api/v1/customer/?q={_kw(probe)}") == set()
    web_login(client, hidden["login"], f.PASSWORD)
    page = client.get("/customer/list/?_flt_0_company_name=保密").get_data(as_text=True)
    assert "张三" not in page


def test_filters_on_a_hidden_field_are_refused_or_ignored(client, hidden):
    headers = bearer(client, hidden["login"], f.PASSWORD)
    for op in ("sw", "eq", "ct", "ew", "nsw", "neq"):
        response = client.get(f"/api/v1/customer/?q={_kw('保密', op=op)}", headers=headers)
        assert response.status_code == 400, (op, response.get_json())
        assert "保密" not in response.get_data(as_text=True).replace("'保密'", "")
    # the export takes the same filters
    assert client.get(f"/api/v1/customer/export?format=csv&q={_kw('保密', op='sw')}",
                      headers=headers).status_code == 400
    web_login(client, hidden["login"], f.PASSWORD)
    everyone = client.get("/customer/list/").get_data(as_text=True)
    assert "张三" in everyone and "李四" in everyone
    for index in range(1, 8):  # every string filter FAB offers on the column: ignored, the list stays whole
        for value in ("保密", "普通"):
            page = client.get(f"/customer/list/?_flt_{index}_company_name={value}").get_data(as_text=True)
            assert "张三" in page and "李四" in page, (index, value)
    exported = client.get("/customer/export/?format=csv&_flt_1_company_name=普通").get_data(as_text=True)
    assert "张三" in exported and "李四" in exported


def test_sorting_on_a_hidden_field_is_refused_or_ignored(client, hidden):
    headers = bearer(client, hidden["login"], f.PASSWORD)
    for direction in ("asc", "desc"):
        q = prison.dumps({"order_column": "company_name", "order_direction": direction})
        assert client.get(f"/api/v1/customer/?q={q}", headers=headers).status_code == 400
    web_login(client, hidden["login"], f.PASSWORD)
    orders = []
    for direction in ("asc", "desc"):
        page = client.get(f"/customer/list/?_oc_CustomerView=company_name&_od_CustomerView={direction}")
        text = page.get_data(as_text=True)
        orders.append(text.index("张三") < text.index("李四"))
    assert orders[0] == orders[1]  # the same order both ways: the hidden names decide nothing
    assert "_oc_CustomerView=company_name" not in client.get("/customer/list/").get_data(as_text=True)


def test_a_picker_neither_shows_nor_matches_a_hidden_name(client, hidden):
    web_login(client, hidden["login"], f.PASSWORD)
    found = client.get("/contact/lookup/customer/?q=").get_json()["results"]
    assert {row["id"] for row in found} >= {hidden["secret"], hidden["plain"]}
    assert all(row["text"] == f"#{row['id']}" for row in found)
    assert client.get("/contact/lookup/customer/?q=保密").get_json()["results"] == []
    assert client.get(f"/contact/lookup/customer/?q={SECRET_MOBILE}").get_json()["results"] == []
    assert [r["id"] for r in client.get("/contact/lookup/customer/?q=张三").get_json()["results"]] == [
        hidden["secret"]]


def test_other_modules_do_not_show_a_hidden_customer_name(client, hidden):
    """The contact list's 客户 column, its detail, edit form, related tab and exports."""
    web_login(client, hidden["login"], f.PASSWORD)
    pages = {url: client.get(url) for url in ("/contact/list/", f"/contact/show/{hidden['contact']}",
                                              f"/contact/edit/{hidden['contact']}",
                                              f"/customer/show/{hidden['secret']}",
                                              "/contact/export/?format=csv")}
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert not leaks(response.get_data(as_text=True), SECRET_NAME), url
    assert "联系人甲" in pages["/contact/list/"].get_data(as_text=True)
    assert f"#{hidden['secret']}" in pages["/contact/list/"].get_data(as_text=True)
    headers = bearer(client, hidden["login"], f.PASSWORD)
    exported = client.get("/api/v1/contact/export?format=csv", headers=headers).data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [f"#{hidden['secret']}"] == [cell for cell in rows[1] if cell.startswith("#")]
    assert SECRET_NAME not in exported


def test_the_pool_follows_the_customers_field_rules(client, app):
    with app.app_context():
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "公海受限")
        role_service.write_matrix(role.id, {"fields": {"customer": {"company_name": "hidden", "mobile": "masked"}}})
        person = f.employee("公海受限员工", role=role.name)
        pooled = f.customer(None, "公海丙公司", "13700001111", contact_name="王五")
        login, pk = person.username, pooled.id
        db.session.remove()
    headers = bearer(client, login, f.PASSWORD)
    listed = client.get("/api/v1/pool/", headers=headers).get_json()["result"]
    assert listed and "company_name" not in listed[0] and listed[0]["mobile"] == "137****1111"
    shown = client.get(f"/api/v1/pool/{pk}", headers=headers).get_json()["result"]
    assert "company_name" not in shown and shown["mobile"] == "137****1111"
    for probe in ("公海", "1370000", "13700001111"):
        assert client.get(f"/api/v1/pool/?q={_kw(probe)}", headers=headers).get_json()["count"] == 0, probe
    assert client.get(f"/api/v1/pool/?q={_kw('公海', op='sw')}", headers=headers).status_code == 400
    assert client.get(f"/api/v1/pool/?q={_kw('王五')}", headers=headers).get_json()["count"] == 1
    text = client.get("/api/v1/pool/export?format=csv", headers=headers).data.decode("utf-8")
    assert "公海丙公司" not in text and "13700001111" not in text and "137****1111" in text
    web_login(client, login, f.PASSWORD)
    for url in ("/pool/list/", f"/pool/show/{pk}", "/pool/list/?_flt_0_company_name=公海"):
        page = client.get(url).get_data(as_text=True)
        assert not leaks(page, "公海丙公司") and "13700001111" not in page, url


def test_custom_fields_masked_or_hidden_cannot_be_searched_filtered_or_sorted(client, app, admin_headers):
    for label, kind in (("备用手机", "mobile"), ("内部评级", "integer")):
        created = client.post("/api/v1/custom_field/", json={"module": "customer", "label": label, "type": kind,
                                                            "filterable": True}, headers=admin_headers)
        assert created.status_code == 201, created.get_json()
    keys = {row["label"]: "cf_" + row["key"] for row in
            client.get("/api/v1/custom_field/", headers=admin_headers).get_json()["result"]}
    phone, grade = keys["备用手机"], keys["内部评级"]
    ids = person_with_fields(app, {"customer": {phone: "masked", grade: "hidden"}}, "自定义")
    assert client.put(f"/api/v1/customer/{ids['secret']}", json={phone: "13600001234", grade: 9},
                      headers=admin_headers).status_code == 200
    assert client.put(f"/api/v1/customer/{ids['plain']}", json={phone: "13600009999", grade: 1},
                      headers=admin_headers).status_code == 200
    headers = bearer(client, ids["login"], f.PASSWORD)
    for column, op, value in ((phone, "eq", "13600001234"), (phone, "gte", "13600001000"),
                              (phone, "lte", "13600005000"), (grade, "gte", 5), (grade, "eq", 9)):
        q = prison.dumps({"filters": [{"col": column, "opr": op, "value": value}]})
        assert client.get(f"/api/v1/customer/?q={q}", headers=headers).status_code == 400, (column, op)
        assert client.get(f"/api/v1/customer/export?format=csv&q={q}", headers=headers).status_code == 400
    for column in (phone, grade):
        q = prison.dumps({"order_column": column, "order_direction": "asc"})
        assert client.get(f"/api/v1/customer/?q={q}", headers=headers).status_code == 400, column
    web_login(client, ids["login"], f.PASSWORD)
    for args in (f"{phone}=13600001234", f"{phone}__gte=13600001000&{phone}__lte=13600005000", f"{grade}__gte=5",
                 f"{grade}=9"):
        page = client.get(f"/customer/list/?{args}").get_data(as_text=True)
        assert "张三" in page and "李四" in page, args
        exported = client.get(f"/customer/export/?format=csv&{args}").get_data(as_text=True)
        assert "张三" in exported and "李四" in exported, args
    orders = []
    for direction in ("asc", "desc"):
        text = client.get(f"/customer/list/?_oc_CustomerView={phone}&_od_CustomerView={direction}").get_data(
            as_text=True)
        orders.append(text.index("张三") < text.index("李四"))
    assert orders[0] == orders[1]


def test_a_hidden_or_masked_custom_field_does_not_break_the_forms(client, app, admin_headers):
    """Issue 8.5: 'None' has no attribute 'label' on /customer/add and /customer/edit/<id>."""
    for label, kind in (("隐藏备注", "text"), ("掩码手机", "mobile")):
        assert client.post("/api/v1/custom_field/", json={"module": "customer", "label": label, "type": kind},
                           headers=admin_headers).status_code == 201
    keys = {row["label"]: "cf_" + row["key"] for row in
            client.get("/api/v1/custom_field/", headers=admin_headers).get_json()["result"]}
    ids = person_with_fields(app, {"customer": {keys["隐藏备注"]: "hidden", keys["掩码手机"]: "masked"}}, "表单")
    assert client.put(f"/api/v1/customer/{ids['secret']}", json={keys["隐藏备注"]: "机密内容",
                                                                keys["掩码手机"]: "13600001234"},
                      headers=admin_headers).status_code == 200
    web_login(client, ids["login"], f.PASSWORD)
    add = client.get("/customer/add")
    assert add.status_code == 200
    assert f'name="{keys["隐藏备注"]}"' not in add.get_data(as_text=True)
    assert f'name="{keys["掩码手机"]}"' in add.get_data(as_text=True)  # typing a new number discloses nothing
    edit = client.get(f"/customer/edit/{ids['secret']}")
    text = edit.get_data(as_text=True)
    assert edit.status_code == 200 and "机密内容" not in text and "13600001234" not in text
    saved = client.post(f"/customer/edit/{ids['secret']}", data={"company_name": SECRET_NAME, "contact_name": "张三改",
                                                                "mobile": SECRET_MOBILE})
    assert saved.status_code == 302
    created = client.post("/customer/add", data={"company_name": "新公司", "mobile": "13500009999",
                                                 keys["掩码手机"]: "13600007777"})
    assert created.status_code == 302
    fresh = app.test_client()  # the session cookie would win over the token
    admin_row = fresh.get(f"/api/v1/customer/{ids['secret']}", headers=admin_headers).get_json()["result"]
    assert admin_row[keys["隐藏备注"]] == "机密内容" and admin_row[keys["掩码手机"]] == "13600001234"
    assert admin_row["contact_name"] == "张三改"


def test_info_offers_no_hidden_field(client, hidden):
    headers = bearer(client, hidden["login"], f.PASSWORD)
    info = client.get("/api/v1/customer/_info", headers=headers).get_json()
    assert {"company_name", "mobile"}.isdisjoint(c["name"] for c in info["add_columns"] + info["edit_columns"])
    assert [o["operator"] for o in info["filters"]["company_name"]] == ["kw_customer"]  # the search box only


def test_info_offers_a_masked_field_only_for_a_new_record(client, masked):
    headers = bearer(client, masked["login"], f.PASSWORD)
    info = client.get("/api/v1/customer/_info", headers=headers).get_json()
    assert "mobile" in {c["name"] for c in info["add_columns"]}  # a new number may be typed
    assert "mobile" not in {c["name"] for c in info["edit_columns"]}


def test_a_hidden_relationship_cannot_be_filtered_on_but_the_detail_tab_keeps_its_records(client, app):
    """A role that hides a contact's 客户: the contact list ignores ?_flt_0_customer= (it would tell which customer
    a contact belongs to), while a customer's detail still lists only its own contacts in its tab."""
    with app.app_context():
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "联系人不见客户")
        role_service.write_matrix(role.id, {"fields": {"contact": {"customer": "hidden"}}})
        person = f.employee("不见客户的人", role=role.name)
        first, second = f.customer(person, "第一家"), f.customer(person, "第二家")
        db.session.add_all([Contact(customer_id=first.id, name="第一家的人", owner_id=person.id),
                            Contact(customer_id=second.id, name="第二家的人", owner_id=person.id)])
        db.session.commit()
        login, first_id = person.username, first.id
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    shown = client.get(f"/customer/show/{first_id}").get_data(as_text=True)
    assert "第一家的人" in shown and "第二家的人" not in shown
    listed = client.get(f"/contact/list/?_flt_0_customer={first_id}").get_data(as_text=True)
    assert "第一家的人" in listed and "第二家的人" in listed
    headers = bearer(app.test_client(), login, f.PASSWORD)
    q = prison.dumps({"filters": [{"col": "customer", "opr": "rel_o_m", "value": first_id}]})
    assert app.test_client().get(f"/api/v1/contact/?q={q}", headers=headers).status_code == 400
