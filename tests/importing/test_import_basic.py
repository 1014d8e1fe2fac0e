"""The manual's example and the everyday paths of a customer import, through the REST API."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from models.crm import Customer, OwnerHistory
from tests import factories as f
from tests.importing.helpers import CUSTOMER_HEADER, read_errors, run, xlsx


@pytest.fixture
def existing(app):
    with app.app_context():
        f.customer(f.admin(), "已有公司", "18100361581")
        db.session.remove()


def test_the_manuals_example_goes_to_the_error_workbook(app, client, admin_headers, existing):
    rows = [["导入演示1", "张三", "13800138000", "潜在客户"], ["导入演示2", None, "18100361581"],
            ["导入演示3", "李四", 13800138001.0], ["导入演示4", None, None]]
    job = run(client, xlsx(rows), admin_headers, duplicate="skip")
    assert job["status"] == "done", job
    assert (job["total"], job["imported"], job["skipped"], job["failed"]) == (4, 2, 1, 1)
    sheet = read_errors(client, job["id"], admin_headers)
    assert sheet[0] == ["错误原因(导入时需删除本列)"] + CUSTOMER_HEADER
    assert sheet[1][0] == "手机号重复，跳过" and sheet[1][1] == "导入演示2" and sheet[1][3] == "18100361581"
    assert sheet[2][0] == "*手机号不能为空" and sheet[2][1] == "导入演示4"
    with app.app_context():
        imported = db.session.scalars(select(Customer).where(Customer.import_job_id == job["id"])).all()
        assert sorted(c.mobile for c in imported) == ["13800138000", "13800138001"]
        assert all(c.owner_id is None for c in imported)  # no 负责人 chosen: the public pool
        history = db.session.scalars(select(OwnerHistory).where(OwnerHistory.action == "import")).all()
        assert len(history) == 2
