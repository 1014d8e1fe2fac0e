"""Sorting a list on a column that may be empty puts the empty ones last in both directions, through
the screen and the API, on SQLite and PostgreSQL alike (issue 11); on PostgreSQL the DESC sort walks
the DESC NULLS LAST index of migration 0012_speed."""
import datetime as dt

import prison
from sqlalchemy import text

from app.extensions import db
from tests import factories as f
from tests.conftest import web_login

DAY = dt.datetime(2026, 11, 1, 9, 0)


def _customers(ctx_app):
    with ctx_app.app_context():
        names = {}
        for name, followed in (("无跟进甲", None), ("早跟进", DAY), ("无跟进乙", None), ("晚跟进", DAY + dt.timedelta(days=3)),
                               ("中跟进", DAY + dt.timedelta(days=1))):
            names[name] = f.customer(f.admin(), name=name, last_followup_at=followed).id
        return names


def _order_on_screen(client, direction):
    page = client.get(f"/customer/list/?_oc_CustomerView=last_followup_at&_od_CustomerView={direction}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    names = ["无跟进甲", "早跟进", "无跟进乙", "晚跟进", "中跟进"]
    return sorted(names, key=body.index)


def _order_by_api(client, headers, direction):
    q = prison.dumps({"order_column": "last_followup_at", "order_direction": direction,
                      "columns": ["company_name"]})
    response = client.get(f"/api/v1/customer/?q={q}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [row["company_name"] for row in response.get_json()["result"]]


def test_customers_without_a_follow_up_come_last_both_ways(app, client, admin_headers):
    _customers(app)
    for order in (_order_by_api(client, admin_headers, "desc"),):
        assert order[:3] == ["晚跟进", "中跟进", "早跟进"] and set(order[3:]) == {"无跟进甲", "无跟进乙"}
    order = _order_by_api(client, admin_headers, "asc")
    assert order[:3] == ["早跟进", "中跟进", "晚跟进"] and set(order[3:]) == {"无跟进甲", "无跟进乙"}
    web_login(client)
    assert _order_on_screen(client, "desc")[:3] == ["晚跟进", "中跟进", "早跟进"]
    assert _order_on_screen(client, "asc")[:3] == ["早跟进", "中跟进", "晚跟进"]


def test_an_empty_amount_sorts_last_in_another_module(app, client, admin_headers):
    with app.app_context():
        owner = f.admin()
        customer = f.customer(owner, name="报价客户")
        from models.sales import Opportunity
        for name, amount in (("无金额", None), ("小单", 100), ("大单", 9000)):
            db.session.add(Opportunity(name=name, amount=amount, customer_id=customer.id, owner_id=owner.id,
                                       department_id=owner.department_id))
        db.session.commit()
    for direction, expected in (("desc", ["大单", "小单", "无金额"]), ("asc", ["小单", "大单", "无金额"])):
        q = prison.dumps({"order_column": "amount", "order_direction": direction, "columns": ["name"]})
        response = client.get(f"/api/v1/opportunity/?q={q}", headers=admin_headers)
        assert [r["name"] for r in response.get_json()["result"]] == expected


def test_postgresql_sorts_desc_by_its_index(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))  # a tiny table: ask which index the sort can use
            plan = [r[0].strip().lstrip("-> ") for r in conn.execute(text(
                "EXPLAIN SELECT id FROM customer ORDER BY last_followup_at DESC NULLS LAST LIMIT 50"))]
        assert any("ix_customer_last_followup_at_desc" in line for line in plan), plan
        assert not any(line.startswith("Sort") for line in plan), plan
