"""Field-level permission: what an employee may see and change of a record, whichever screen asks."""
import pytest

from app import fieldperms as fp
from app import organisation as org
from app import roles as role_service
from app.errors import CrmError
from app.extensions import db
from models.org import Employee
from tests import factories as f
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


@pytest.mark.parametrize("raw, masked", [
    ("13800138000", "138****8000"), ("+8613800138000", "+86*******8000"), ("0571-8888", "057**8888"),
    ("1234567", "*******"), ("", ""), (None, None),
])
def test_mask_mobile_keeps_the_first_three_and_last_four(raw, masked):
    assert fp.mask_mobile(raw) == masked


def test_a_modules_fields_and_what_can_be_masked(ctx):
    fields = fp.module_fields("customer")
    assert {"company_name", "mobile", "status", "owner", "address"} <= set(fields)
    assert not {"id", "status_id", "owner_id", "created_at", "contacts"} & set(fields)
    assert fp.maskable_fields("customer") == {"mobile"} and fp.maskable_fields("product") == set()
    assert fp.module_fields("line") == []
    assert fp.field_of("customer", "status_id") == "status"
    assert fp.field_of("customer", "owner.first_name") == "owner"
    assert fp.field_of("contact", "customer_id") == "customer"


ACCESS = {"mobile": fp.MASKED, "address": fp.HIDDEN, "status": fp.READ_ONLY, "company_name": fp.EDITABLE}


def test_reading_drops_hidden_values_and_masks_masked_ones():
    row = {"id": 1, "company_name": "甲公司", "mobile": "13800138000", "address": "杭州", "status_id": 4,
           "custom_city": "杭州"}
    assert fp.apply_to_values("customer", row, ACCESS) == {
        "id": 1, "company_name": "甲公司", "mobile": "138****8000", "status_id": 4, "custom_city": "杭州"}
    assert fp.apply_to_rows("customer", [row], ACCESS)[0]["mobile"] == "138****8000"
    columns = ["company_name", "mobile", "address", "status", "owner.first_name"]
    assert fp.readable_columns("customer", columns, ACCESS) == ["company_name", "mobile", "status",
                                                                "owner.first_name"]


def test_writing_keeps_only_editable_fields_and_refuses_the_others(ctx):
    columns = ["company_name", "mobile", "address", "status", "note"]
    assert fp.writable_columns("customer", columns, ACCESS) == ["company_name", "note"]
    # a new record: the employee types the value, nothing is disclosed; hidden stays out
    assert fp.writable_columns("customer", columns, ACCESS, creating=True) == ["company_name", "mobile", "status",
                                                                               "note"]
    fp.check_writable("customer", {"company_name": "乙公司", "note": "x"}, ACCESS)
    with pytest.raises(CrmError) as error:
        fp.check_writable("customer", {"company_name": "乙公司", "status_id": 3}, ACCESS)
    assert error.value.status == 403 and error.value.field == "status"
    assert "客户状态" in str(error.value)
    fp.check_writable("customer", {"mobile": "13800138000"}, ACCESS, creating=True)
    with pytest.raises(CrmError):
        fp.check_writable("customer", {"address": "x"}, ACCESS, creating=True)


def _role(name, kind, fields):
    role = role_service.create_role(name, kind)
    role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "fields": {"customer": fields}})
    return role


def test_the_most_permissive_role_wins(ctx):
    customer_role = _role("电销", "customer", {"mobile": "hidden", "address": "hidden", "note": "read_only"})
    call_role = _role("外呼", "call_center", {"mobile": "masked", "address": "read_only"})
    person = f.employee("双角色员工", role="电销")
    access = fp.field_access(person, "customer")
    assert access["mobile"] == fp.HIDDEN and access["note"] == fp.READ_ONLY and access["company_name"] == fp.EDITABLE
    org.update_employee(person.id, role_ids=[customer_role.id, call_role.id])
    person = db.session.get(Employee, person.id)
    access = fp.field_access(person, "customer")
    assert access["mobile"] == fp.MASKED  # masked beats hidden
    assert access["address"] == fp.READ_ONLY  # read-only beats hidden
    assert access["note"] == fp.EDITABLE  # the call-center role does not restrict it
    assert fp.field_access(person, "contact")["mobile"] == fp.EDITABLE  # per module
    assert fp.access_for("customer", "status_id", access) == fp.EDITABLE


def test_the_administrator_edits_everything_and_nobody_sees_nothing(ctx):
    assert set(fp.field_access(f.admin(), "customer").values()) == {fp.EDITABLE}
    assert set(fp.field_access(None, "customer").values()) == {fp.HIDDEN}


def test_a_role_change_counts_at_once(ctx):
    role = _role("电销", "customer", {"mobile": "masked"})
    person = f.employee("员工", role="电销")
    assert fp.field_access(person, "customer")["mobile"] == fp.MASKED
    role_service.write_matrix(role.id, {"fields": {"customer": {"mobile": "hidden"}}})
    assert fp.field_access(person, "customer")["mobile"] == fp.HIDDEN
