"""Field permissions in the import: an importer who cannot see a field cannot import it. The template (screen
and API) leaves a hidden field out, custom fields too; a file with such a column is refused as an unexpected
column until it is mapped away, and then imports without it; a module whose key (a customer's 手机) is hidden
cannot be imported (403, Chinese); an overwrite leaves the fields the importer may not edit (read-only) as they
were. The administrator's template keeps every column."""
from __future__ import annotations

import io
import json

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.extensions import db
from models.crm import Customer
from tests import factories as f
from tests.conftest import bearer
from tests.importing.helpers import read_errors, run, upload, xlsx
from tests.rolefixtures import SECRET_MOBILE, person_with_fields
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from tests.views.test_sessions import form_login, token_of

pytestmark = pytest.mark.usefixtures("restore_roles")

IMPORT = {"customer": ["import", "edit"]}
REFUSAL = "您的角色看不到字段手机号，不能导入客户"


@pytest.fixture
def field(app):
    """A custom text field of customers: its label."""
    admin = bearer(app.test_client())
    created = app.test_client().post("/api/v1/custom_field/", json={"module": "customer", "label": "内部备注",
                                                                     "type": "text"}, headers=admin)
    assert created.status_code == 201, created.get_json()
    return "cf_" + created.get_json()["key"]


@pytest.fixture
def importer(app, field):
    rules = {"customer": {"contact_name": "hidden", field: "hidden", "note": "read_only"}}
    return person_with_fields(app, rules, "导入", rights=IMPORT)


def _header(response) -> list[str]:
    assert response.status_code == 200, response.data[:300]
    return [str(cell) for cell in CalamineWorkbook.from_filelike(io.BytesIO(response.data))
            .get_sheet_by_index(0).to_python()[0]]


def _customer(app, mobile):
    with app.app_context():
        row = db.session.scalars(select(Customer).where(Customer.mobile == mobile)).one_or_none()
        values = None if row is None else (row.company_name, row.contact_name, row.note)
        db.session.remove()
    return values


def test_the_template_leaves_hidden_fields_out(app, client, importer):
    headers = bearer(client, importer["login"], f.PASSWORD)
    header = _header(client.get("/api/v1/customer/import/template", headers=headers))
    assert "公司名称" in header and "*手机号" in header and "备注" in header  # read-only: a new record's to fill in
    assert "联系人" not in header and "内部备注" not in header
    full = _header(app.test_client().get("/api/v1/customer/import/template", headers=bearer(app.test_client())))
    assert "联系人" in full and "内部备注" in full


def test_a_hidden_column_in_the_file_is_refused_then_mapped_away(app, client, importer):
    headers = bearer(client, importer["login"], f.PASSWORD)
    file = xlsx([["导入公司", "偷偷写的联系人", "13600000001"]], header=["公司名称", "联系人", "*手机号"])
    refused = upload(client, file, headers=headers)
    body = refused.get_json()
    assert refused.status_code == 400 and "联系人" in body["message"], body
    assert "联系人" not in body["template"] and "内部备注" not in body["template"]
    mapping = {"公司名称": "公司名称", "联系人": None, "*手机号": "*手机号"}
    job = run(client, file, headers, mapping=json.dumps(mapping, ensure_ascii=False))
    assert job["imported"] == 1, job
    assert _customer(app, "13600000001") == ("导入公司", None, None)


def test_an_overwrite_keeps_what_the_importer_may_not_edit(app, client, importer):
    with app.app_context():
        secret = db.session.get(Customer, importer["secret"])
        secret.note = "原来的备注"
        db.session.commit()
        db.session.remove()
    headers = bearer(client, importer["login"], f.PASSWORD)
    file = xlsx([["改过的名字", SECRET_MOBILE, "改过的备注"]], header=["公司名称", "*手机号", "备注"])
    mapping = {name: name for name in ("公司名称", "*手机号", "备注")}
    job = run(client, file, headers, duplicate="overwrite", mapping=json.dumps(mapping, ensure_ascii=False))
    assert job["overwritten"] == 1, job
    assert _customer(app, SECRET_MOBILE) == ("改过的名字", "张三", "原来的备注")


def test_a_module_whose_key_is_hidden_cannot_be_imported(app, csrf, client):
    ids = person_with_fields(app, {"customer": {"mobile": "hidden"}}, "导入无号", rights=IMPORT)
    api = app.test_client()
    headers = bearer(api, ids["login"], f.PASSWORD)
    template = api.get("/api/v1/customer/import/template", headers=headers)
    assert template.status_code == 403 and REFUSAL in template.get_json()["message"]
    started = upload(api, xlsx([["公司", None, "13600000002"]]), headers=headers)
    assert started.status_code == 403 and REFUSAL in started.get_json()["message"]
    form_login(client, ids["login"], f.PASSWORD)
    page = client.get("/import/customer/template")
    assert page.status_code == 403 and REFUSAL in page.get_data(as_text=True)
    token = token_of(client, "/customer/list/")
    posted = client.post("/import/customer/", data={"file": (io.BytesIO(xlsx([["公司", None, "13600000002"]])),
                                                             "客户.xlsx"), "duplicate": "skip", "csrf_token": token},
                         content_type="multipart/form-data")
    assert posted.status_code == 403 and REFUSAL in posted.get_json()["message"]
    assert _customer(app, "13600000002") is None


def test_the_error_workbook_has_only_the_columns_the_importer_may_see(app, client, importer):
    headers = bearer(client, importer["login"], f.PASSWORD)
    file = xlsx([["公司", "不是号码"]], header=["公司名称", "*手机号"])
    mapping = {"公司名称": "公司名称", "*手机号": "*手机号"}
    job = run(client, file, headers, mapping=json.dumps(mapping, ensure_ascii=False))
    assert job["failed"] == 1, job
    header = [str(cell) for cell in read_errors(client, job["id"], headers)[0]]
    assert "公司名称" in header and "联系人" not in header and "内部备注" not in header


@pytest.mark.parametrize("rules, found", [({"company_name": "hidden", "mobile": "hidden"}, 0),
                                          ({"company_name": "hidden", "mobile": "masked"}, 0),
                                          ({"mobile": "hidden"}, 1), ({}, 2)])
def test_a_contact_import_finds_its_customer_only_by_the_fields_the_importer_may_search(app, client, rules, found):
    """A contact's *客户 names the customer by mobile or company name: a lookup like a picker's, so a hidden or
    masked field finds nothing (else the import would tell which name or number a customer has)."""
    ids = person_with_fields(app, {"customer": rules}, f"联系人导入{found}{len(rules)}", rights={"contact": ["import"]})
    headers = bearer(client, ids["login"], f.PASSWORD)
    header = _header(client.get("/api/v1/contact/import/template", headers=headers))
    rows = [[SECRET_MOBILE, "王五", "13100000011"], ["保密甲公司", "赵六", "13100000012"]]
    job = run(client, xlsx(rows, header=header), headers, module="contact", name="联系人.xlsx")
    assert (job["imported"], job["failed"]) == (found, 2 - found), job
    if found < 2:
        reasons = " ".join(str(row[0]) for row in read_errors(client, job["id"], headers)[1:])
        assert "不存在" in reasons


def test_a_hidden_required_column_refuses_the_import(app, client):
    """A contact cannot be made without its 客户: a role that cannot see a contact's 客户 cannot import contacts."""
    ids = person_with_fields(app, {"contact": {"customer": "hidden"}}, "联系人无客户", rights={"contact": ["import"]})
    headers = bearer(client, ids["login"], f.PASSWORD)
    template = client.get("/api/v1/contact/import/template", headers=headers)
    assert template.status_code == 403 and "您的角色看不到字段客户，不能导入联系人" in template.get_json()["message"]
    started = upload(client, xlsx([["王五", "13100000011"]], header=["*姓名", "*手机号"]), headers=headers,
                     module="contact")
    assert started.status_code == 403
