"""A scoped list sorted by 最后跟进时间 (app/scope_plan.py) and SQLite's statistics (app/sqlite_stats.py).

On SQLite, a 本人及下属 viewer over a good share of the customers gets a page that walks the sort's index
(`+owner_id IN …`, no temporary sort), a viewer over a few owners keeps the owner index, the count keeps it
too; either way the rows are the ones the sort asks for. On PostgreSQL the SQL stays plain `IN`."""
import datetime as dt

import prison
import pytest
from sqlalchemy import event, insert, select, text

from app import scope_plan, sqlite_stats
from app.extensions import db
from models.crm import Customer
from tests import factories as f
from tests.conftest import bearer, web_login

EMPLOYEES, PER_EMPLOYEE = 40, 100
START = dt.datetime(2026, 1, 1)


def _forget_statistics():
    """An earlier test's ANALYZE stays in sqlite_stat1 (the tables are emptied between tests, not dropped)."""
    if db.engine.dialect.name == "sqlite" and db.session.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        db.session.execute(text("DELETE FROM sqlite_stat1"))
        db.session.commit()
    scope_plan._facts.clear()


@pytest.fixture
def team(app):
    """40 salespeople; a lead (本人及下属) over 11 of them, a small lead over 1; 100 customers each (every third
    without a follow-up), statistics analyzed."""
    with app.app_context():
        _forget_statistics()
        dept = f.department("销售部")
        lead = f.employee("大主管", dept=dept, role="销售主管")
        small = f.employee("小主管", dept=dept, role="销售主管")
        people = [lead, small]
        people += [f.employee(f"销售{i}", dept=dept, manager=lead) for i in range(11)]
        people += [f.employee("小组员", dept=dept, manager=small)]
        people += [f.employee(f"其他{i}", dept=dept) for i in range(EMPLOYEES - len(people))]
        rows = []
        for index in range(EMPLOYEES * PER_EMPLOYEE):
            owner = people[index % EMPLOYEES]
            followed = None if index % 3 == 0 else START + dt.timedelta(minutes=(index * 7919) % 100_000)
            rows.append({"company_name": f"计划客户{index:05d}", "mobile": f"139{index:08d}", "owner_id": owner.id,
                         "department_id": dept.id, "last_followup_at": followed,
                         "created_at": START, "updated_at": START})
        db.session.execute(insert(Customer), rows)
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            assert "customer" in sqlite_stats.refresh_engine(db.engine)
        else:
            db.session.execute(text("ANALYZE customer"))
            db.session.commit()
        scope_plan._facts.clear()
        owners = {"lead": {p.id for p in people[:13] if p is not small},
                  "small": {small.id, people[13].id}}
        logins = {"lead": lead.username, "small": small.username}
        return owners, logins


def _expected(app, owners, offset=0, limit=50):
    with app.app_context():
        found = db.session.execute(select(Customer.company_name, Customer.last_followup_at, Customer.id)
                                   .where(Customer.owner_id.in_(owners))).all()
    found.sort(key=lambda r: (r.last_followup_at is None, -(r.last_followup_at.timestamp() if r.last_followup_at
                                                            else 0), -r.id))
    return [r.company_name for r in found[offset:offset + limit]]


class Statements:
    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if "FROM customer" in statement and "owner_id" in statement:
            self.seen.append((statement, parameters))

    def page(self):
        return next((s, p) for s, p in self.seen if "ORDER BY" in s and "count(" not in s)

    def count(self):
        return next(s for s, _ in self.seen if "count(" in s)


def _api_page(client, headers, page=0):
    q = prison.dumps({"order_column": "last_followup_at", "order_direction": "desc", "page": page,
                      "page_size": 50, "columns": ["company_name"]})
    response = client.get(f"/api/v1/customer/?q={q}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [row["company_name"] for row in response.get_json()["result"]]


def _plan(app, statement, parameters):
    with app.app_context():
        return " | ".join(row[3] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters).all())


def test_a_broad_scope_walks_the_sort_index_and_a_narrow_one_probes_its_owners(app, client, team):
    owners, logins = team
    with app.app_context():
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
    for who, walks in (("lead", True), ("small", False)):
        headers = bearer(client, logins[who], f.PASSWORD)
        with Statements(engine) as seen:
            names = _api_page(client, headers)
        assert names == _expected(app, owners[who]), who
        page, parameters = seen.page()
        assert "+ customer.owner_id" not in seen.count(), "the count keeps the owner index"
        if not sqlite:
            assert "+ customer.owner_id" not in page
            continue
        assert ("(+ customer.owner_id) IN" in page) is walks, (who, page)
        plan = _plan(app, page, parameters)
        if walks:
            assert "ix_customer_last_followup_at" in plan and "TEMP B-TREE" not in plan, plan
        else:
            assert "owner_id" in plan, plan


def test_a_page_past_the_walking_budget_probes_and_every_page_is_right(app, client, team):
    owners, logins = team
    headers = bearer(client, logins["lead"], f.PASSWORD)
    with app.app_context():
        engine, sqlite = db.engine, db.engine.dialect.name == "sqlite"
    for page in (0, 3, 23):  # 1,200 rows in scope: page 23 is the last
        with Statements(engine) as seen:
            names = _api_page(client, headers, page)
        assert names == _expected(app, owners["lead"], offset=page * 50), page
        if sqlite:
            statement, _ = seen.page()
            with app.app_context():
                budget = scope_plan.table_facts(db.session.connection(), "customer", "owner_id")
                share = len(owners["lead"]) * budget.rows_per_owner / budget.rows
                walk_rows = share * share * budget.rows * scope_plan.PROBE_TO_WALK
            assert ("(+ customer.owner_id) IN" in statement) is (page * 50 + 50 <= walk_rows), (page, walk_rows)


def test_the_list_screen_sorted_by_follow_up_shows_the_right_customers(app, client, team):
    owners, logins = team
    assert web_login(client, logins["lead"], f.PASSWORD).status_code == 200
    body = client.get("/customer/list/?_oc_CustomerView=last_followup_at&_od_CustomerView=desc&psize_CustomerView=25"
                      ).get_data(as_text=True)
    expected = _expected(app, owners["lead"], limit=25)
    positions = [body.index(name) for name in expected]
    assert positions == sorted(positions)
    assert _expected(app, owners["lead"], offset=25, limit=1)[0] not in body


def test_statistics_are_written_when_missing_and_again_when_a_table_doubles(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            assert sqlite_stats.refresh_engine(db.engine) == []  # PostgreSQL keeps its own
            return
        _forget_statistics()
        owner = f.admin()
        rows = [{"company_name": f"统计{i}", "mobile": f"137{i:08d}", "owner_id": owner.id, "created_at": START,
                 "updated_at": START} for i in range(sqlite_stats.MIN_ROWS + 10)]
        db.session.execute(insert(Customer), rows)
        db.session.commit()
        with db.engine.connect() as connection:
            assert "customer" in sqlite_stats.stale_tables(connection)
            assert "customer" in sqlite_stats.refresh(connection)
            assert "customer" not in sqlite_stats.stale_tables(connection), "analyzed: up to date"
            assert "customer_fts_data" not in sqlite_stats.stale_tables(connection)
        db.session.execute(insert(Customer), [dict(r, mobile="136" + r["mobile"][3:]) for r in rows])
        db.session.execute(insert(Customer), [dict(r, mobile="135" + r["mobile"][3:]) for r in rows])
        db.session.commit()
        with db.engine.connect() as connection:
            assert "customer" in sqlite_stats.stale_tables(connection), "three times the rows"
            stat = connection.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'customer'")).scalars().first()
            assert stat.split()[0] == str(len(rows))


def test_the_server_refreshes_statistics_after_a_request_when_due(app, client):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        _forget_statistics()
        owner = f.admin()
        db.session.execute(insert(Customer), [
            {"company_name": f"请求{i}", "mobile": f"134{i:08d}", "owner_id": owner.id, "created_at": START,
             "updated_at": START} for i in range(sqlite_stats.MIN_ROWS + 10)])
        db.session.commit()
    app.config["SQLITE_ANALYZE_SECONDS"] = 3600
    sqlite_stats._due = 0.0
    try:
        assert client.get("/login/").status_code == 200
        sqlite_stats.worker.join(timeout=30)
        assert client.get("/login/").status_code == 200
        assert not sqlite_stats._lock.locked()
    finally:
        app.config["SQLITE_ANALYZE_SECONDS"] = 0
    with app.app_context():
        stat = db.session.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'customer'")).scalars().first()
        assert stat and int(stat.split()[0]) >= sqlite_stats.MIN_ROWS
