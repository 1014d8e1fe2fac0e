"""The .xlsx export is written by app/xlsx_stream.py: what it writes must read the same in openpyxl and in
python-calamine — text with XML-special and XML-illegal characters (NUL and lone surrogates cannot be
stored, so the writer's own test has them), a text longer than a cell holds, numbers as
numbers, dates and times as dates — through the screen and the API, across chunks of rows."""
import datetime as dt
import io

import openpyxl
from python_calamine import CalamineWorkbook

from app import xlsx_stream
from app.extensions import db
from custom_fields import service, values
from tests import factories as f
from tests.conftest import web_login

SPECIAL = 'A&B <公司> "甲" \'乙\' ]]> &amp;'
ILLEGAL = "前\x01\x08\x0b\x0c\x1f\ufffe后\t换\n行"  # tab and LF are legal XML and stay


def _both(data: bytes) -> tuple[list[list], list[list]]:
    """The sheet as openpyxl and as calamine read it, empty cells as None, whole floats as ints."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    by_openpyxl = [list(row) for row in book.active.iter_rows(values_only=True)]

    def cell(value):
        if value == "":
            return None
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    by_calamine = [[cell(v) for v in row] for row in sheet]
    width = len(by_openpyxl[0])
    return by_openpyxl, [row + [None] * (width - len(row)) for row in by_calamine]


def _same_values(by_openpyxl, by_calamine):
    assert len(by_openpyxl) == len(by_calamine)
    for left, right in zip(by_openpyxl, by_calamine):
        for a, b in zip(left, right):
            if isinstance(b, dt.date) and not isinstance(b, dt.datetime):
                assert a == dt.datetime.combine(b, dt.time()), (a, b)  # openpyxl gives a date as a datetime
            else:
                assert a == b, (a, b)


def _customers(app):
    with app.app_context():
        note = service.create_field("customer", {"label": "备注说明", "type": "textarea"})
        size = service.create_field("customer", {"label": "员工数", "type": "integer"})
        founded = service.create_field("customer", {"label": "成立", "type": "date"})
        owner = f.admin()
        texts = {"特殊": SPECIAL, "非法": ILLEGAL, "长文": "长" * 9_999 + "&", "转义": "_x0041_ 原样"}
        for index in range(12):
            name = list(texts)[index] if index < len(texts) else f"普通{index:02d}"
            customer = f.customer(owner, name=f"{name}公司")
            values.save_record("customer", customer.id, {
                f"cf_{note.key}": texts.get(name, f"备注{index}"),
                f"cf_{size.key}": index * 10 if index % 3 else None,
                f"cf_{founded.key}": dt.date(2020, 1, 1) + dt.timedelta(days=index) if index % 2 else None,
            }, creating=False)
            db.session.commit()
        db.session.remove()


def _check(data: bytes):
    by_openpyxl, by_calamine = _both(data)
    header = by_openpyxl[0]
    rows = {row[header.index("公司名称")]: dict(zip(header, row)) for row in by_openpyxl[1:]}
    assert len(rows) == 12
    assert rows["特殊公司"]["备注说明"] == SPECIAL
    assert rows["非法公司"]["备注说明"] == "前后\t换\n行"
    assert rows["长文公司"]["备注说明"] == "长" * 9_999 + "&"  # a 多行文本 holds 10,000 characters at most
    for name, row in rows.items():
        index = int(name[2:4]) if name.startswith("普通") else ["特殊", "非法", "长文", "转义"].index(name[:2])
        assert row["员工数"] == (index * 10 if index % 3 else None)
        assert row["成立"] == (dt.datetime(2020, 1, 1) + dt.timedelta(days=index) if index % 2 else None)
    # Excel reads "_xHHHH_" in text as an escaped character: the writer escapes it, calamine reads it as
    # Excel does, openpyxl shows the escape
    calamine_rows = {row[header.index("公司名称")]: dict(zip(header, row)) for row in by_calamine[1:]}
    assert calamine_rows["转义公司"]["备注说明"] == "_x0041_ 原样"
    assert rows["转义公司"]["备注说明"] == "_x005F_x0041_ 原样"
    del rows["转义公司"]["备注说明"], calamine_rows["转义公司"]["备注说明"]
    assert rows.keys() == calamine_rows.keys()
    _same_values([list(rows[k].values()) for k in rows], [list(calamine_rows[k].values()) for k in rows])
    date_cell = next(c for c in calamine_rows.values() if c["成立"] is not None)["成立"]
    assert date_cell.__class__ is dt.date
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.active.freeze_panes == "A2" and book.active["A1"].font.b
    assert book.active.cell(row=2, column=header.index("成立") + 1).number_format in ("yyyy\\-mm\\-dd", "General")
    return header


def test_special_illegal_and_long_text_through_the_api_and_the_screen_in_small_chunks(app, client, admin_headers):
    _customers(app)
    old = app.config.get("EXPORT_CHUNK_ROWS")
    app.config["EXPORT_CHUNK_ROWS"] = 5
    try:
        api = client.get("/api/v1/customer/export?format=xlsx", headers=admin_headers)
        web_login(client)
        screen = client.get("/customer/export/?format=xlsx")
    finally:
        app.config["EXPORT_CHUNK_ROWS"] = old
    for response in (api, screen):
        assert response.status_code == 200
        assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        _check(response.data)


def test_the_writer_types_each_column_per_chunk_and_falls_back_cell_by_cell():
    """A column may change type from one chunk to the next, or mix types in one chunk (masked numbers,
    a generic column): every cell keeps its own type. Dates before 1900-03-01 take Excel's 1900 leap-year
    bug into account; earlier than 1900 is text; non-finite numbers are text."""
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    chunks = [
        [(1, "a\x00\ud800b\r\nc", dt.date(2024, 1, 31), when, 1.5), (2, None, None, None, None)],
        [("三", 3, dt.date(1900, 2, 28), dt.date(1900, 3, 1), float("inf")),
         (4.25, True, dt.date(1899, 12, 31), "", 10 ** 400), ("x" * 40_000 + "<", "<" * 40_000, None, None, None)],
    ]
    target = io.BytesIO()
    xlsx_stream.write(target, ["n", "t", "d", "dt", "f"], chunks, sheet_name='名<单>"表"')
    by_openpyxl, by_calamine = _both(target.getvalue())
    _same_values(by_openpyxl, by_calamine)
    assert by_calamine == [
        ["n", "t", "d", "dt", "f"],
        [1, "ab\r\nc", dt.date(2024, 1, 31), when, 1.5],
        [2, None, None, None, None],
        ["三", 3, dt.date(1900, 2, 28), dt.date(1900, 3, 1), "inf"],
        [4.25, "True", "1899-12-31", None, "1" + "0" * 400],
        ["x" * 32_767, "<" * 32_767, None, None, None],  # Excel's cell limit, as XlsxWriter cut it
    ]
    assert openpyxl.load_workbook(io.BytesIO(target.getvalue())).sheetnames == ['名<单>"表"']
    assert xlsx_stream.column_letter(0) == "A" and xlsx_stream.column_letter(27) == "AB"
    assert xlsx_stream.column_letter(18277) == "ZZZ"


def test_a_chunk_larger_than_a_piece_keeps_every_row_in_order():
    chunk = [(n, f"第{n}行", dt.date(2024, 1, 1) + dt.timedelta(days=n % 300)) for n in range(1_201)]
    target = io.BytesIO()
    xlsx_stream.write(target, ["n", "t", "d"], [chunk, chunk[:3]])
    by_openpyxl, by_calamine = _both(target.getvalue())
    _same_values(by_openpyxl, by_calamine)
    assert by_calamine[1:] == [list(row) for row in chunk + chunk[:3]]


def test_times_are_kept_to_the_second_and_read_back_the_same_by_both_readers():
    """CI once failed here: a created_at with microseconds came back as .569 from openpyxl and .570 from
    calamine. Times are written to the second (as the screen and the CSV show them) and read back exactly."""
    import random
    pick = random.Random(11)
    times = [dt.datetime(pick.randrange(1990, 2100), pick.randrange(1, 13), pick.randrange(1, 29),
                         pick.randrange(24), pick.randrange(60), pick.randrange(60), pick.randrange(10**6))
             for _ in range(5_000)]
    buffer = io.BytesIO()
    xlsx_stream.write(buffer, ["时间"], [[[t] for t in times]])
    by_openpyxl, by_calamine = _both(buffer.getvalue())
    expected = [t.replace(microsecond=0) for t in times]
    assert [row[0] for row in by_openpyxl[1:]] == expected
    assert [row[0] for row in by_calamine[1:]] == expected
