"""Every bad input is refused before a job exists, with a clear message; good files in every encoding."""
from __future__ import annotations

import io
import os
import zipfile

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from app.extensions import db
from models.crm import Customer
from models.jobs import ImportJob
from tests import factories as f
from tests.conftest import bearer
from tests.importing.helpers import CUSTOMER_HEADER, csv_bytes, run, upload, xlsx

ROW = ["甲公司", "张三", "13800138000", "潜在客户"]


def _refused(response, status=400):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()["message"]


def _no_jobs(app):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_bad_files_are_refused_with_a_clear_message_and_nothing_written(app, client, admin_headers):
    assert "xls" in _refused(upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 600, "客户.xls",
                                    admin_headers))
    assert "改过扩展名" in _refused(upload(client, "公司,手机\n".encode(), "客户.xlsx", admin_headers))
    assert "改过扩展名" in _refused(upload(client, xlsx([ROW]), "客户.csv", admin_headers))
    assert "空" in _refused(upload(client, b"", "客户.xlsx", admin_headers))
    assert "只能导入" in _refused(upload(client, b"hello", "客户.txt", admin_headers))
    assert "没有数据行" in _refused(upload(client, xlsx([]), "客户.xlsx", admin_headers))
    assert "请选择" in _refused(client.post("/api/v1/customer/import", data={}, headers=admin_headers,
                                           content_type="multipart/form-data"))
    header = _refused(upload(client, xlsx([ROW], header=["公司名称", "联系人", "电话", "客户状态"]), "客户.xlsx",
                             admin_headers))
    assert header.startswith("表头与模板不一致") and "缺少列" in header and "*手机号" in header
    assert "多出列 电话" in header
    assert "跳过或覆盖" in _refused(upload(client, xlsx([ROW]), "客户.xlsx", admin_headers, duplicate="replace"))
    assert "JSON" in _refused(upload(client, xlsx([ROW]), "客户.xlsx", admin_headers, mapping="{oops"))
    _no_jobs(app)


def test_size_row_and_expansion_limits(app, client, admin_headers):
    app.config.update(IMPORT_MAX_BYTES=20_000, IMPORT_MAX_ROWS=5, IMPORT_MAX_UNZIPPED_BYTES=2_000_000)
    try:
        big = xlsx([[f"公司{i}", os.urandom(100).hex(), f"138{i:08d}"] for i in range(400)])
        assert "超过 19 KB" in _refused(upload(client, big, "客户.xlsx", admin_headers))
        rows = [[f"公司{i}", None, f"138{i:08d}"] for i in range(6)]
        assert "最多 5" in _refused(upload(client, xlsx(rows), "客户.xlsx", admin_headers))
        assert "最多 5" in _refused(upload(client, csv_bytes(rows), "客户.csv", admin_headers))
        # a zip bomb: a sheet that inflates to 50 MB from a few KB
        app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
        bomb = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(xlsx([ROW]))) as source, \
                zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", b"</sheetData>" + b" " * 50_000_000)
                target.writestr(item.filename, data)
        assert "解压" in _refused(upload(client, bomb.getvalue(), "客户.xlsx", admin_headers))
    finally:
        app.config.update(IMPORT_MAX_BYTES=50 * 1024 * 1024, IMPORT_MAX_ROWS=1_000_000,
                          IMPORT_MAX_UNZIPPED_BYTES=1024 * 1024 * 1024)
    _no_jobs(app)


def test_a_body_past_the_request_limit_is_a_413_in_chinese(app, client, admin_headers):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        message = _refused(upload(client, b"x" * 20_000, "客户.csv", admin_headers), 413)
        assert "太大" in message
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_bom_and_gbk(app, client, admin_headers, encoding):
    job = run(client, csv_bytes([ROW, ["乙公司", "李四", "+86 139-0013-9000", " 潜在客户 "]], encoding=encoding),
              admin_headers, name="客户.csv")
    assert (job["status"], job["imported"], job["failed"]) == ("done", 2, 0), job
    with app.app_context():
        names = set(db.session.scalars(select(Customer.company_name)))
        assert names == {"甲公司", "乙公司"}


@pytest.mark.parametrize("reader", ["calamine", "streaming"])
def test_values_are_normalised_and_formulas_never_evaluated(app, client, admin_headers, monkeypatch, reader):
    # a large .xlsx is read by openpyxl in flat memory instead of calamine: both read the same values
    monkeypatch.setitem(app.config, "IMPORT_STREAM_XLSX_ROWS", 200_000 if reader == "calamine" else 0)
    with app.app_context():
        from custom_fields import service

        service.create_field("customer", {"label": "成立日期", "type": "date"})
        service.create_field("customer", {"label": "是否VIP", "type": "boolean"})
        db.session.commit()
        db.session.remove()
    header = CUSTOMER_HEADER + ["成立日期", "是否VIP"]
    rows = [
        ["空格", None, "138 0013 8000", None, None, None, None, None, "2024/1/31", "是"],
        ["横线", None, "+86 138-0013-8001", None, None, None, None, None, 45322, "否"],
        ["科学计数", None, 1.3800138002e10, None, None, None, None, None, "2024-02-01", None],
        ["零零八六", None, "0086 13800138003", None, None, None, None, None, "45323", None],
        ["坏号码", None, "12345", None, None, None, None, None, None, None],
        ["坏状态", None, "13800138005", "不存在的状态", None, None, None, None, None, None],
        ["坏日期", None, "13800138006", None, None, None, None, None, "明天", None],
    ]
    formulas = {(8, 0): ("=1+1", "公式公司"), (8, 2): ('="1380013"&"8007"', "13800138007")}
    job = run(client, xlsx(rows + [[None, None, None]], header=header, formulas=formulas), admin_headers)
    assert (job["imported"], job["failed"]) == (5, 3), job
    with app.app_context():
        found = dict(db.session.execute(select(Customer.mobile, Customer.company_name)).all())
        assert found["13800138000"] == "空格" and found["13800138002"] == "科学计数"
        assert found["13800138003"] == "零零八六"
        assert found["13800138007"] == "公式公司"  # the cached value, not "=1+1"
    from tests.importing.helpers import read_errors

    reasons = [r[0] for r in read_errors(client, job["id"], admin_headers)[1:]]
    assert reasons[0] == "手机号格式不正确" and reasons[1] == "客户状态不存在：不存在的状态"
    assert reasons[2].startswith("成立日期")


def test_the_template_has_a_frozen_header_dropdowns_dates_and_instructions(app, client, admin_headers):
    with app.app_context():
        from custom_fields import service

        service.create_field("customer", {"label": "行业", "type": "select", "options": ["制造", "零售"],
                                          "required": True})
        service.create_field("customer", {"label": "成立日期", "type": "date"})
        db.session.commit()
        db.session.remove()
    response = client.get("/api/v1/customer/import/template", headers=admin_headers)
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.sheet_names[-1] == "填写说明"
    header = book.get_sheet_by_index(0).to_python()[0]
    assert header == CUSTOMER_HEADER + ["*行业", "成立日期"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        assert 'state="frozen"' in sheet and 'type="list"' in sheet and 'type="date"' in sheet
        styles = archive.read("xl/styles.xml").decode()
        assert "yyyy-mm-dd" in styles
    instructions = book.get_sheet_by_name("填写说明").to_python()
    assert any("*行业" in row for row in instructions)


def test_the_import_right_gates_each_module(app, client):
    with app.app_context():
        seller = f.employee("小李")
        login = seller.username
        db.session.remove()
    headers = bearer(client, login, f.PASSWORD)
    assert upload(client, xlsx([ROW]), "客户.xlsx", headers).status_code == 403
    assert client.get("/api/v1/customer/import/template", headers=headers).status_code == 403
    assert client.get("/api/v1/product/import/template", headers=headers).status_code == 403
    admin_headers = bearer(client)
    assert client.get("/api/v1/opportunity/import/template", headers=admin_headers).status_code == 404
    _no_jobs(app)


def test_the_import_api_is_in_the_openapi_spec(client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    paths = spec["paths"]
    for path, method in (("/customer/import/template", "get"), ("/customer/import", "post"),
                         ("/contact/import", "post"), ("/product/import", "post"), ("/import_job/", "get"),
                         ("/import_job/{pk}", "get"), ("/import_job/{pk}/errors", "get"),
                         ("/import_job/{pk}/undo", "post")):
        assert method in paths.get("/api/v1" + path, {}), (path, sorted(p for p in paths if "import" in p))
    assert "/api/v1/opportunity/import" not in paths
    body = paths["/api/v1/customer/import"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(body["properties"]) == {"file", "duplicate", "owner", "mapping", "dry_run"}
