"""An administrator defines fields; staff's records then hold values for them, checked the same way
wherever they come from."""
import pytest
from sqlalchemy import func, select

from app.errors import CrmError
from app.extensions import db
from custom_fields import definitions, service, values
from custom_fields.models import CustomerFieldValue, FieldDefinition, FieldModule
from tests import factories as f


@pytest.fixture
def customers(ctx):
    owner = f.admin()
    return [f.customer(owner, f"客户{i}") for i in range(3)]


def field(module="customer", **data):
    return service.create_field(module, {"label": "城市", "type": "text", **data})


def write(customer, **raw):
    values.save_record("customer", customer.id, raw, creating=False)
    db.session.commit()


def test_a_new_field_gets_a_stable_key_and_dates_its_module(ctx):
    row = field(label="行业")
    assert row.key == f"f{row.id}" and definitions("customer")[0].name == f"cf_f{row.id}"
    assert db.session.get(FieldModule, "customer").changed_at is not None
    assert db.session.get(FieldModule, "contact") is None
    service.update_field(row.id, {"label": "所属行业"})
    assert db.session.get(FieldDefinition, row.id).key == row.key  # renaming never changes the key


def test_labels_are_unique_in_a_module_and_never_a_built_in_field(ctx):
    field(label="城市")
    with pytest.raises(CrmError) as error:
        field(label="城市")
    assert error.value.field == "label"
    field(module="contact", label="城市")  # another module may use it
    with pytest.raises(CrmError, match="备注"):
        field(label="备注")  # 客户's own 备注
    with pytest.raises(CrmError) as error:
        field(label="  ")
    assert error.value.field == "label"


def test_properties_that_do_not_fit_the_type_are_refused(ctx):
    with pytest.raises(CrmError) as error:
        field(type="textarea", unique=True)
    assert error.value.field == "unique"
    with pytest.raises(CrmError) as error:
        field(type="textarea", filterable=True)
    assert error.value.field == "filterable"
    with pytest.raises(CrmError) as error:
        field(type="integer", min_value="10", max_value="1")
    assert error.value.field == "min_value"
    with pytest.raises(CrmError) as error:
        field(type="select", options=[])
    assert error.value.field == "options"
    with pytest.raises(CrmError) as error:
        field(type="select", options=["甲", "甲"])
    assert error.value.field == "options"
    with pytest.raises(CrmError) as error:
        field(type="integer", default="abc")
    assert error.value.field == "default"
    with pytest.raises(CrmError) as error:
        field(type="text", max_length=300)
    assert error.value.field == "max_length"
    assert db.session.scalar(select(func.count()).select_from(FieldDefinition)) == 0  # nothing half-made


def test_a_default_is_checked_with_the_type_and_kept_in_canonical_form(ctx, customers):
    level = field(label="等级", type="select", options=["A", "B"], default="B")
    assert level.default == str(level.options[1].id)
    count = field(label="人数", type="integer", default="1,000")
    assert count.default == "1000"
    cleaned = values.clean("customer", {}, creating=True)
    assert cleaned == {level.id: level.options[1].id, count.id: 1000}


def test_the_type_cannot_change_once_values_exist(ctx, customers):
    row = field(label="人数", type="integer")
    service.update_field(row.id, {"type": "decimal"})  # no values yet: allowed
    write(customers[0], **{f"cf_{row.key}": "12.5"})
    with pytest.raises(CrmError) as error:
        service.update_field(row.id, {"type": "text"})
    assert error.value.field == "type" and "不能" in str(error.value)
    assert db.session.get(FieldDefinition, row.id).type == "decimal"
    service.update_field(row.id, {"type": "decimal", "label": "人数（万）"})  # the same type is fine


def test_retiring_an_option_keeps_the_values_that_hold_it(ctx, customers):
    row = field(label="来源", type="select", options=["电话", "展会", "网络"])
    phone, fair, web = (o.id for o in row.options)
    write(customers[0], **{f"cf_{row.key}": "展会"})
    # rename, reorder, retire 展会 (by leaving it out), add 转介绍
    service.update_field(row.id, {"options": [{"id": web, "label": "网络推广"}, {"id": phone, "label": "电话"},
                                              "转介绍"]})
    definition = definitions("customer")[0]
    assert [(o.label, o.retired) for o in definition.options] == [
        ("网络推广", False), ("电话", False), ("转介绍", False), ("展会", True)]
    name = definition.name
    assert values.load("customer", [customers[0].id])[customers[0].id][row.id] == fair
    # the record that holds the retired option keeps it when saved again ...
    write(customers[0], **{name: fair})
    # ... but no other record can be given it
    with pytest.raises(CrmError) as error:
        values.clean("customer", {name: "展会"}, record_id=customers[1].id)
    assert error.value.field == name and "展会" in str(error.value)
    # renamed options keep their ids: the value follows
    assert values.clean("customer", {name: "网络推广"}, record_id=customers[1].id) == {row.id: web}


def test_unique_within_the_module(ctx, customers):
    row = field(label="客户编号", unique=True)
    name = f"cf_{row.key}"
    write(customers[0], **{name: "KH-001"})
    with pytest.raises(CrmError) as error:
        values.clean("customer", {name: "KH-001"}, record_id=customers[1].id)
    assert error.value.field == name and "KH-001" in str(error.value)
    assert values.clean("customer", {name: "KH-001"}, record_id=customers[0].id)  # its own value
    other = field(module="contact", label="客户编号", unique=True)
    assert values.clean("contact", {f"cf_{other.key}": "KH-001"}, creating=True)  # other modules: their own


def test_the_database_keeps_a_unique_field_unique_even_past_the_check(ctx, customers):
    row = field(label="身份证号", unique=True)
    name = f"cf_{row.key}"
    write(customers[0], **{name: "330100199001010011"})
    # a second writer that raced past the check: the partial unique index refuses it
    with pytest.raises(CrmError) as error:
        values.save("customer", customers[1].id, {row.id: "330100199001010011"})
    assert error.value.field == name
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CustomerFieldValue)) == 1


def test_making_a_field_unique_refuses_existing_duplicates_then_fills_the_index(ctx, customers):
    row = field(label="工号", type="integer")
    name = f"cf_{row.key}"
    write(customers[0], **{name: 7})
    write(customers[1], **{name: 7})
    with pytest.raises(CrmError) as error:
        service.update_field(row.id, {"unique": True})
    assert error.value.field == "unique" and "7" in str(error.value)
    assert not db.session.get(FieldDefinition, row.id).unique
    write(customers[1], **{name: 8})
    service.update_field(row.id, {"unique": True})
    stored = sorted(db.session.scalars(select(CustomerFieldValue.unique_value)))
    assert stored == ["7", "8"]  # what Python would store for 7 and 8, so the index compares like with like
    with pytest.raises(CrmError):
        values.save("customer", customers[2].id, {row.id: 8}, definitions("customer"))
    db.session.rollback()
    service.update_field(row.id, {"unique": False})
    assert set(db.session.scalars(select(CustomerFieldValue.unique_value))) == {None}


def test_deleting_a_field_with_values_needs_confirmation_and_removes_them_together(ctx, customers):
    row = field(label="城市")
    keep = field(label="行业")
    for customer in customers[:2]:
        write(customer, **{f"cf_{row.key}": "杭州", f"cf_{keep.key}": "制造"})
    with pytest.raises(service.NeedsConfirmation) as error:
        service.delete_field(row.id)
    assert error.value.count == 2 and "2" in str(error.value) and error.value.status == 409
    assert db.session.get(FieldDefinition, row.id) is not None
    assert service.delete_field(row.id, confirm=True) == 2
    assert db.session.get(FieldDefinition, row.id) is None
    left = db.session.scalars(select(CustomerFieldValue.field_id)).all()
    assert left == [keep.id, keep.id]
    empty = field(label="空字段")
    assert service.delete_field(empty.id) == 0  # nothing to lose: no confirmation needed


def test_reorder_move_and_hide(ctx):
    a, b, c = (field(label=label) for label in ("甲", "乙", "丙"))
    service.reorder("customer", [c.id, a.id, b.id])
    assert [d.label for d in definitions("customer")] == ["丙", "甲", "乙"]
    service.move_field(b.id, -1)
    assert [d.label for d in definitions("customer")] == ["丙", "乙", "甲"]
    with pytest.raises(CrmError):
        service.reorder("customer", [a.id, b.id])
    service.set_hidden(c.id, True)
    assert [d.label for d in definitions("customer")] == ["乙", "甲"]
    assert [d.label for d in definitions("customer", include_hidden=True)] == ["丙", "乙", "甲"]


def test_required_fields_and_defaults_when_a_record_is_created(ctx, customers):
    required = field(label="联系人职位", required=True)
    name = f"cf_{required.key}"
    with pytest.raises(CrmError) as error:
        values.clean("customer", {}, creating=True)
    assert error.value.field == name and "不能为空" in str(error.value)
    with pytest.raises(CrmError):
        values.clean("customer", {name: "  "}, record_id=customers[0].id)
    assert values.clean("customer", {}, record_id=customers[0].id) == {}  # a change leaves it alone
    _, errors = values.check("customer", {"cf_nope": "x", name: ""}, creating=True)
    assert set(errors) == {"cf_nope", name}  # every refusal at once, for the form


def test_deleting_a_record_deletes_its_values(ctx, customers):
    row = field(label="城市")
    write(customers[0], **{f"cf_{row.key}": "杭州"})
    db.session.delete(customers[0])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CustomerFieldValue)) == 0
