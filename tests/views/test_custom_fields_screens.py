"""设置 → 自定义字段设置, and the fields on the generated screens: forms, detail, list, filters, export."""
import io
import json
import re

import openpyxl
import pytest

from app.extensions import db
from custom_fields import definitions, service, values
from custom_fields.models import FieldDefinition
from models.crm import Customer
from tests import factories as f
from tests.conftest import web_login


@pytest.fixture
def admin(client):
    web_login(client)
    return client


def field_id(app, label):
    with app.app_context():
        return db.session.query(FieldDefinition).filter_by(label=label).one().id


def new_field(client, module="customer", options=(), **data):
    form = {"label": "城市", "type": "text", "list_default": "y", "filterable": "y", **data}
    if options:
        form.update(option_id=[""] * len(options), option_label=list(options), option_state=["active"] * len(options))
    return client.post(f"/custom-fields/{module}/add", data=form, follow_redirects=True)


def test_the_settings_list_shows_five_modules_with_their_last_change(admin):
    page = admin.get("/custom-fields/").get_data(as_text=True)
    for label in ("客户", "联系人", "产品", "合同", "发票"):
        assert label in page
    assert page.count("编辑") >= 5 and page.count("预览") >= 5 and "尚未设置" in page
    new_field(admin, label="行业")
    page = admin.get("/custom-fields/").get_data(as_text=True)
    assert re.search(r"\d{4}-\d{2}-\d{2}更新", page)


def test_add_a_choice_field_then_edit_rename_and_retire_an_option(admin, app):
    page = new_field(admin, label="客户等级", type="select", options=("A", "B", "C")).get_data(as_text=True)
    assert "客户等级" in page and "已添加" in page
    pk = field_id(app, "客户等级")
    with app.app_context():
        ids = [o.id for o in db.session.get(FieldDefinition, pk).options]
    edit = admin.get(f"/custom-fields/field/{pk}/edit").get_data(as_text=True)
    assert 'value="B"' in edit
    admin.post(f"/custom-fields/field/{pk}/edit", data={
        "label": "客户等级", "type": "select", "list_default": "y", "filterable": "y",
        "option_id": [str(ids[2]), str(ids[0]), str(ids[1])], "option_label": ["C", "A（重要）", "B"],
        "option_state": ["active", "active", "retired"]}, follow_redirects=True)
    with app.app_context():
        d = definitions("customer")[0]
        assert [(o.label, o.retired) for o in d.options] == [("C", False), ("A（重要）", False), ("B", True)]


def test_a_refused_field_stays_on_the_form_with_the_reason(admin, app):
    page = new_field(admin, label="备注").get_data(as_text=True)  # 客户 has a built-in 备注
    assert "备注" in page and 'id="cf-field-form"' in page
    page = new_field(admin, label="等级", type="select").get_data(as_text=True)
    assert "至少" in page  # a choice field needs an option
    with app.app_context():
        assert db.session.query(FieldDefinition).count() == 0


def test_the_type_is_locked_once_values_exist(admin, app):
    new_field(admin, label="员工人数", type="integer")
    pk = field_id(app, "员工人数")
    with app.app_context():
        customer = f.customer(f.admin(), "甲公司")
        values.save_record("customer", customer.id, {f"cf_f{pk}": 5}, creating=False)
        db.session.commit()
    page = admin.get(f"/custom-fields/field/{pk}/edit").get_data(as_text=True)
    assert 'id="cf-type-locked"' in page and "1 条记录" in page
    page = admin.post(f"/custom-fields/field/{pk}/edit", data={"label": "员工人数", "type": "text"},
                      follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FieldDefinition, pk).type == "integer"


def test_reorder_hide_and_delete_with_confirmation(admin, app):
    for label in ("甲", "乙", "丙"):
        new_field(admin, label=label)
    a, b, c = (field_id(app, label) for label in ("甲", "乙", "丙"))
    admin.post("/custom-fields/customer/reorder", data={"order": f"{c},{a},{b}"})
    admin.post(f"/custom-fields/field/{a}/move/down")
    admin.post(f"/custom-fields/field/{b}/toggle")
    with app.app_context():
        assert [d.label for d in definitions("customer", include_hidden=True)] == ["丙", "乙", "甲"]
        assert [d.label for d in definitions("customer")] == ["丙", "甲"]
        customer = f.customer(f.admin(), "甲公司")
        values.save_record("customer", customer.id, {f"cf_f{c}": "值"}, creating=False)
        db.session.commit()
    page = admin.get(f"/custom-fields/field/{c}/delete").get_data(as_text=True)
    assert "1 条记录" in page
    page = admin.post(f"/custom-fields/field/{c}/delete", data={}, follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(FieldDefinition, c) is not None  # not confirmed: nothing deleted
    admin.post(f"/custom-fields/field/{c}/delete", data={"confirm": "1"}, follow_redirects=True)
    with app.app_context():
        assert db.session.get(FieldDefinition, c) is None


def test_preview_renders_the_add_form_as_staff_see_it(admin):
    new_field(admin, label="客户等级", type="select", options=("A", "B"), help_text="按年采购额")
    page = admin.get("/custom-fields/customer/preview").get_data(as_text=True)
    assert 'name="company_name"' in page and "客户等级" in page and "按年采购额" in page and ">A<" in page
    assert 'id="cf-preview-note"' in page


def test_staff_need_the_settings_right(client, app):
    with app.app_context():
        login = f.employee("小李").username
        db.session.remove()
    web_login(client, login, f.PASSWORD)
    assert client.get("/custom-fields/").status_code in (302, 403)
    client.post("/custom-fields/customer/add", data={"label": "偷加", "type": "text"})
    with app.app_context():
        assert db.session.query(FieldDefinition).count() == 0


def test_the_record_screens_show_fill_check_list_filter_sort_and_export_the_fields(admin, app):
    with app.app_context():
        level = service.create_field("customer", {"label": "客户等级", "type": "select", "options": ["A", "B"],
                                                  "filterable": True, "list_default": True, "required": True})
        staff = service.create_field("customer", {"label": "员工人数", "type": "integer", "filterable": True})
        secret = service.create_field("customer", {"label": "内部备忘", "type": "text"})
        level_name, staff_name, a_id = f"cf_{level.key}", f"cf_{staff.key}", level.options[0].id
        b_id = level.options[1].id
        secret_name = f"cf_{secret.key}"
        me = str(f.admin().id)
    form = admin.get("/customer/add").get_data(as_text=True)
    assert f'name="{level_name}"' in form and f'name="{staff_name}"' in form
    # refused values show under their fields, all at once, and nothing is saved
    page = admin.post("/customer/add", data={"company_name": "甲公司", "mobile": "13966640001", level_name: "", staff_name: "很多"})
    text = page.get_data(as_text=True)
    assert "客户等级不能为空" in text and "请输入整数" in text
    with app.app_context():
        assert db.session.query(Customer).count() == 0
    admin.post("/customer/add", data={"company_name": "甲公司", "mobile": "13966640001", level_name: str(a_id), staff_name: "120", "owner": me})
    admin.post("/customer/add", data={"company_name": "乙公司", "mobile": "13966640002", level_name: str(b_id), staff_name: "8", "owner": me})
    with app.app_context():
        first = db.session.query(Customer).filter_by(company_name="甲公司").one().id
    edit = admin.get(f"/customer/edit/{first}").get_data(as_text=True)
    assert 'value="120"' in edit
    admin.post(f"/customer/edit/{first}", data={"company_name": "甲公司", "mobile": "13966640001", level_name: str(a_id), staff_name: "121",
                                                secret_name: "别外传"})
    show = admin.get(f"/customer/show/{first}").get_data(as_text=True)
    assert "员工人数" in show and "121" in show and "别外传" in show
    listed = admin.get("/customer/list/").get_data(as_text=True)
    assert "客户等级" in listed and "cf-filter-panel" in listed
    assert json.dumps("内部备忘") in listed  # not shown by default: starts hidden in the column chooser
    filtered = admin.get(f"/customer/list/?{level_name}={b_id}").get_data(as_text=True)
    assert "乙公司" in filtered and "甲公司" not in filtered
    ranged = admin.get(f"/customer/list/?{staff_name}__gte=100").get_data(as_text=True)
    assert "甲公司" in ranged and "乙公司" not in ranged
    ordered = admin.get(f"/customer/list/?_oc_CustomerView={staff_name}&_od_CustomerView=asc").get_data(as_text=True)
    assert ordered.index("乙公司") < ordered.index("甲公司")
    bad = admin.get(f"/customer/list/?{staff_name}__gte=abc").get_data(as_text=True)
    assert "请输入整数" in bad
    export = admin.get(f"/customer/export/?format=xlsx&{level_name}={a_id}")
    rows = list(openpyxl.load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][-3:] == ("客户等级", "员工人数", "内部备忘") and [r[0] for r in rows[1:]] == ["甲公司"]
    assert rows[1][-3:] == ("A", 121, "别外传")
