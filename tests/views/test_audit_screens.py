"""The acts added to the audit trail (record create/edit, custom fields, field permissions, roles, accounts),
设置 → 审计日志 and a customer's 操作记录 tab, through the screens and the API."""
import json
import re

import prison
from sqlalchemy import select

from app.extensions import db
from custom_fields.models import FieldDefinition
from models.audit import AuditLog
from models.crm import Customer
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401


def entries(app, action=None, module=None):
    with app.app_context():
        query = select(AuditLog).order_by(AuditLog.id)
        if action:
            query = query.where(AuditLog.action == action)
        if module:
            query = query.where(AuditLog.module == module)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def changes(entry):
    return json.loads(entry.changes) if entry.changes else {}


def _seller(app, role="销售"):
    with app.app_context():
        person = f.employee(role=role)
        found = (person.id, person.username)
        db.session.remove()
    return found


def _custom_field(client, headers, label="城市"):
    response = client.post("/api/v1/custom_field/", json={"module": "customer", "label": label, "type": "text"},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_customer_added_and_edited_on_the_screens_keeps_before_and_after_with_the_mobile_masked(
        app, client, admin_headers):
    field = _custom_field(client, admin_headers)
    with app.app_context():
        key = db.session.get(FieldDefinition, field).key
    web_login(client)
    response = client.post("/customer/add", data={"company_name": "审计甲公司", "mobile": "13912345678",
                                                  f"cf_{key}": "杭州"})
    assert response.status_code == 302
    with app.app_context():
        pk = db.session.scalar(select(Customer.id).where(Customer.company_name == "审计甲公司"))
    created = entries(app, "create", "customer")[-1]
    assert created.record_ids == str(pk) and created.actor_name == "admin"
    assert changes(created)["company_name"] == [None, "审计甲公司"]
    assert changes(created)["mobile"] == [None, "139****5678"] and changes(created)[f"cf_{key}"] == [None, "杭州"]
    assert "13912345678" not in created.changes
    response = client.post(f"/customer/edit/{pk}", data={"company_name": "审计乙公司", "mobile": "13987654321",
                                                         f"cf_{key}": "上海"})
    assert response.status_code == 302
    updated = entries(app, "update", "customer")[-1]
    assert updated.record_ids == str(pk)
    assert changes(updated) == {"company_name": ["审计甲公司", "审计乙公司"], "mobile": ["139****5678", "139****4321"],
                                f"cf_{key}": ["杭州", "上海"]}
    assert "13987654321" not in updated.changes and updated.ip == "127.0.0.1"
    # saving an untouched form writes no entry
    client.post(f"/customer/edit/{pk}", data={"company_name": "审计乙公司", "mobile": "13987654321",
                                              f"cf_{key}": "上海"})
    assert len(entries(app, "update", "customer")) == 1


def test_a_record_created_and_changed_through_the_api_is_recorded(app, client, admin_headers):
    created = client.post("/api/v1/customer/", json={"company_name": "接口公司", "mobile": "13911112222"},
                          headers=admin_headers)
    pk = created.get_json()["id"]
    assert entries(app, "create", "customer")[-1].record_ids == str(pk)
    assert client.put(f"/api/v1/customer/{pk}", json={"address": "杭州市"}, headers=admin_headers).status_code == 200
    assert changes(entries(app, "update", "customer")[-1]) == {"address": [None, "杭州市"]}
    contact = client.post("/api/v1/contact/", json={"name": "王五", "customer": pk, "mobile": "13911113333"},
                          headers=admin_headers)
    assert contact.status_code == 201, contact.get_json()
    entry = entries(app, "create", "contact")[-1]
    assert entry.record_ids == str(contact.get_json()["id"]) and changes(entry)["customer"] == [None, f"#{pk}"]
    assert changes(entry)["mobile"] == [None, "139****3333"]


def test_a_refused_save_leaves_no_entry(app, client, admin_headers):
    client.post("/api/v1/customer/", json={"company_name": "坏号码", "mobile": "12345"}, headers=admin_headers)
    assert entries(app, "create") == []


def test_custom_field_create_change_reorder_and_delete_are_recorded(app, client, admin_headers):
    pk = _custom_field(client, admin_headers, "行业")
    created = entries(app, "custom_field_create")[-1]
    assert created.module == "custom_field" and created.record_ids == str(pk)
    assert changes(created)["label"] == [None, "行业"] and json.loads(created.detail)["module"] == "customer"
    web_login(client)  # the settings screen
    client.post(f"/custom-fields/field/{pk}/edit", data={"label": "所属行业", "type": "text", "required": "y",
                                                              "filterable": "y"})
    changed = entries(app, "custom_field_change")[-1]
    assert changes(changed) == {"label": ["行业", "所属行业"], "required": [False, True]}
    other = _custom_field(client, admin_headers, "规模")
    client.post("/custom-fields/customer/reorder", data={"order": f"{other},{pk}"})
    order = entries(app, "custom_field_change")[-1]
    assert changes(order) == {"order": [["所属行业", "规模"], ["规模", "所属行业"]]}
    assert client.delete(f"/api/v1/custom_field/{pk}", headers=admin_headers).status_code == 200
    deleted = entries(app, "custom_field_delete")[-1]
    assert deleted.record_ids == str(pk) and changes(deleted)["label"] == ["所属行业", None]


def test_field_permissions_and_role_changes_are_recorded(app, client, restore_roles):  # noqa: F811
    web_login(client)
    pk = int(client.post("/roles/new/", data={"name": "审计角色", "kind": "customer"}).location.split("/")[-3])
    assert changes(entries(app, "role_create")[-1])["name"] == [None, "审计角色"]
    form = {"perm": ["customer:view"], "data_scope": "department", "field:customer:mobile": "masked"}
    client.post(f"/roles/{pk}/permissions/", data=form)
    fields = entries(app, "field_permission_change")[-1]
    assert fields.record_ids == str(pk) and changes(fields) == {"fields": [{}, {"customer": {"mobile": "masked"}}]}
    role = entries(app, "role_change")[-1]
    assert changes(role)["data_scope"] == ["self", "department"] and "fields" not in changes(role)
    headers = bearer(client)
    assert client.delete(f"/api/v1/role/{pk}", headers=headers).status_code == 200
    assert entries(app, "role_delete")[-1].record_ids == str(pk)


def test_new_employee_and_password_reset_are_recorded_without_the_password(app, client, admin_headers):
    with app.app_context():
        department = f.department().id
        db.session.remove()
    body = {"name": "新员工", "mobile": "13700001111", "password": "pass-word-1", "department": department}
    created = client.post("/api/v1/employee/", json=body, headers=admin_headers)
    assert created.status_code == 201, created.get_json()
    pk = created.get_json()["id"]
    entry = [e for e in entries(app, "employee_change") if e.record_ids == str(pk)][-1]
    assert json.loads(entry.detail)["op"] == "create" and changes(entry)["login"] == [None, "137****1111"]
    reset = client.post(f"/api/v1/employee/{pk}/reset_password", json={"password": "another-pw-2"},
                        headers=admin_headers)
    assert reset.status_code == 200, reset.get_json()
    last = entries(app, "employee_change")[-1]
    assert json.loads(last.detail)["op"] == "reset_password"
    assert all("pass-word-1" not in (e.changes or "") + (e.detail or "") for e in entries(app))
    assert all("another-pw-2" not in (e.changes or "") + (e.detail or "") for e in entries(app))


# ---------------------------------------------------------------- 设置 → 审计日志

def test_the_audit_log_screen_filters_by_employee_act_module_and_date(app, client, admin_headers):
    seller, login = _seller(app)
    client.post("/login/", data={"username": login, "password": "wrong-pass"})
    client.post("/api/v1/customer/", json={"company_name": "筛选公司", "mobile": "13911114444"},
                headers=admin_headers)
    web_login(client)
    page = client.get("/audit-log/list/").get_data(as_text=True)
    assert "审计日志" in page and "登录失败" in page and "新建" in page and "客户管理" in page
    assert 'value="login_failed"' in page and "筛选公司" in page
    only_failed = client.get("/audit-log/list/?action=login_failed").get_data(as_text=True)
    assert 'data-action="login_failed"' in only_failed and 'data-action="create"' not in only_failed
    by_employee = client.get(f"/audit-log/list/?employee={seller}").get_data(as_text=True)
    assert 'data-action="login_failed"' in by_employee and 'data-action="create"' not in by_employee
    by_module = client.get("/audit-log/list/?module=customer").get_data(as_text=True)
    assert 'data-action="create"' in by_module and 'data-action="login_failed"' not in by_module
    with app.app_context():
        from app.stats_periods import local_today

        today = local_today().isoformat()
    assert 'data-action="create"' in client.get(f"/audit-log/list/?date_from={today}&date_to={today}").get_data(
        as_text=True)
    past = client.get("/audit-log/list/?date_from=2001-01-01&date_to=2001-01-31").get_data(as_text=True)
    assert "audit-empty" in past and 'data-action="create"' not in past


def test_the_audit_log_screen_refuses_bad_filters_in_chinese(client):
    web_login(client)
    for query in ("date_from=2024-13-45", "employee=abc", "action=<x>", "module=nope", "page=-1",
                  "date_from=2024-05-02&date_to=2024-05-01"):
        response = client.get(f"/audit-log/list/?{query}")
        assert response.status_code == 400, query
        assert 'id="audit-error"' in response.get_data(as_text=True)
    assert "请" in client.get("/audit-log/list/?date_from=x").get_data(as_text=True)


def test_the_audit_log_screen_pages_fifty_entries_newest_first(app, client):
    from app import audit

    with app.app_context():
        for n in range(120):
            audit.record("export", module="customer", actor_name="pager", detail={"rows": n})
        db.session.commit()
    web_login(client)
    first = client.get("/audit-log/list/?action=export").get_data(as_text=True)
    assert first.count('data-action="export"') == 50 and "第 1 / 3 页" in first
    assert first.index("</strong>: 119<") < first.index("</strong>: 118<")
    last = client.get("/audit-log/list/?action=export&page=3").get_data(as_text=True)
    assert last.count('data-action="export"') == 20 and "page=2" in last and "action=export" in last


def test_changes_are_escaped_on_the_screen(app, client, admin_headers):
    script = "<script>alert(1)</script>"
    pk = client.post("/api/v1/customer/", json={"company_name": script, "mobile": "13911115555"},
                     headers=admin_headers).get_json()["id"]
    web_login(client)
    for url in ("/audit-log/list/", f"/customer/show/{pk}"):
        page = client.get(url).get_data(as_text=True)
        assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_employee_without_the_console_right_gets_403_and_no_menu_entry(app, client):
    _seller_id, login = _seller(app, role="销售主管")
    web_login(client, login, f.PASSWORD)
    assert client.get("/audit-log/list/").status_code == 403
    assert "/audit-log/list/" not in client.get("/customer/list/").get_data(as_text=True)
    client.get("/logout/")
    web_login(client)
    assert "/audit-log/list/" in client.get("/customer/list/").get_data(as_text=True)


# ---------------------------------------------------------------- a customer's 操作记录

def _tab(page):
    return page[page.index('id="AuditTrail"'):page.index('id="Home"')]


def test_the_customer_detail_shows_its_own_entries_newest_first(app, client, admin_headers):
    seller, login = _seller(app)
    mine = client.post("/api/v1/customer/", json={"company_name": "我的公司", "mobile": "13911116666",
                                                 "owner": seller}, headers=admin_headers).get_json()["id"]
    other = client.post("/api/v1/customer/", json={"company_name": "别人公司", "mobile": "13911117777"},
                        headers=admin_headers).get_json()["id"]
    client.put(f"/api/v1/customer/{mine}", json={"address": "西湖区"}, headers=admin_headers)
    client.put(f"/api/v1/customer/{other}", json={"address": "不该出现"}, headers=admin_headers)
    web_login(client, login, f.PASSWORD)
    page = client.get(f"/customer/show/{mine}").get_data(as_text=True)
    assert "操作记录" in page and 'id="AuditTrail"' in page
    tab = _tab(page)
    assert "西湖区" in tab and "不该出现" not in tab
    assert tab.index('data-action="update"') < tab.index('data-action="create"')
    assert "139****6666" in tab and "13911116666" not in tab
    assert 'id="crm-audit-all"' not in tab  # the full trail is for the 控制台 right
    # out of scope: no page, no entries
    assert client.get(f"/customer/show/{other}").status_code in (302, 404)


def test_the_tab_leaves_out_fields_hidden_from_the_viewer(app, client, admin_headers, restore_roles):  # noqa: F811
    from app import roles as role_service

    with app.app_context():
        seller_role = app.appbuilder.sm.find_role("销售")
        matrix = role_service.read_matrix(seller_role.id)
        fields = {**matrix["fields"], "customer": {**matrix["fields"].get("customer", {}), "address": "hidden"}}
        role_service.write_matrix(seller_role.id, {"fields": fields})
        db.session.remove()
    seller, login = _seller(app)
    pk = client.post("/api/v1/customer/", json={"company_name": "隐藏字段公司", "mobile": "13911118888",
                                               "owner": seller}, headers=admin_headers).get_json()["id"]
    client.put(f"/api/v1/customer/{pk}", json={"address": "秘密地址", "note": "公开备注"}, headers=admin_headers)
    web_login(client, login, f.PASSWORD)
    tab = _tab(client.get(f"/customer/show/{pk}").get_data(as_text=True))
    assert "公开备注" in tab and "秘密地址" not in tab


def test_the_api_labels_the_new_acts_and_stays_read_only(app, client, admin_headers):
    client.post("/api/v1/customer/", json={"company_name": "标签公司", "mobile": "13911119999"},
                headers=admin_headers)
    q = prison.dumps({"filters": [{"col": "action", "opr": "eq", "value": "create"}]})
    listed = client.get(f"/api/v1/audit_log/?q={q}", headers=admin_headers).get_json()
    assert listed["count"] >= 1 and {(r["action"], r["action_label"]) for r in listed["result"]} == {("create", "新建")}
    pk = listed["result"][0]["id"]
    assert client.get(f"/api/v1/audit_log/{pk}", headers=admin_headers).get_json()["result"]["action_label"] == "新建"
    for method in ("post", "put", "patch", "delete"):
        url = "/api/v1/audit_log/" if method == "post" else f"/api/v1/audit_log/{pk}"
        assert getattr(client, method)(url, json={"action": "x"}, headers=admin_headers).status_code == 405
    _id, login = _seller(app)
    headers = bearer(client, login, f.PASSWORD)
    assert client.post("/api/v1/audit_log/", json={"action": "x"}, headers=headers).status_code in (403, 405)
    assert client.get("/api/v1/audit_log/", headers=headers).status_code == 403


def test_restore_and_lockout_lifted_have_chinese_labels(app):
    from models.audit import AUDIT_ACTIONS

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert str(AUDIT_ACTIONS["restore"]) == "恢复" and str(AUDIT_ACTIONS["lockout_lifted"]) == "解除锁定"


def test_a_bulk_transfer_shows_on_each_customers_tab_and_an_import_job_id_on_none(app, client, admin_headers):
    from app import audit

    seller, login = _seller(app)
    ids = [client.post("/api/v1/customer/", json={"company_name": f"批量{n}", "mobile": f"1391112000{n}"},
                       headers=admin_headers).get_json()["id"] for n in range(3)]
    assert client.post("/api/v1/customer/transfer", json={"ids": ids[:2], "owner": seller},
                       headers=admin_headers).status_code == 200
    with app.app_context():  # an import's record id is its job's, whatever customer has the same number
        audit.record("import", module="customer", record_ids=[ids[0]], actor_name="admin",
                     detail={"file_name": "不该出现.xlsx"})
        db.session.commit()
    web_login(client)
    for pk in ids[:2]:
        tab = _tab(client.get(f"/customer/show/{pk}").get_data(as_text=True))
        assert 'data-action="transfer"' in tab and "不该出现" not in tab
    assert 'data-action="transfer"' not in _tab(client.get(f"/customer/show/{ids[2]}").get_data(as_text=True))
    tab = _tab(client.get(f"/customer/show/{ids[1]}").get_data(as_text=True))
    link = re.search(r'href="([^"]+)" id="crm-audit-all"', tab).group(1).replace("&amp;", "&")
    full = client.get(link).get_data(as_text=True)
    assert 'data-action="transfer"' in full and 'data-action="create"' in full and "批量1" in full
    assert "批量0" not in full and "不该出现" not in full


def test_the_record_index_is_append_only_and_purged_with_its_entry(app):
    import datetime as dt

    import pytest

    from app import audit
    from models.audit import AuditLogRecord

    with app.app_context():
        old = audit.record("transfer", module="customer", record_ids=[7, 8], actor_name="old")
        old.at = dt.datetime.utcnow() - dt.timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
        audit.record("transfer", module="customer", record_ids=[8], actor_name="new")
        db.session.commit()
        row = db.session.scalars(select(AuditLogRecord).where(AuditLogRecord.record_id == 7)).one()
        row.record_id = 9
        with pytest.raises(audit.AppendOnly):
            db.session.flush()
        db.session.rollback()
        assert audit.purge() == 1
        assert sorted(db.session.scalars(select(AuditLogRecord.record_id))) == [8]
        db.session.remove()


def test_the_screen_reads_an_export_and_a_transfer_in_words(app, client, admin_headers):
    with app.app_context():
        seller = f.employee("小审")
        pk = f.customer(seller, "读法公司").id
        other = f.employee("小计")
        other_id = other.id
        db.session.remove()
    assert client.post("/api/v1/customer/transfer", json={"ids": [pk], "owner": other_id},
                       headers=admin_headers).status_code == 200
    web_login(client)
    assert "读法公司" in client.get("/customer/export/?format=csv&_flt_0_company_name=读法").get_data(as_text=True)
    page = client.get("/audit-log/list/").get_data(as_text=True)
    export = page[page.index('data-action="export"'):]
    export = export[:export.index("</tr>")]
    assert "行数</strong>: 1" in export and "公司名称" in export and "读法" in export and "CSV" in export
    transfer = page[page.index('data-action="transfer"'):]
    transfer = transfer[:transfer.index("</tr>")]
    assert "负责人</strong>" in transfer and "小审" in transfer and "小计" in transfer


def test_the_screen_reads_a_new_employees_gender_in_words(app, client, admin_headers):
    with app.app_context():
        department = f.department().id
        db.session.remove()
    body = {"name": "性别员", "mobile": "13700002222", "password": "pass-word-1", "department": department,
            "gender": "female"}
    assert client.post("/api/v1/employee/", json=body, headers=admin_headers).status_code == 201
    web_login(client)
    page = client.get("/audit-log/list/?action=employee_change").get_data(as_text=True)
    row = page[page.index('data-action="employee_change"'):]
    row = row[:row.index("</tr>")]
    assert "性别员" in row and "女" in row and "female" not in row
