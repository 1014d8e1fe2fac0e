"""Building import files and waiting for jobs."""
from __future__ import annotations

import io
import time

import xlsxwriter

CUSTOMER_HEADER = ["公司名称", "联系人", "*手机号", "客户状态", "客户级别", "客户来源", "地址", "备注"]


def xlsx(rows, header=CUSTOMER_HEADER, formulas=None) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for c, name in enumerate(header):
        sheet.write_string(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)
    for (r, c), (formula, cached) in (formulas or {}).items():
        sheet.write_formula(r, c, formula, None, cached)
    book.close()
    return out.getvalue()


def csv_bytes(rows, header=CUSTOMER_HEADER, encoding="utf-8") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)


def upload(client, data: bytes, name="客户.xlsx", headers=None, module="customer", **form):
    payload = {"file": (io.BytesIO(data), name)}
    payload.update({k: v for k, v in form.items() if v is not None})
    return client.post(f"/api/v1/{module}/import", data=payload, headers=headers or {},
                       content_type="multipart/form-data")


def wait(client, job_id, headers=None, timeout=60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = client.get(f"/api/v1/import_job/{job_id}", headers=headers or {}).get_json()
        if body.get("status") in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"import job {job_id} did not finish: {body}")


def run(client, data, headers=None, name="客户.xlsx", module="customer", **form) -> dict:
    response = upload(client, data, name, headers, module, **form)
    assert response.status_code == 202, response.get_json()
    return wait(client, response.get_json()["job_id"], headers)


def read_errors(client, job_id, headers=None) -> list[list]:
    from python_calamine import CalamineWorkbook

    response = client.get(f"/api/v1/import_job/{job_id}/errors", headers=headers or {})
    assert response.status_code == 200, response.data[:200]
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    return book.get_sheet_by_index(0).to_python()
