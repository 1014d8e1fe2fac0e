"""Duplicates, owners, scope, mapping, dry run, undo, the error workbook round trip, other modules, two
imports at once, and the screen path (session cookie) of the dialog."""
from __future__ import annotations

import io
import json
import threading

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from models.crm import Contact, Customer, FollowUp, OwnerHistory
from models.sales import Product
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.importing.helpers import read_errors, run, upload, wait, xlsx


@pytest.fixture
def team(app):
    """A manager (本人及下属 via 销售主管 with the 导入 right added), a seller under them, a stranger."""
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role("销售主管")
        added = []
        for pair in (("can_import", "customer"), ("can_edit", "customer")):
            pv = sm.find_permission_view_menu(*pair)
            if pv not in role.permissions:
                sm.add_permission_role(role, pv)
                added.append(pair)
        db.session.commit()
        dept = f.department("一部")
        boss = f.employee("主管", dept, role="销售主管")
        seller = f.employee("销售甲", dept, manager=boss)
        stranger = f.employee("外人", f.department("二部"))
        mine = f.customer(seller, "下属的客户", "13900000001")
        theirs = f.customer(stranger, "别人的客户", "13900000002")
        pooled = f.customer(None, "公海客户", "13900000003")
        ids = dict(boss=boss.id, seller=seller.id, stranger=stranger.id, boss_login=boss.username,
                   mine=mine.id, theirs=theirs.id, pooled=pooled.id)
        db.session.remove()
    yield ids
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role("销售主管")
        for pair in added:  # only what this fixture added: the built-in role keeps its own rights
            sm.del_permission_role(role, sm.find_permission_view_menu(*pair))
        db.session.commit()


def _customer(app, mobile):
    with app.app_context():
        row = db.session.execute(select(Customer.company_name, Customer.owner_id, Customer.address)
                                 .where(Customer.mobile == mobile)).one_or_none()
        db.session.remove()
        return row


def test_skip_vs_overwrite_within_scope_and_the_refusal_outside(app, client, team):
    headers = bearer(client, team["boss_login"], f.PASSWORD)
    rows = [["改名的下属客户", None, "13900000001", None, None, None, "新地址"],
            ["改名的别人客户", None, "13900000002"], ["改名的公海客户", None, "13900000003"],
            ["新客户", None, "13900000004"]]
    skipped = run(client, xlsx(rows), headers, duplicate="skip", owner=str(team["seller"]))
    assert (skipped["imported"], skipped["skipped"], skipped["overwritten"], skipped["failed"]) == (1, 3, 0, 0)
    assert _customer(app, "13900000001").company_name == "下属的客户"
    assert _customer(app, "13900000004").owner_id == team["seller"]
    rows[3][0] = "新客户改"
    over = run(client, xlsx(rows), headers, duplicate="overwrite")
    # the seller's customer is in the boss's scope; the stranger's is not; the pool is not theirs to edit
    assert (over["overwritten"], over["failed"], over["imported"], over["skipped"]) == (3, 1, 0, 0), over
    assert _customer(app, "13900000001").company_name == "改名的下属客户"
    assert _customer(app, "13900000001").address == "新地址"
    assert _customer(app, "13900000001").owner_id == team["seller"]  # overwrite never moves the owner
    assert _customer(app, "13900000002").company_name == "别人的客户"
    reasons = [r[0] for r in read_errors(client, over["id"], headers)[1:]]
    assert reasons == ["无权覆盖：该记录不在您的数据范围内"]


def test_owner_or_pool_and_owner_out_of_scope(app, client, team):
    headers = bearer(client, team["boss_login"], f.PASSWORD)
    job = run(client, xlsx([["甲", None, "13700000001"]]), headers, owner=str(team["seller"]))
    assert job["imported"] == 1 and _customer(app, "13700000001").owner_id == team["seller"]
    job = run(client, xlsx([["乙", None, "13700000002"]]), headers, owner="")
    assert job["imported"] == 1 and _customer(app, "13700000002").owner_id is None
    refused = upload(client, xlsx([["丙", None, "13700000003"]]), headers=headers, owner=str(team["stranger"]))
    assert refused.status_code == 400 and refused.get_json()["field"] == "owner"
    forged = upload(client, xlsx([["丙", None, "13700000003"]]), headers=headers, owner="99999")
    assert forged.status_code == 400
    with app.app_context():
        history = db.session.execute(select(OwnerHistory.to_owner_id, OwnerHistory.actor_id)
                                     .where(OwnerHistory.action == "import")).all()
        assert sorted(history, key=str) == sorted([(team["seller"], team["boss"]), (None, team["boss"])], key=str)


def test_in_file_duplicates_the_first_wins(app, client, admin_headers):
    rows = [["第一", None, "13600000001"], ["第二", None, "136 0000 0001"], ["第三", None, "13600000002"]]
    job = run(client, xlsx(rows), admin_headers)
    assert (job["total"], job["imported"], job["skipped"]) == (3, 2, 1)
    assert _customer(app, "13600000001").company_name == "第一"
    sheet = read_errors(client, job["id"], admin_headers)
    assert sheet[1][0] == "手机号与第 2 行重复，跳过" and sheet[1][1] == "第二"


def test_mapping_own_columns(app, client, admin_headers):
    data = xlsx([["张总", "某某公司", "13500000001", "无关"]], header=["姓名", "公司", "电话", "备注2"])
    refused = upload(client, data, headers=admin_headers)
    body = refused.get_json()
    assert refused.status_code == 400 and body["header"] == ["姓名", "公司", "电话", "备注2"]
    assert body["guess"]["电话"] == "*手机号" and body["guess"]["公司"] == "公司名称"
    mapping = {"姓名": "联系人", "公司": "公司名称", "电话": "*手机号", "备注2": None}
    job = run(client, data, admin_headers, mapping=json.dumps(mapping, ensure_ascii=False))
    assert job["imported"] == 1, job
    assert _customer(app, "13500000001").company_name == "某某公司"
    missing = upload(client, data, headers=admin_headers, mapping=json.dumps({"姓名": "联系人"}, ensure_ascii=False))
    assert missing.status_code == 400 and "缺少列 *手机号" in missing.get_json()["message"]
    twice = upload(client, data, headers=admin_headers,
                   mapping=json.dumps({"姓名": "*手机号", "电话": "*手机号"}, ensure_ascii=False))
    assert twice.status_code == 400


def test_dry_run_counts_and_writes_nothing(app, client, admin_headers):
    with app.app_context():
        f.customer(None, "已有", "13400000001")
        db.session.remove()
    rows = [["已有", None, "13400000001"], ["新", None, "13400000002"], ["坏", None, "123"]]
    job = run(client, xlsx(rows), admin_headers, dry_run="1")
    assert (job["dry_run"], job["imported"], job["skipped"], job["failed"]) == (True, 1, 1, 1)
    assert _customer(app, "13400000002") is None
    assert job["can_undo"] is False


def test_undo_removes_unchanged_records_and_keeps_the_others(app, client, admin_headers):
    rows = [[f"撤销{i}", None, f"1330000000{i}"] for i in range(4)]
    job = run(client, xlsx(rows), admin_headers, owner="")
    with app.app_context():
        ids = dict(db.session.execute(select(Customer.mobile, Customer.id)).all())
        db.session.execute(update(Customer).where(Customer.id == ids["13300000000"]).values(address="改过"))
        db.session.add(FollowUp(customer_id=ids["13300000001"], content="跟进", owner_id=f.admin().id))
        db.session.commit()
        db.session.remove()
    # an edit through the API bumps updated_at like a person's edit does
    changed = client.put(f"/api/v1/customer/{ids['13300000000']}", json={"address": "杭州"}, headers=admin_headers)
    answer = client.post(f"/api/v1/import_job/{job['id']}/undo", headers=admin_headers).get_json()
    assert (answer["removed"], answer["kept"]) == (2, 2), answer
    assert "保留" in answer["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2
    again = client.post(f"/api/v1/import_job/{job['id']}/undo", headers=admin_headers)
    assert again.status_code == 400 and "已撤销" in again.get_json()["message"]


def test_the_error_workbook_imports_as_it_is_once_fixed(app, client, admin_headers):
    rows = [["好", None, "13200000001"], ["缺号", None, None], ["坏号", None, "132"]]
    job = run(client, xlsx(rows), admin_headers)
    errors = client.get(f"/api/v1/import_job/{job['id']}/errors", headers=admin_headers).data
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(errors)).get_sheet_by_index(0).to_python()
    fixed = [row[1:] for row in sheet[1:]]
    fixed[0][2], fixed[1][2] = "13200000002", "13200000003"
    again = run(client, xlsx([[c if c != "" else None for c in row] for row in fixed],
                             header=sheet[0][1:]), admin_headers)
    assert again["imported"] == 2, again
    # and the workbook itself, column 1 included, is accepted (its first column is ignored)
    as_is = run(client, errors, admin_headers, name="errors.xlsx")
    assert as_is["status"] == "done" and as_is["failed"] == 2


def test_contacts_and_products(app, client, admin_headers):
    with app.app_context():
        f.customer(f.admin(), "联系人公司", "13100000001")
        db.session.remove()
    template = client.get("/api/v1/contact/import/template", headers=admin_headers)
    from python_calamine import CalamineWorkbook

    header = CalamineWorkbook.from_filelike(io.BytesIO(template.data)).get_sheet_by_index(0).to_python()[0]
    assert header[:3] == ["*客户", "*姓名", "*手机号"]
    rows = [["13100000001", "王五", "13100000011"], ["联系人公司", "赵六", "13100000012"],
            ["不存在公司", "钱七", "13100000013"]]
    job = run(client, xlsx(rows, header=header), admin_headers, module="contact", name="联系人.xlsx")
    assert (job["imported"], job["failed"]) == (2, 1), job
    with app.app_context():
        owners = set(db.session.scalars(select(Contact.owner_id)))
        assert owners == {f.admin().id}  # contacts follow their customer's owner
    product_header = CalamineWorkbook.from_filelike(io.BytesIO(client.get(
        "/api/v1/product/import/template", headers=admin_headers).data)).get_sheet_by_index(0).to_python()[0]
    rows = [["P-1", "产品一", "12.5", "个", "是"], ["P-2", "产品二", "abc", None, None], ["P-1", "重复", None]]
    job = run(client, xlsx(rows, header=product_header), admin_headers, module="product", name="产品.xlsx")
    assert (job["imported"], job["failed"], job["skipped"]) == (1, 1, 1), job
    with app.app_context():
        product = db.session.scalars(select(Product)).one()
        assert (product.code, str(product.price), product.on_sale) == ("P-1", "12.50", True)


def test_two_imports_at_once_never_duplicate(app, client, admin_headers):
    app.config["IMPORT_CHUNK_ROWS"] = 50
    try:
        shared = [[f"共享{i}", None, f"1310{i:07d}"] for i in range(300)]
        first = xlsx(shared + [[f"甲{i}", None, f"1320{i:07d}"] for i in range(100)])
        second = xlsx(list(reversed(shared)) + [[f"乙{i}", None, f"1330{i:07d}"] for i in range(100)])
        ids = []
        barrier = threading.Barrier(2)

        def start(data):
            with app.test_client() as own:
                barrier.wait()
                response = upload(own, data, headers=admin_headers)
                ids.append(response.get_json()["job_id"])

        threads = [threading.Thread(target=start, args=(d,)) for d in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        jobs = [wait(client, i, admin_headers, timeout=120) for i in ids]
    finally:
        app.config["IMPORT_CHUNK_ROWS"] = 5000
    assert all(j["status"] == "done" for j in jobs), jobs
    assert sum(j["imported"] for j in jobs) == 500
    assert sum(j["skipped"] for j in jobs) == 300
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 500


def test_the_dialog_endpoints_with_the_session_cookie(app, client):
    web_login(client)
    page = client.get("/customer/list/")
    html = page.get_data(as_text=True)
    assert "crm-import-open" in html and "下载《客户导入模板》" in html
    template = client.get("/import/customer/template")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    response = client.post("/import/customer/", data={"file": (io.BytesIO(xlsx([["屏幕", None, "13000000001"]])),
                                                               "客户.xlsx"), "duplicate": "skip"},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]
    for _ in range(200):
        body = client.get(f"/import/jobs/{job_id}.json").get_json()
        if body["status"] == "done":
            break
        import time

        time.sleep(0.05)
    assert body["imported"] == 1
    records = client.get("/import/jobs/").get_data(as_text=True)
    assert "导入记录" in records and "客户.xlsx" in records and "撤销本次导入" in records
    undo = client.post(f"/import/jobs/{job_id}/undo")
    assert undo.status_code == 200 and undo.get_json()["removed"] == 1
    bad = client.post("/import/customer/", data={"file": (io.BytesIO(b"x"), "a.xls")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "xls" in bad.get_json()["message"]
    assert client.get("/import/jobs/999999.json").status_code == 404


def test_jobs_are_private_to_their_importer(app, client, admin_headers, team):
    job = run(client, xlsx([["私有", None, "13000000009"]]), admin_headers)
    headers = bearer(client, team["boss_login"], f.PASSWORD)
    assert client.get(f"/api/v1/import_job/{job['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/import_job/{job['id']}/errors", headers=headers).status_code == 404
    assert client.post(f"/api/v1/import_job/{job['id']}/undo", headers=headers).status_code == 404
    assert client.get("/api/v1/import_job/", headers=headers).get_json()["result"] == []
    listed = client.get("/api/v1/import_job/", headers=admin_headers).get_json()["result"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert client.get("/api/v1/import_job/").status_code == 401
