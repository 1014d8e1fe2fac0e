"""The data center's figures on the hand-built data set (tests/statsdata.py): exact per employee, department
and local day, with records on both sides of midnight Asia/Shanghai while the database stores UTC."""
import datetime as dt

import pytest

from app import stats
from app.errors import CrmError, NotFound
from app.extensions import db
from app.stats_periods import Window, local_day, resolve_window
from models.call import CallRecord
from models.org import Employee
from tests import statsdata as data

PAGES = stats.PAGES


@pytest.fixture
def dataset(ctx):
    return data.build()


def march():
    return resolve_window(None, *data.MARCH)


def user(pk):
    return db.session.get(Employee, pk)


def admin():
    return db.session.query(Employee).filter_by(username="admin").one()


def by_employee(result, ids, keys):
    rows = {row["employee_id"]: row for row in result["table"]}
    return {name: tuple(rows[pk][k] for k in keys) for name, pk in ids.items() if pk in rows}


def test_call_figures_per_employee_and_day_at_midnight_boundaries(dataset):
    result = stats.statistics(PAGES["employee_calls"], admin(), march())
    names = {k: getattr(dataset, k) for k in data.CALLS}
    assert by_employee(result, names, ("dialed", "connected", "talk_seconds")) == data.CALLS
    days = {row["date"]: (row["dialed"], row["connected"], row["talk_seconds"]) for row in result["series"]}
    assert len(days) == 31 and days["2026-03-01"] == data.CALL_DAYS["2026-03-01"]
    assert {d: v for d, v in days.items() if v != (0, 0, 0)} == data.CALL_DAYS
    assert (result["total"]["dialed"], result["total"]["connected"], result["total"]["talk_seconds"]) == (8, 5, 265)
    s1 = next(row for row in result["table"] if row["employee_id"] == dataset.s1)
    assert s1["connect_rate"] == 66.7 and s1["average_talk_seconds"] == 45.0 and s1["talk_minutes"] == 1.5


def test_departments_group_by_the_owners_current_department(dataset):
    result = stats.statistics(PAGES["department_calls"], admin(), march())
    rows = {row["department_id"]: (row["members"], row["dialed"], row["connected"], row["talk_seconds"])
            for row in result["table"]}
    # s2's call on 03-31 was made while in 销售二部 (snapshot B) but counts for 销售一部, where s2 is now
    assert rows[dataset.a] == (2, 3, 1, 45)
    assert rows[dataset.a1] == (1, 3, 2, 90)
    assert rows[dataset.b] == (2, 2, 2, 130)
    assert dataset.hq not in rows  # nobody works directly in 总部
    assert result["total"]["dialed"] == sum(row["dialed"] for row in result["table"]) == 8


def test_customer_figures(dataset):
    result = stats.statistics(PAGES["employee_customers"], admin(), march())
    names = {k: getattr(dataset, k) for k in data.CUSTOMERS}
    assert by_employee(result, names, ("new_customers", "claimed", "released")) == data.CUSTOMERS
    # the pool customer made in March is nobody's new customer
    assert result["total"]["new_customers"] == 2
    days = {row["date"]: (row["new_customers"], row["claimed"], row["released"]) for row in result["series"]}
    assert days["2026-03-01"] == (1, 0, 0) and days["2026-03-03"] == (0, 1, 0) and days["2026-03-31"] == (0, 0, 1)
    assert days["2026-03-20"] == (1, 0, 0)
    status = {item["name"]: item["count"] for item in result["breakdowns"]["status"]}
    assert status == {"潜在客户": 1, "意向客户": 1}
    assert {item["name"]: item["count"] for item in result["breakdowns"]["source"]} == {"网络推广": 1, "": 1}


def test_followup_figures(dataset):
    result = stats.statistics(PAGES["employee_followups"], admin(), march())
    keys = ("followups", "customers_followed", "way_call", "way_visit", "way_wechat", "way_other", "overdue")
    names = {k: getattr(dataset, k) for k in data.FOLLOWUPS}
    assert by_employee(result, names, keys) == data.FOLLOWUPS
    days = {row["date"]: row["followups"] for row in result["series"] if row["followups"]}
    assert days == {"2026-03-02": 2, "2026-03-04": 1, "2026-03-10": 1}


def test_sales_figures_and_funnel(dataset):
    result = stats.statistics(PAGES["employee_sales"], admin(), march())
    keys = ("opportunities", "opportunity_amount", "contracts", "contract_amount", "invoices", "invoice_amount")
    names = {k: getattr(dataset, k) for k in data.SALES}
    assert by_employee(result, names, keys) == data.SALES
    assert result["total"]["opportunity_amount"] == 1500.5
    stages = [(s["name"], s["count"], s["amount"]) for s in result["breakdowns"]["stages"]]
    assert stages == [("初步接洽", 1, 1000.0), ("需求确认", 1, 500.5)]
    assert {row["date"]: row["contract_amount"] for row in result["series"] if row["contracts"]} == {
        "2026-03-31": 2000.0}


def test_a_manager_sees_the_sum_of_the_team(dataset):
    boss = user(dataset.boss)
    result = stats.statistics(PAGES["employee_calls"], boss, march())
    assert {row["employee_id"] for row in result["table"]} == {dataset.boss, dataset.s1, dataset.s2}
    team = [data.CALLS[k] for k in ("boss", "s1", "s2")]
    assert result["total"]["dialed"] == sum(t[0] for t in team) == 6
    assert result["total"]["talk_seconds"] == sum(t[2] for t in team)
    assert sum(row["dialed"] for row in result["series"]) == 6
    departments = stats.statistics(PAGES["department_calls"], boss, march())
    assert departments["total"]["dialed"] == 6
    assert {row["department_id"] for row in departments["table"]} == {dataset.a, dataset.a1}


def test_a_salesperson_sees_only_their_own(dataset):
    s1 = user(dataset.s1)
    result = stats.statistics(PAGES["employee_calls"], s1, march())
    assert [row["employee_id"] for row in result["table"]] == [dataset.s1]
    assert result["total"]["dialed"] == 3
    assert sum(item["count"] for item in result["breakdowns"]["dispositions"]) == 3


def test_filters_by_department_subtree_and_employee(dataset):
    result = stats.statistics(PAGES["employee_calls"], admin(), march(), department=dataset.a)
    assert {row["employee_id"] for row in result["table"]} == {dataset.boss, dataset.s1, dataset.s2}
    assert result["total"]["dialed"] == 6
    result = stats.statistics(PAGES["employee_calls"], admin(), march(), employee=dataset.s3)
    assert [row["employee_id"] for row in result["table"]] == [dataset.s3] and result["total"]["dialed"] == 2
    result = stats.statistics(PAGES["employee_calls"], user(dataset.boss), march(), department=dataset.a1)
    assert result["total"]["dialed"] == 3


def test_a_department_or_employee_outside_the_scope_is_not_found(dataset):
    boss = user(dataset.boss)
    for kwargs in ({"department": dataset.b}, {"employee": dataset.s3}, {"department": 999999},
                   {"employee": "abc"}, {"department": "-1"}):
        with pytest.raises(NotFound):
            stats.statistics(PAGES["employee_calls"], boss, march(), **kwargs)
    with pytest.raises(NotFound):
        stats.statistics(PAGES["employee_calls"], user(dataset.s1), march(), employee=dataset.s2)


def test_ranking_orders_by_calls_and_shows_only_the_rights_held(dataset):
    result = stats.statistics(PAGES["ranking"], admin(), march())
    # by calls dialed, ties broken by calls connected
    assert [row["employee_id"] for row in result["table"][:4]] == [dataset.s1, dataset.s3, dataset.s2, dataset.boss]
    assert [row["rank"] for row in result["table"][:3]] == [1, 2, 3]
    assert result["table"][0]["contract_amount"] == 2000.0
    by_talk = stats.statistics(PAGES["ranking"], admin(), march(), rank_by="talk_seconds")
    assert [row["employee_id"] for row in by_talk["table"][:3]] == [dataset.s3, dataset.s1, dataset.s2]
    by_amount = stats.statistics(PAGES["ranking"], admin(), march(), rank_by="contract_amount")
    assert by_amount["table"][0]["employee_id"] == dataset.s1 and by_amount["rank_by"] == "contract_amount"
    # 坐席 holds call statistics but not sales: no signed amount in their ranking
    agent_view = stats.statistics(PAGES["ranking"], user(dataset.agent), march())
    assert "contract_amount" not in agent_view["columns"] and "contract_amount" not in agent_view["table"][0]


def test_periods_are_local_days():
    wednesday = dt.date(2026, 3, 4)
    assert resolve_window("today", today=wednesday) == Window(wednesday, wednesday, "today")
    assert resolve_window("week", today=wednesday) == Window(dt.date(2026, 3, 2), dt.date(2026, 3, 8), "week")
    assert resolve_window("month", today=wednesday) == Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "month")
    assert resolve_window("last_month", today=dt.date(2026, 1, 15)) == Window(
        dt.date(2025, 12, 1), dt.date(2025, 12, 31), "last_month")
    assert resolve_window(None, "2026-02-01", None, today=wednesday).end == dt.date(2026, 2, 1)


def test_window_bounds_are_the_utc_instants_of_local_midnight(ctx):
    window = march()
    assert window.start_utc == dt.datetime(2026, 2, 28, 16, 0)
    assert window.end_utc == dt.datetime(2026, 3, 31, 16, 0)


@pytest.mark.parametrize("bad", [("2026-13-01", None), ("2026-03-10", "2026-03-01"), ("2025-01-01", "2026-03-01"),
                                 ("x", "y")])
def test_bad_dates_are_refused(ctx, bad):
    with pytest.raises(CrmError):
        resolve_window(None, *bad)


def test_a_zone_with_daylight_saving_groups_by_its_own_midnights(ctx, app, dataset):
    """New York moves its clocks on 2026-03-08: one offset before, another after; the CASE path is exact."""
    app.config["TIMEZONE"] = "America/New_York"
    try:
        window = resolve_window(None, "2026-03-07", "2026-03-09")
        assert window.fixed_offset() is None
        db.session.add_all([
            CallRecord(provider="dst", provider_call_id="a", owner_id=dataset.s1, created_at=dt.datetime(2026, 3, 8, 4, 59)),
            CallRecord(provider="dst", provider_call_id="b", owner_id=dataset.s1, created_at=dt.datetime(2026, 3, 8, 5, 0)),
            CallRecord(provider="dst", provider_call_id="c", owner_id=dataset.s1, created_at=dt.datetime(2026, 3, 9, 3, 59)),
            CallRecord(provider="dst", provider_call_id="d", owner_id=dataset.s1, created_at=dt.datetime(2026, 3, 9, 4, 0)),
        ])
        db.session.commit()
        day = local_day(CallRecord.created_at, window, db.session.get_bind().dialect.name)
        from sqlalchemy import select

        found = dict(db.session.execute(select(CallRecord.provider_call_id, day).where(CallRecord.provider == "dst")).all())
        assert {k: str(v) for k, v in found.items()} == {"a": "2026-03-07", "b": "2026-03-08", "c": "2026-03-08",
                                                          "d": "2026-03-09"}
        result = stats.statistics(PAGES["employee_calls"], admin(), window, employee=dataset.s1)
        assert [row["dialed"] for row in result["series"]] == [1, 2, 1]
    finally:
        app.config["TIMEZONE"] = "Asia/Shanghai"
