"""Export cells are formatted per column and 是/否 is translated once per export, not once per cell
(issue 11); what the file says stays the same: yes/no as words in the user's language, option labels,
numbers as numbers, formula-looking text neutralised, masked fields masked."""
import csv
import io

from app import exporting
from app.extensions import db
from custom_fields import service, values
from models.sales import Product
from tests import factories as f


def test_yes_no_and_custom_cells_in_a_csv_export(app, client, admin_headers, monkeypatch):
    with app.app_context():
        vip = service.create_field("customer", {"label": "重点客户", "type": "boolean"})
        size = service.create_field("customer", {"label": "规模", "type": "select", "options": ["大", "小"]})
        ids = []
        for index in range(30):
            customer = f.customer(f.admin(), name=f"=公司{index:02d}" if index == 0 else f"公司{index:02d}")
            values.save_record("customer", customer.id, {f"cf_{vip.key}": index % 2 == 0,
                                                         f"cf_{size.key}": size.options[index % 2].id if index % 3
                                                         else None}, creating=False)
            ids.append(customer.id)
    calls = []
    real = exporting._
    monkeypatch.setattr(exporting, "_", lambda text: calls.append(text) or real(text))
    response = client.get("/api/v1/customer/export?format=csv", headers={**admin_headers, "Accept-Language": "zh"})
    assert response.status_code == 200
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table) == 30
    by_name = {row["公司名称"]: row for row in table}
    first = by_name["'=公司00"]  # formula-looking text neutralised
    assert first["重点客户"] == "是" and first["规模"] == ""
    assert by_name["公司01"]["重点客户"] == "否" and by_name["公司01"]["规模"] == "小"
    assert by_name["公司02"]["规模"] == "大"
    assert calls.count("Yes") == 1 and calls.count("No") == 1  # once per export, not once per cell


def test_a_built_in_yes_no_column_and_prices(app, client, admin_headers):
    with app.app_context():
        db.session.add_all([Product(code="P1", name="在售品", price=12.5, on_sale=True),
                            Product(code="P2", name="停售品", price=None, on_sale=False)])
        db.session.commit()
    response = client.get("/api/v1/product/export?format=csv", headers={**admin_headers, "Accept-Language": "zh"})
    text = response.get_data(as_text=True)
    assert "在售品" in text and "是" in text and "否" in text and "12.5" in text


def test_formula_looking_cells_are_neutralised_in_every_chunk_and_column(app, client, admin_headers):
    """A column is first checked whole for formula-looking cells (app/export_cells.texts): one such cell in a late
    chunk, or in a column whose other cells are plain, must still be neutralised — in the .csv and the .xlsx."""
    from python_calamine import CalamineWorkbook

    starts = ["=1+2", "+8613800000000", "-3", "@SUM(A1)", "\tx", "\rx"]
    with app.app_context():
        owner = f.admin()
        for index in range(30):
            f.customer(owner, name=f"普通{index:02d}", contact_name="张三")
        for index, text in enumerate(starts):
            f.customer(owner, name=f"公式{index}", contact_name=text)
        db.session.remove()
    old = app.config.get("EXPORT_CHUNK_ROWS")
    app.config["EXPORT_CHUNK_ROWS"] = 4
    try:
        text = client.get("/api/v1/customer/export?format=csv", headers=admin_headers).get_data(as_text=True)
        workbook = client.get("/api/v1/customer/export?format=xlsx", headers=admin_headers).data
    finally:
        app.config["EXPORT_CHUNK_ROWS"] = old
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook)).get_sheet_by_index(0).to_python()
    cells = [dict(zip(sheet[0], row)) for row in sheet[1:]]
    for table in (rows, cells):
        assert len(table) == 36
        by_name = {row["公司名称"]: row["联系人"] for row in table}
        for index, start in enumerate(starts):
            assert by_name[f"公式{index}"] == "'" + start, (index, by_name[f"公式{index}"])
        assert {by_name[f"普通{index:02d}"] for index in range(30)} == {"张三"}
