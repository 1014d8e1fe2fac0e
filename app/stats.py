"""数据中心: the statistics of the 数据分析 rights, as SQL aggregates within the viewer's data scope.

Every figure is a GROUP BY owner (tables) or local day (series) over the records of the owners the viewer
may see (app/scopes.py), narrowed by the page's department subtree and employee filters; nothing is
cached and no record is looked at in Python. A figure belongs to an employee: customers to their current
owner (new), to whoever claimed them (claimed) or gave them back (returned); follow-ups, calls and sales to
the record's owner. Department rows add up their members' rows, grouped by each owner's *current*
department, so a manager's figures are exactly the sum of the team's.
"""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, false, func, literal, not_, or_, select, union_all
from sqlalchemy.orm import aliased

from app import fieldperms, scopes
from app.errors import CrmError, NotFound
from app.extensions import db
from app.roles import user_analysis
from app.stats_periods import Window, day_of_key, day_text, hour_buckets, hour_key, local_day
from models.call import DISPOSITIONS, CallRecord
from models.choices import Choice
from models.crm import FollowUp, OwnerHistory, Customer
from models.org import AccountState, Department, Employee
from models.sales import Contract, Invoice, Opportunity


@dataclass(frozen=True)
class Page:
    key: str
    subject: str          # customers / followups / calls / sales / ranking
    by: str               # employee / department
    rights: tuple         # any one of these 数据分析 rights opens the page
    label: object
    icon: str


PAGES = {page.key: page for page in (
    Page("employee_customers", "customers", "employee", ("customer_by_employee",),
         _l("Customer statistics by employee"), "fa-user"),
    Page("department_customers", "customers", "department", ("customer_by_department",),
         _l("Customer statistics by department"), "fa-users"),
    Page("employee_followups", "followups", "employee", ("followup_by_employee",),
         _l("Follow-up statistics by employee"), "fa-comments"),
    Page("department_followups", "followups", "department", ("followup_by_department",),
         _l("Follow-up statistics by department"), "fa-comments-o"),
    Page("employee_calls", "calls", "employee", ("call_by_employee",),
         _l("Call statistics by employee"), "fa-phone"),
    Page("department_calls", "calls", "department", ("call_by_department",),
         _l("Call statistics by department"), "fa-phone-square"),
    Page("employee_sales", "sales", "employee", ("sales_by_employee",),
         _l("Sales statistics by employee"), "fa-line-chart"),
    Page("department_sales", "sales", "department", ("sales_by_department",),
         _l("Sales statistics by department"), "fa-bar-chart"),
    # the ranking shows the call figures to those who may see call statistics by employee, the signed
    # amount to those who may see sales statistics by employee
    Page("ranking", "ranking", "employee", ("call_by_employee", "sales_by_employee"), _l("Ranking"), "fa-trophy"),
)}

# metric key -> label, per subject; the order is the table's
METRICS = {
    "customers": {"new_customers": _l("New customers"), "claimed": _l("Claimed from the pool"),
                  "released": _l("Returned to the pool")},
    "followups": {"followups": _l("Follow-ups"), "customers_followed": _l("Customers followed up"),
                  "way_call": _l("By phone"), "way_visit": _l("Visits"), "way_wechat": _l("By WeChat"),
                  "way_other": _l("Other ways"), "overdue": _l("Overdue next follow-ups")},
    "calls": {"dialed": _l("Calls dialed"), "connected": _l("Calls connected"), "connect_rate": _l("Connect rate %"),
              "talk_seconds": _l("Talk time (s)"), "talk_minutes": _l("Talk minutes"),
              "average_talk_seconds": _l("Average talk (s)")},
    "sales": {"opportunities": _l("New opportunities"), "opportunity_amount": _l("Opportunity amount"),
              "contracts": _l("Contracts signed"), "contract_amount": _l("Signed amount"),
              "invoices": _l("Invoices issued"), "invoice_amount": _l("Invoiced amount")},
    "ranking": {"dialed": _l("Calls dialed"), "connected": _l("Calls connected"),
                "talk_seconds": _l("Talk time (s)"), "talk_minutes": _l("Talk minutes"),
                "contract_amount": _l("Signed amount")},
}
DISPOSITION_CODES = tuple(code for code, _label in DISPOSITIONS)
DERIVED = {"connect_rate", "talk_minutes", "average_talk_seconds"}
AMOUNTS = {"opportunity_amount", "contract_amount", "invoice_amount"}
RANKING_RIGHTS = {"dialed": "call_by_employee", "connected": "call_by_employee", "talk_seconds": "call_by_employee",
                  "talk_minutes": "call_by_employee", "contract_amount": "sales_by_employee"}
# the series (by local day) each page draws
SERIES = {"customers": ("new_customers", "claimed", "released"), "followups": ("followups",),
          "calls": ("dialed", "connected", "talk_seconds"), "sales": ("contracts", "contract_amount"),
          "ranking": ()}


def rights_of(user) -> set[str]:
    return user_analysis(user)


def may_open(page: Page, rights: set[str]) -> bool:
    return any(right in rights for right in page.rights)


def visible_pages(user) -> list[Page]:
    rights = rights_of(user)
    return [page for page in PAGES.values() if may_open(page, rights)]


# the record field a figure adds up or counts by, and the field a chart groups by: a role that cannot see the
# field (field permissions: hidden) gets neither the figure nor the chart — a hidden field is shown nowhere,
# not as a sum either
METRIC_FIELDS = {"opportunity_amount": ("opportunity", "amount"), "contract_amount": ("contract", "amount"),
                 "invoice_amount": ("invoice", "amount"),
                 **{f"way_{way}": ("followup", "way") for way in ("call", "visit", "wechat", "other")}}
BREAKDOWN_FIELDS = {"status": ("customer", "status"), "source": ("customer", "source"),
                    "stages": ("opportunity", "stage")}


def _sees(user, module_field: tuple[str, str], cache: dict) -> bool:
    module, name = module_field
    if module not in cache:
        cache[module] = fieldperms.field_access(user, module)
    return fieldperms.access_for(module, name, cache[module]) != fieldperms.HIDDEN


def metric_keys(page: Page, rights: set[str], user=None) -> list[str]:
    """The page's figures for these 数据分析 rights; with `user`, without those adding up a field hidden from them."""
    keys = list(METRICS[page.subject])
    if page.subject == "ranking":
        keys = [key for key in keys if RANKING_RIGHTS[key] in rights]
    if user is not None:
        cache: dict = {}
        keys = [key for key in keys if key not in METRIC_FIELDS or _sees(user, METRIC_FIELDS[key], cache)]
    return keys


# ---------------------------------------------------------------- who is counted

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _id(value, field) -> Optional[int]:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number <= 0 or number > 2**31 - 1:
        raise NotFound(_l("This department does not exist.") if field == "department"
                       else _l("This employee does not exist."))
    return number


def audience(user, department=None, employee=None) -> Optional[set[int]]:
    """The owners whose records count: the viewer's data scope, within the department subtree and the
    employee asked for. None means every owner (全部, no filter). A department or employee outside the
    scope is NotFound (404), as a record outside it is elsewhere."""
    user_scopes = scopes.user_scopes(user)
    owners: Optional[set[int]] = None if scopes.ALL in user_scopes else (
        scopes.owner_ids(user, user_scopes) if user_scopes else set())
    in_scope = owners
    department_id, employee_id = _id(department, "department"), _id(employee, "employee")
    if department_id is not None:
        node = db.session.get(Department, department_id)
        if node is None or not _department_in_scope(user, user_scopes, node, owners):
            raise NotFound(_l("This department does not exist."))
        members = set(db.session.scalars(select(Employee.id).join(Department, Employee.department_id == Department.id)
                                         .where(Department.path.startswith(node.path))))
        owners = members if owners is None else owners & members
    if employee_id is not None:
        found = db.session.get(Employee, employee_id)
        if found is None or (in_scope is not None and employee_id not in in_scope):
            raise NotFound(_l("This employee does not exist."))
        owners = {employee_id} if owners is None else owners & {employee_id}
    return owners


def _department_in_scope(user, user_scopes, node: Department, owners) -> bool:
    if owners is None:
        return True
    own = db.session.get(Department, user.department_id) if user.department_id else None
    if own is not None and scopes.DEPARTMENT_TREE in user_scopes and node.path.startswith(own.path):
        return True
    if own is not None and scopes.DEPARTMENT in user_scopes and node.id == own.id:
        return True
    return db.session.scalar(select(Employee.id).join(Department, Employee.department_id == Department.id).where(
        Department.path.startswith(node.path), Employee.id.in_(sorted(owners) or [0])).limit(1)) is not None


def owned_by(column, owners: Optional[set[int]]):
    if owners is None:
        return column.isnot(None)
    if not owners:
        return false()
    # a literal list, as app/scopes.py does: the planner sees how many owners and probes the owner index
    return column.in_(bindparam("stats_owners", sorted(owners), expanding=True, literal_execute=True, unique=True))


# ---------------------------------------------------------------- the aggregates, per source

def _sum_if(condition):
    return func.sum(case((condition, 1), else_=0))


def _sources(subject: str, window: Window, owners, keys: Iterable[str], day: bool) -> list:
    """Selects of (group, metric...) for the subject; `group` is the owner or, with `day`, the local day."""
    keys = [k for k in keys if k not in DERIVED]
    start, end = window.start_utc, window.end_utc
    dialect = _dialect()
    parts = []

    by_hour = hour_buckets(window, dialect)

    def part(table_column, time_column, where, metrics: dict, date_column=False):
        if not day:
            group = table_column
        elif date_column:
            group = time_column  # already a local day
        else:
            group = hour_key(time_column) if by_hour else local_day(time_column, window, dialect)
        group = group.label("grp")
        columns = [group] + [metrics.get(key, literal(0)).label(key) for key in keys]
        if any(key in metrics for key in keys):
            parts.append(select(*columns).where(owned_by(table_column, owners), *where).group_by(group))

    if subject == "customers":
        part(Customer.owner_id, Customer.created_at, [Customer.created_at >= start, Customer.created_at < end],
             {"new_customers": func.count()})
        part(OwnerHistory.to_owner_id, OwnerHistory.at,
             [OwnerHistory.action == "claim", OwnerHistory.at >= start, OwnerHistory.at < end],
             {"claimed": func.count()})
        part(OwnerHistory.from_owner_id, OwnerHistory.at,
             [OwnerHistory.action.in_(("release", "auto_release")), OwnerHistory.at >= start, OwnerHistory.at < end],
             {"released": func.count()})
    elif subject == "followups":
        metrics = {"followups": func.count(), "customers_followed": func.count(FollowUp.customer_id.distinct())}
        metrics.update({f"way_{way}": _sum_if(FollowUp.way == way) for way in ("call", "visit", "wechat")})
        metrics["way_other"] = _sum_if(FollowUp.way.notin_(("call", "visit", "wechat")))
        part(FollowUp.owner_id, FollowUp.followed_at, [FollowUp.followed_at >= start, FollowUp.followed_at < end],
             metrics)
        if not day:
            later = aliased(FollowUp)
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            part(FollowUp.owner_id, FollowUp.next_followup_at,
                 [FollowUp.next_followup_at >= start, FollowUp.next_followup_at < min(end, now),
                  not_(select(later.id).where(later.customer_id == FollowUp.customer_id,
                                              later.followed_at > FollowUp.followed_at).exists())],
                 {"overdue": func.count()})
    elif subject in ("calls", "ranking"):
        part(CallRecord.owner_id, CallRecord.created_at,
             [CallRecord.created_at >= start, CallRecord.created_at < end],
             {"dialed": func.count(), "connected": _sum_if(CallRecord.disposition == "answered"),
              "talk_seconds": func.coalesce(func.sum(CallRecord.talk_seconds), 0),
              # the dispositions chart, counted in the same pass as the calls by day
              **{f"disposition_{code}": _sum_if(CallRecord.disposition == code) for code in DISPOSITION_CODES},
              "disposition_": _sum_if(or_(CallRecord.disposition.is_(None),
                                          CallRecord.disposition.notin_(DISPOSITION_CODES)))})
    if subject in ("sales", "ranking"):
        if subject == "sales":
            part(Opportunity.owner_id, Opportunity.created_at,
                 [Opportunity.created_at >= start, Opportunity.created_at < end],
                 {"opportunities": func.count(), "opportunity_amount": func.coalesce(func.sum(Opportunity.amount), 0)})
            part(Invoice.owner_id, Invoice.issued_on, [Invoice.issued_on >= window.start,
                                                       Invoice.issued_on <= window.end],
                 {"invoices": func.count(), "invoice_amount": func.coalesce(func.sum(Invoice.amount), 0)},
                 date_column=True)
        part(Contract.owner_id, Contract.signed_on, [Contract.signed_on >= window.start,
                                                     Contract.signed_on <= window.end],
             {"contracts": func.count(), "contract_amount": func.coalesce(func.sum(Contract.amount), 0)},
             date_column=True)
    return parts


def _combined(subject, window, owners, keys, day: bool):
    """One select: the sources' rows added up per group (owner or day)."""
    base = [k for k in keys if k not in DERIVED]
    parts = _sources(subject, window, owners, base, day)
    if not parts:
        return None, base
    union = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("figures")
    group = union.c.grp
    if day and hour_buckets(window, _dialect()):
        group = day_of_key(union.c.grp, window)  # hours -> local days: a few hundred rows, not every record
    group = group.label("grp")
    return select(group, *[func.sum(union.c[k]).label(k) for k in base]).group_by(group), base


# ---------------------------------------------------------------- shaping the answer

def _number(key, value):
    if value is None:
        return 0
    if key in AMOUNTS:
        return float(decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01")))
    return int(value)


def _derive(row: dict) -> dict:
    if "dialed" in row:
        row["connect_rate"] = round(100.0 * row["connected"] / row["dialed"], 1) if row["dialed"] else 0.0
        row["average_talk_seconds"] = round(row["talk_seconds"] / row["connected"], 1) if row["connected"] else 0.0
    if "talk_seconds" in row:
        row["talk_minutes"] = round(row["talk_seconds"] / 60.0, 1)
    return row


def _employee_rows(figures, base, owners, rank_by: Optional[str] = None) -> list[dict]:
    agg = figures.subquery("per_owner")
    counted = [func.coalesce(agg.c[k], 0).label(k) for k in base]
    order = ([func.coalesce(agg.c[k], 0).desc() for k in [rank_by] + [k for k in base if k != rank_by]]
             if rank_by else [Department.path])
    query = (select(Employee.id, Employee.first_name, Department.id, Department.name, *counted)
             .outerjoin(agg, agg.c.grp == Employee.id)
             .outerjoin(Department, Employee.department_id == Department.id)
             .where(owned_by(Employee.id, owners),
                    or_(Employee.state != AccountState.RESIGNED.value, agg.c.grp.isnot(None)))
             .order_by(*order, Employee.first_name, Employee.id))
    rows = []
    for emp_id, name, dept_id, dept_name, *values in db.session.execute(query):
        row = {"employee_id": emp_id, "employee": name, "department_id": dept_id, "department": dept_name or ""}
        row.update({k: _number(k, v) for k, v in zip(base, values)})
        rows.append(_derive(row))
    return rows


def _department_rows(figures, base, owners) -> list[dict]:
    agg = figures.subquery("per_owner")
    members = (select(Employee.department_id.label("department_id"),
                      func.count(Employee.id).label("members"),
                      *[func.sum(func.coalesce(agg.c[k], 0)).label(k) for k in base])
               .outerjoin(agg, agg.c.grp == Employee.id)
               .where(owned_by(Employee.id, owners),
                      or_(Employee.state != AccountState.RESIGNED.value, agg.c.grp.isnot(None)))
               .group_by(Employee.department_id)).subquery("per_department")
    query = (select(members, Department.name, Department.path)
             .outerjoin(Department, Department.id == members.c.department_id)
             .order_by(Department.path.is_(None), Department.path))
    rows = []
    for record in db.session.execute(query).mappings():
        row = {"department_id": record["department_id"], "department": record["name"] or "",
               "members": int(record["members"])}
        row.update({k: _number(k, record[k]) for k in base})
        rows.append(_derive(row))
    return rows


def _series(subject, window, owners, keys) -> tuple[list[dict], dict]:
    """The figures by local day, and (calls) the dispositions counted in the same pass."""
    wanted = [k for k in SERIES[subject] if k in keys]
    if not wanted:
        return [], {}
    extra = [f"disposition_{code}" for code in DISPOSITION_CODES + ("",)] if subject == "calls" else []
    figures, base = _combined(subject, window, owners, wanted + extra, day=True)
    found = {day_text(grp): values for grp, *values in db.session.execute(figures)}
    series, counted = [], dict.fromkeys(extra, 0)
    for day in window.days:
        values = dict(zip(base, found.get(day.isoformat(), [0] * len(base))))
        series.append({"date": day.isoformat(), **{k: _number(k, values[k]) for k in wanted}})
        for k in extra:
            counted[k] += int(values[k] or 0)
    breakdowns = {}
    if subject == "calls":
        items = [{"name": k.removeprefix("disposition_"), "count": n} for k, n in counted.items() if n]
        breakdowns["dispositions"] = sorted(items, key=lambda item: -item["count"])
    return series, breakdowns


def _total(rows: list[dict], keys) -> dict:
    total = {k: 0 for k in keys if k not in DERIVED}
    for row in rows:
        for k in total:
            total[k] += row[k]
    for k in AMOUNTS & set(total):
        total[k] = round(total[k], 2)
    return _derive(total)


def _breakdowns(subject, window, owners, user=None) -> dict:
    """The charts beside the table: new customers by status and source, follow-ups by way, calls by
    disposition, opportunities by stage (the funnel); with `user`, none by a field hidden from them (nor the
    funnel's amounts when the opportunities' amount is)."""
    start, end = window.start_utc, window.end_utc
    out = {}
    cache: dict = {}

    def by_choice(name, column, model, where, amount=None):
        if user is not None and not _sees(user, BREAKDOWN_FIELDS[name], cache):
            return
        if user is not None and amount is not None and not _sees(user, METRIC_FIELDS["opportunity_amount"], cache):
            amount = None
        choice = aliased(Choice)
        measures = [func.count().label("count")] + ([func.coalesce(func.sum(amount), 0).label("amount")]
                                                    if amount is not None else [])
        query = (select(choice.name, *measures).select_from(model).outerjoin(choice, choice.id == column)
                 .where(*where).group_by(choice.id, choice.name, choice.sort_order)
                 .order_by(choice.sort_order.is_(None), choice.sort_order))
        out[name] = [{"name": label or "", "count": int(count), **({"amount": _number("contract_amount", rest[0])}
                                                                 if rest else {})}
                     for label, count, *rest in db.session.execute(query)]

    if subject == "customers":
        where = [owned_by(Customer.owner_id, owners), Customer.created_at >= start, Customer.created_at < end]
        by_choice("status", Customer.status_id, Customer, where)
        by_choice("source", Customer.source_id, Customer, where)
    elif subject == "sales":
        by_choice("stages", Opportunity.stage_id, Opportunity,
                  [owned_by(Opportunity.owner_id, owners), Opportunity.created_at >= start,
                   Opportunity.created_at < end], amount=Opportunity.amount)
    return out


def statistics(page: Page, user, window: Window, department=None, employee=None, rights=None,
               rank_by: Optional[str] = None) -> dict:
    """{"series": [per local day], "table": [per employee or department], "total": {the sum row},
    "breakdowns": {...}, "columns": [metric keys]} for what the user may see."""
    rights = rights_of(user) if rights is None else rights
    owners = audience(user, department, employee)
    keys = metric_keys(page, rights, user)
    figures, base = _combined(page.subject, window, owners, keys, day=False)
    extra = {}
    if page.by == "department":
        rows = _department_rows(figures, base, owners)
    elif page.subject == "ranking":
        if rank_by not in base:
            if rank_by:
                raise CrmError(_l("Rank by one of: %(keys)s", keys=", ".join(base)), field="by")
            rank_by = base[0]
        rows = _employee_rows(figures, base, owners, rank_by=rank_by)
        for place, row in enumerate(rows, 1):
            row["rank"] = place
        extra["rank_by"] = rank_by
    else:
        rows = _employee_rows(figures, base, owners)
    series, counted_with_series = _series(page.subject, window, owners, keys)
    return {"page": page.key, "from": window.start.isoformat(), "to": window.end.isoformat(), **extra,
            "columns": keys, "series": series, "table": rows, "total": _total(rows, keys),
            "breakdowns": {**_breakdowns(page.subject, window, owners, user), **counted_with_series}}
