"""A hand-built data set for the data center, March 2026 in Asia/Shanghai (UTC+8), with records on both
sides of local midnights. The expected figures below are worked out by hand from the rows, not computed.

    总部 ─┬─ 销售一部 (A): 经理 M (销售主管, 本人及下属), s2 (manager M)
          │    └─ 一组 (A1): s1 (manager M)
          └─ 销售二部 (B): s3 (销售, no manager)
"""
from __future__ import annotations

import datetime as dt
import decimal
from types import SimpleNamespace

from app.extensions import db
from models.call import CallRecord
from models.crm import Customer, FollowUp, OwnerHistory
from models.sales import Contract, Invoice, Opportunity
from tests import factories as f

U = dt.datetime  # naive UTC, as the database stores it
MARCH = ("2026-03-01", "2026-03-31")


def build() -> SimpleNamespace:
    hq = f.department("统计总部")
    dept_a = f.department("销售一部", hq)
    dept_a1 = f.department("一组", dept_a)
    dept_b = f.department("销售二部", hq)
    boss = f.employee("经理M", dept_a, role="销售主管")
    s1 = f.employee("销售S1", dept_a1, manager=boss)
    s2 = f.employee("销售S2", dept_a, manager=boss)
    s3 = f.employee("销售S3", dept_b)
    agent = f.employee("坐席Z", dept_b, role="坐席")
    people = SimpleNamespace(hq=hq, a=dept_a, a1=dept_a1, b=dept_b, boss=boss, s1=s1, s2=s2, s3=s3, agent=agent)

    calls = [  # (owner, department snapshot, UTC instant, disposition, talk seconds)
        (s1, dept_a1, U(2026, 2, 28, 16, 0, 0), "answered", 60),    # 03-01 00:00:00 local
        (s1, dept_a1, U(2026, 3, 1, 15, 59, 59), "busy", 0),         # 03-01 23:59:59
        (s1, dept_a1, U(2026, 3, 1, 16, 0, 0), "answered", 30),      # 03-02 00:00:00
        (s1, dept_a1, U(2026, 2, 28, 15, 59, 59), "answered", 100),  # 02-28 23:59:59: outside March
        (s2, dept_b, U(2026, 3, 31, 15, 59, 59), "answered", 45),    # 03-31 23:59:59 (made while in B)
        (s2, dept_b, U(2026, 3, 31, 16, 0, 0), "answered", 99),      # 04-01 00:00:00: outside
        (s2, dept_a, U(2026, 3, 10, 2, 0, 0), "no_answer", 0),       # 03-10
        (s3, dept_b, U(2026, 3, 5, 0, 0, 0), "answered", 120),       # 03-05 08:00
        (s3, dept_b, U(2026, 3, 5, 1, 0, 0), "answered", 10),        # 03-05 09:00
        (boss, dept_a, U(2026, 3, 15, 10, 0, 0), "busy", 0),         # 03-15
    ]
    for n, (owner, dept, at, disposition, talk) in enumerate(calls):
        db.session.add(CallRecord(provider="test", provider_call_id=f"stats-{n}", owner_id=owner.id,
                                  department_id=dept.id, created_at=at, state="ended", disposition=disposition,
                                  talk_seconds=talk, ring_seconds=5, customer_number="13900000000"))

    status0, status1 = f.choice("customer_status", 0), f.choice("customer_status", 1)
    source1 = f.choice("customer_source", 1)

    def customer(name, owner, at, status=None, source=None):
        item = Customer(company_name=name, owner_id=owner.id if owner else None,
                        department_id=owner.department_id if owner else None, created_at=at, updated_at=at,
                        status_id=status.id if status else None, source_id=source.id if source else None)
        db.session.add(item)
        db.session.flush()
        return item

    c1 = customer("客户一", s1, U(2026, 2, 28, 16, 30), status0, source1)   # 03-01 00:30 local
    customer("客户二", s1, U(2026, 2, 28, 15, 30), status0, source1)        # 02-28 23:30: outside
    c3 = customer("客户三", s2, U(2026, 3, 20, 3, 0), status1)               # 03-20, no source
    customer("公海客户", None, U(2026, 3, 5, 3, 0), status1)                 # the pool: nobody's figure
    c5 = customer("客户五", s1, U(2025, 12, 1, 3, 0))
    history = [  # (customer, action, from, to, UTC instant)
        (c5, "claim", None, s1, U(2026, 3, 3, 2, 0)),
        (c3, "release", s2, None, U(2026, 3, 31, 15, 59, 59)),   # 03-31 23:59:59
        (c5, "auto_release", s1, None, U(2026, 3, 31, 16, 0)),   # 04-01 00:00: outside
        (c3, "claim", None, s2, U(2026, 2, 28, 15, 0)),          # 02-28 23:00: outside
    ]
    for item, action, before, after, at in history:
        db.session.add(OwnerHistory(customer_id=item.id, action=action, at=at,
                                    from_owner_id=before.id if before else None,
                                    to_owner_id=after.id if after else None))

    followups = [  # (owner, customer, way, followed_at UTC, next follow-up UTC)
        (s1, c1, "call", U(2026, 3, 2, 1, 0), U(2026, 3, 5, 1, 0)),   # a later visit: not overdue
        (s1, c1, "visit", U(2026, 3, 2, 2, 0), None),
        (s1, c5, "wechat", U(2026, 3, 3, 16, 30), U(2026, 3, 6, 1, 0)),  # 03-04 00:30; nothing after: overdue
        (s2, c3, "other", U(2026, 3, 10, 1, 0), U(2026, 4, 10, 1, 0)),   # due in April: not March's
        (s2, c3, "call", U(2026, 2, 28, 15, 0), None),                   # 02-28 23:00: outside
    ]
    for owner, item, way, at, due in followups:
        db.session.add(FollowUp(owner_id=owner.id, department_id=owner.department_id, customer_id=item.id, way=way,
                                content="跟进", followed_at=at, next_followup_at=due))

    stage0, stage1 = f.choice("opportunity_stage", 0), f.choice("opportunity_stage", 1)
    db.session.add_all([
        Opportunity(owner_id=s1.id, customer_id=c1.id, name="商机一", amount=decimal.Decimal("1000.00"),
                    stage_id=stage0.id, created_at=U(2026, 3, 3, 2, 0)),
        Opportunity(owner_id=s2.id, customer_id=c3.id, name="商机二", amount=decimal.Decimal("500.50"),
                    stage_id=stage1.id, created_at=U(2026, 3, 4, 2, 0)),
    ])
    contract = Contract(owner_id=s1.id, customer_id=c1.id, number="HT-1", name="合同一",
                        amount=decimal.Decimal("2000.00"), signed_on=dt.date(2026, 3, 31))
    db.session.add_all([contract, Contract(owner_id=s3.id, customer_id=c1.id, number="HT-2", name="合同二",
                                           amount=decimal.Decimal("999.00"), signed_on=dt.date(2026, 4, 1))])
    db.session.flush()
    db.session.add(Invoice(owner_id=s1.id, contract_id=contract.id, customer_id=c1.id, number="FP-1",
                           amount=decimal.Decimal("800.00"), issued_on=dt.date(2026, 3, 15)))
    db.session.commit()
    return SimpleNamespace(**{k: getattr(people, k).id for k in vars(people)},
                           logins={k: getattr(people, k).username for k in ("boss", "s1", "s2", "s3", "agent")})


# ---- the expected March figures, by hand

CALLS = {  # dialed, connected, talk seconds
    "s1": (3, 2, 90), "s2": (2, 1, 45), "s3": (2, 2, 130), "boss": (1, 0, 0), "agent": (0, 0, 0),
}
CALL_DAYS = {"2026-03-01": (2, 1, 60), "2026-03-02": (1, 1, 30), "2026-03-05": (2, 2, 130),
             "2026-03-10": (1, 0, 0), "2026-03-15": (1, 0, 0), "2026-03-31": (1, 1, 45)}
CUSTOMERS = {  # new, claimed, released
    "s1": (1, 1, 0), "s2": (1, 0, 1), "s3": (0, 0, 0), "boss": (0, 0, 0), "agent": (0, 0, 0),
}
FOLLOWUPS = {  # followups, customers followed, call, visit, wechat, other, overdue
    "s1": (3, 2, 1, 1, 1, 0, 1), "s2": (1, 1, 0, 0, 0, 1, 0), "s3": (0,) * 7, "boss": (0,) * 7, "agent": (0,) * 7,
}
SALES = {  # opportunities, amount, contracts, amount, invoices, amount
    "s1": (1, 1000.0, 1, 2000.0, 1, 800.0), "s2": (1, 500.5, 0, 0.0, 0, 0.0), "s3": (0, 0.0, 0, 0.0, 0, 0.0),
    "boss": (0, 0.0, 0, 0.0, 0, 0.0), "agent": (0, 0.0, 0, 0.0, 0, 0.0),
}
