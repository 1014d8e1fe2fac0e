"""Paging the generated REST API by cursor (views/keyset.py, views/list_api.py): walking every page by
`next_cursor` gives exactly what walking by page number gives — in every sort, with ties and empty values
(NULLS LAST both ways), with filters and the search box — a caller never sees a record outside their data
scope through a cursor, and a garbled, forged or foreign cursor is a 400 in Chinese. On SQLite and PostgreSQL."""
import base64
import datetime as dt
import json
from decimal import Decimal

import prison
import pytest
from itsdangerous import URLSafeSerializer

from app import roles as role_service
from app.extensions import db
from app.permissions import MODULES
from models.crm import Customer, FollowUp
from models.sales import Opportunity
from tests import factories as f
from tests.conftest import bearer
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from views import keyset

DAY = dt.datetime(2026, 11, 1, 9, 0)
PAGE = 6


_serial = iter(range(10_000_000))


def _seed(owner, count=40, tag="客户"):
    """`count` customers of `owner` with many ties: 4 creation times, 3 follow-up times or none, names
    that repeat."""
    rows = []
    for i in range(count):
        rows.append(Customer(company_name=f"{tag}{i % 7}号", mobile=f"139{next(_serial):08d}", owner_id=owner.id,
                             department_id=owner.department_id, created_at=DAY - dt.timedelta(hours=i % 4),
                             last_followup_at=None if i % 4 == 0 else DAY + dt.timedelta(days=i % 3),
                             status_id=f.choice("customer_status", i % 2).id))
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def _url(module, q, cursor=None):
    url = f"/api/v1/{module}/?q={prison.dumps(q)}"
    return url + (f"&cursor={cursor}" if cursor is not None else "")


def _walk_by_cursor(client, headers, module="customer", **q):
    q = {"page_size": PAGE, "columns": ["id"], **q}
    ids, cursor, pages = [], None, 0
    while True:
        response = client.get(_url(module, q, cursor), headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ids += body["ids"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert len(body["ids"]) < PAGE or body["ids"] == []
            return ids, body["count"]
        assert len(body["ids"]) == PAGE and pages < 100


def _walk_by_number(client, headers, module="customer", **q):
    ids, page = [], 0
    while True:
        body = client.get(_url(module, {"page_size": PAGE, "page": page, "columns": ["id"], **q}),
                          headers=headers).get_json()
        ids += body["ids"]
        if len(body["ids"]) < PAGE:
            return ids
        page += 1


SORTS = [{}, {"order_column": "id", "order_direction": "asc"},
         {"order_column": "company_name", "order_direction": "asc"},
         {"order_column": "company_name", "order_direction": "desc"},
         {"order_column": "created_at", "order_direction": "desc"},
         {"order_column": "created_at", "order_direction": "asc"},
         {"order_column": "last_followup_at", "order_direction": "desc"},
         {"order_column": "last_followup_at", "order_direction": "asc"}]


def test_every_sort_walks_the_same_records_by_cursor_as_by_page_number(app, client, admin_headers):
    with app.app_context():
        expected = set(_seed(f.admin()))
    for sort in SORTS:
        by_cursor, count = _walk_by_cursor(client, admin_headers, **sort)
        assert by_cursor == _walk_by_number(client, admin_headers, **sort), sort
        assert len(by_cursor) == len(set(by_cursor)) and set(by_cursor) == expected and count == len(expected)
    # the empty follow-ups come last both ways (NULLS LAST), also across a page boundary
    with app.app_context():
        empty = {c.id for c in db.session.query(Customer).filter(Customer.last_followup_at.is_(None))}
    for direction in ("asc", "desc"):
        ids, _count = _walk_by_cursor(client, admin_headers, order_column="last_followup_at",
                                      order_direction=direction)
        assert set(ids[-len(empty):]) == empty


def test_an_empty_amount_in_another_module_and_decimal_values(app, client, admin_headers):
    with app.app_context():
        owner = f.admin()
        customer = f.customer(owner, name="报价客户")
        for i in range(15):
            db.session.add(Opportunity(name=f"商机{i}", amount=None if i % 5 == 0 else Decimal(f"{i % 3}00.50"),
                                       customer_id=customer.id, owner_id=owner.id, department_id=owner.department_id))
        db.session.commit()
    for direction in ("asc", "desc"):
        sort = {"order_column": "amount", "order_direction": direction}
        ids, _count = _walk_by_cursor(client, admin_headers, module="opportunity", **sort)
        assert ids == _walk_by_number(client, admin_headers, module="opportunity", **sort) and len(ids) == 15


def test_a_cursor_keeps_the_filters_and_the_search_box(app, client, admin_headers):
    with app.app_context():
        _seed(f.admin())
        _seed(f.admin(), count=12, tag="别家")
        status = f.choice("customer_status", 1).id
    filters = [
        [{"col": "status", "opr": "rel_o_m", "value": status}],
        [{"col": "company_name", "opr": "kw_customer", "value": "客户3"}],
        [{"col": "company_name", "opr": "kw_customer", "value": "别家"},
         {"col": "status", "opr": "rel_o_m", "value": status}],
    ]
    for flt in filters:
        for sort in ({}, {"order_column": "last_followup_at", "order_direction": "asc"}):
            ids, count = _walk_by_cursor(client, admin_headers, filters=flt, **sort)
            assert ids == _walk_by_number(client, admin_headers, filters=flt, **sort)
            assert 0 < len(ids) == count < 52
    # a cursor is bound to its filters: replayed with another one it is refused
    first = client.get(_url("customer", {"page_size": PAGE, "filters": filters[0]}), headers=admin_headers).get_json()
    answer = client.get(_url("customer", {"page_size": PAGE, "filters": filters[1]}, first["next_cursor"]),
                        headers=admin_headers)
    assert answer.status_code == 400 and "筛选或排序" in answer.get_json()["message"]
    answer = client.get(_url("customer", {"page_size": PAGE, "order_column": "company_name"},
                             first["next_cursor"]), headers=admin_headers)
    assert answer.status_code == 400


@pytest.mark.usefixtures("restore_roles")
def test_a_narrow_scope_never_reaches_other_records_through_a_cursor(app, client, admin_headers):
    with app.app_context():
        lead_role = role_service.create_role("主管-本人及下属")
        role_service.write_matrix(lead_role.id, {"modules": {"customer": list(MODULES["customer"][1])},
                                                 "data_scope": "self_and_subordinates"})
        dept = f.department("销售部")
        lead = f.employee("主管", dept, role="主管-本人及下属")
        member = f.employee("组员", dept, manager=lead)
        outsider = f.employee("外人", dept)
        theirs = set(_seed(outsider, 15, "外人的"))
        mine = set(_seed(lead, 9, "主管的")) | set(_seed(member, 8, "组员的"))
        login = lead.username
    headers = bearer(client, login, f.PASSWORD)
    for sort in SORTS:
        ids, count = _walk_by_cursor(client, headers, **sort)
        assert set(ids) == mine and len(ids) == len(mine) == count, sort
    # the administrator's cursor, which stops among the outsider's records, is not the lead's to use
    admin_page = client.get(_url("customer", {"page_size": PAGE, "order_column": "id", "order_direction": "asc"}),
                            headers=admin_headers).get_json()
    assert set(admin_page["ids"]) & theirs
    answer = client.get(_url("customer", {"page_size": PAGE, "order_column": "id", "order_direction": "asc"},
                             admin_page["next_cursor"]), headers=headers)
    assert answer.status_code == 400 and not set(answer.get_json().get("ids", [])) & theirs
    # a cursor the lead makes up (signed with a guessed key) pointing into the outsider's ids: refused
    forged = URLSafeSerializer("guess", salt=keyset.SALT).dumps(["0" * 16, min(theirs), min(theirs)])
    answer = client.get(_url("customer", {"page_size": PAGE}, forged), headers=headers)
    assert answer.status_code == 400 and "游标" in answer.get_json()["message"]


def test_garbled_and_misused_cursors_are_refused_in_chinese(app, client, admin_headers):
    with app.app_context():
        _seed(f.admin(), 20)
    first = client.get(_url("customer", {"page_size": PAGE}), headers=admin_headers).get_json()
    good = first["next_cursor"]
    payload, _sig = good.rsplit(".", 1)
    tampered_payload = base64.urlsafe_b64encode(json.dumps([json.loads(base64.urlsafe_b64decode(
        payload + "=" * (-len(payload) % 4)))[0], None, 1]).encode()).decode().rstrip("=")
    for bad in ("abc", good[:-3] + "xyz", tampered_payload + "." + _sig, "x" * 5000, "%E4%BD%A0", good + "."):
        answer = client.get(_url("customer", {"page_size": PAGE}, bad), headers=admin_headers)
        assert answer.status_code == 400, (bad, answer.status_code)
        assert "游标" in answer.get_json()["message"]
    both = client.get(_url("customer", {"page_size": PAGE, "page": 1}, good), headers=admin_headers)
    assert both.status_code == 400 and "页码" in both.get_json()["message"]
    # an empty cursor is the first page
    assert client.get(_url("customer", {"page_size": PAGE}, ""), headers=admin_headers).get_json()["ids"] == first["ids"]


def test_a_cursor_decodes_only_values_of_its_column_type(app):
    """Signed with the right key but holding a value of the wrong type (a key rotated back, a bug): 400."""
    column = Customer.__table__.c.last_followup_at
    with app.test_request_context():
        token = keyset.encode("fp", "not a date", 5)
        with pytest.raises(keyset.CursorError):
            keyset.decode(token, "fp", column)
        with pytest.raises(keyset.CursorError):
            keyset.decode(keyset.encode("fp", None, True), "fp", column)
        assert keyset.decode(keyset.encode("fp", DAY, 5), "fp", column) == (DAY, 5)
        assert keyset.decode(keyset.encode("fp", None, 5), "fp", column) == (None, 5)
        with pytest.raises(keyset.CursorError):  # a column that is never empty
            keyset.decode(keyset.encode("fp", None, 5), "fp", Customer.__table__.c.id)


@pytest.mark.usefixtures("restore_roles")
def test_a_default_sort_on_a_hidden_field_keeps_its_values_out_of_the_cursor(app, client):
    with app.app_context():
        role = role_service.create_role("跟进-看不见时间")
        role_service.write_matrix(role.id, {"modules": {"followup": ["view"], "customer": ["view"]},
                                            "data_scope": "self", "fields": {"followup": {"followed_at": "hidden"}}})
        person = f.employee("跟进员", f.department("客服部"), role="跟进-看不见时间")
        customer = f.customer(person, name="跟进的客户")
        for i in range(15):
            db.session.add(FollowUp(customer_id=customer.id, content=f"第{i}次", owner_id=person.id,
                                    department_id=person.department_id,
                                    followed_at=DAY + dt.timedelta(hours=i % 4, minutes=17)))
        db.session.commit()
        login = person.username
    headers = bearer(client, login, f.PASSWORD)
    ids, count = _walk_by_cursor(client, headers, module="followup")
    assert ids == _walk_by_number(client, headers, module="followup") and count == len(ids) == 15
    cursor = client.get(_url("followup", {"page_size": PAGE}), headers=headers).get_json()["next_cursor"]
    payload = cursor.rsplit(".", 1)[0]
    content = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert ":17" not in content and "2026" not in content  # only the fingerprint and the id


def test_the_openapi_spec_documents_the_cursor(app, client, admin_headers):
    spec = client.get("/api/v1/_openapi", headers=admin_headers).get_json()
    operation = spec["paths"]["/api/v1/customer/"]["get"]
    assert "cursor" in [p["name"] for p in operation["parameters"]]
    properties = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert "next_cursor" in properties and "count_capped" in properties


def test_a_cursor_with_a_custom_field_filter_and_no_cursor_for_a_custom_sort(app, client, admin_headers):
    answer = client.post("/api/v1/custom_field/", json={"module": "customer", "label": "城市", "type": "select",
                                                        "options": ["杭州", "上海"], "filterable": True},
                         headers=admin_headers)
    assert answer.status_code == 201, answer.get_json()
    city = answer.get_json()["name"]
    staff = client.post("/api/v1/custom_field/", json={"module": "customer", "label": "员工人数", "type": "integer",
                                                       "filterable": True}, headers=admin_headers).get_json()["name"]
    for i in range(23):
        body = {"company_name": f"城市客户{i % 5}", "mobile": f"1396{i:07d}", city: "杭州" if i % 3 else "上海",
                staff: i % 4}
        created = client.post("/api/v1/customer/", json=body, headers=admin_headers)
        assert created.status_code == 201, created.get_json()
        with app.app_context():  # set by follow-ups, not by the form: ties and empty values
            db.session.get(Customer, created.get_json()["id"]).last_followup_at = \
                None if i % 4 == 0 else DAY + dt.timedelta(days=i % 3)
            db.session.commit()
    flt = [{"col": city, "opr": "eq", "value": "杭州"}]
    for sort in ({}, {"order_column": "last_followup_at", "order_direction": "asc"},
                 {"order_column": "company_name", "order_direction": "desc"}):
        ids, count = _walk_by_cursor(client, admin_headers, filters=flt, **sort)
        assert ids == _walk_by_number(client, admin_headers, filters=flt, **sort) and len(ids) == count == 15
    # sorted on a custom field: page numbers only (no next_cursor; a cursor is refused)
    by_staff = client.get(_url("customer", {"page_size": PAGE, "order_column": staff}), headers=admin_headers)
    assert by_staff.status_code == 200 and by_staff.get_json()["next_cursor"] is None
    assert len(by_staff.get_json()["ids"]) == PAGE
    first = client.get(_url("customer", {"page_size": PAGE}), headers=admin_headers).get_json()
    refused = client.get(_url("customer", {"page_size": PAGE, "order_column": staff}, first["next_cursor"]),
                         headers=admin_headers)
    assert refused.status_code == 400 and "页码" in refused.get_json()["message"]
