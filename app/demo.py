"""Demo data for a newcomer's first look: a department tree and ~15 employees in every account state."""
from __future__ import annotations

from app import organisation as org
from app.extensions import db
from models.org import Employee

DEMO_PASSWORD = "demo1234"

DEPARTMENTS = [  # (name, parent name)
    ("总公司", None),
    ("销售部", "总公司"),
    ("销售一组", "销售部"),
    ("销售二组", "销售部"),
    ("客服部", "总公司"),
    ("财务部", "总公司"),
]

# (name, mobile, department, role, manager name, gender, state)
EMPLOYEES = [
    ("王建国", "13800000001", "总公司", "销售主管", None, "male", "active"),
    ("李娜", "13800000002", "销售部", "销售主管", "王建国", "female", "active"),
    ("张伟", "13800000003", "销售一组", "销售主管", "李娜", "male", "active"),
    ("刘洋", "13800000004", "销售一组", "销售", "张伟", "male", "active"),
    ("陈静", "13800000005", "销售一组", "销售", "张伟", "female", "active"),
    ("杨帆", "13800000006", "销售一组", "销售", "张伟", "male", "disabled"),
    ("赵敏", "13800000007", "销售二组", "销售主管", "李娜", "female", "active"),
    ("黄磊", "13800000008", "销售二组", "销售", "赵敏", "male", "active"),
    ("周婷", "13800000009", "销售二组", "销售", "赵敏", "female", "inactive"),
    ("吴强", "13800000010", "销售二组", "销售", "赵敏", "male", "resigned"),
    ("徐丽", "13800000011", "客服部", "坐席", "王建国", "female", "active"),
    ("孙浩", "13800000012", "客服部", "坐席", "徐丽", "male", "active"),
    ("马超", "13800000013", "客服部", "坐席", "徐丽", "male", "inactive"),
    ("朱琳", "13800000014", "财务部", "销售", "王建国", "female", "active"),
    ("胡斌", "13800000015", "财务部", "销售", "朱琳", "male", "disabled"),
]


def load_demo_data() -> dict[str, int]:
    from flask import current_app

    sm = current_app.appbuilder.sm
    departments = {}
    for name, parent in DEPARTMENTS:
        departments[name] = org.create_department(name, departments[parent].id if parent else None)
    employees: dict[str, Employee] = {}
    for name, mobile, department, role, manager, gender, state in EMPLOYEES:
        role_obj = sm.find_role(role)
        employees[name] = org.create_employee(
            name=name, mobile=mobile, password=DEMO_PASSWORD, department_id=departments[department].id,
            role_ids=[role_obj.id] if role_obj else [], manager_id=employees[manager].id if manager else None,
            gender=gender,
        )
    for name, *_, state in EMPLOYEES:
        employee = employees[name]
        if state in ("active", "disabled", "resigned"):
            org.activate_employees([employee.id])
        if state == "disabled":
            org.disable_employees([employee.id])
        elif state == "resigned":
            org.resign_employees([employee.id], handover_to_id=employees["赵敏"].id)
    db.session.commit()
    summary = {"departments": len(departments), "employees": len(employees)}
    summary.update(_load_crm(employees))
    return summary


COMPANY_WORDS = ["华信", "东方", "恒达", "永盛", "鼎新", "天成", "瑞丰", "金桥", "远航", "博雅", "新时代", "宏图",
                 "广源", "星辰", "锦程", "中联", "安泰", "汇通", "启明", "和润"]
TRADES = ["科技", "贸易", "建材", "物流", "餐饮", "教育", "医疗器械", "电子", "家具", "服饰"]
CITIES = ["杭州", "上海", "北京", "深圳", "广州", "成都", "武汉", "南京", "苏州", "西安"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英"]


def _load_crm(employees: dict[str, Employee]) -> dict[str, int]:
    """~300 customers spread over the active sales staff and the pool, with contacts, follow-ups,
    opportunities, contracts, invoices and a few products."""
    import datetime as dt
    import random

    from sqlalchemy import select

    from app.customers import record_creation
    from models.choices import Choice
    from models.crm import Contact, Customer, FollowUp
    from models.mixins import utcnow
    from models.sales import Contract, Invoice, Opportunity, Product

    rng = random.Random(20261127)
    choices = {}
    for choice in db.session.scalars(select(Choice)):
        choices.setdefault(choice.kind, []).append(choice)
    owners = [e for e in employees.values() if e.state == "active" and e.roles and e.roles[0].name.startswith("销售")]
    now = utcnow()
    products = [Product(code=f"P{100 + i}", name=name, price=price, unit=unit, on_sale=True)
                for i, (name, price, unit) in enumerate([("云呼叫坐席（年）", 1980, "席"), ("CRM 标准版（年）", 3600, "套"),
                                                         ("号码认证服务", 600, "个"), ("外呼线路（月）", 300, "条"),
                                                         ("实施培训", 5000, "次")])]
    db.session.add_all(products)
    customers = []
    for i in range(300):
        owner = rng.choice(owners) if rng.random() > 0.15 else None
        company = f"{rng.choice(CITIES)}{rng.choice(COMPANY_WORDS)}{rng.choice(TRADES)}有限公司"
        person = rng.choice(SURNAMES) + rng.choice(GIVEN)
        created = now - dt.timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 600))
        customer = Customer(
            company_name=company, contact_name=person, mobile=f"1{rng.choice('3589')}{i:09d}",
            status=rng.choice(choices["customer_status"]), level=rng.choice(choices["customer_level"]),
            source=rng.choice(choices["customer_source"]), address=f"{company[:2]}市某某路{rng.randint(1, 999)}号",
            owner_id=owner.id if owner else None, department_id=owner.department_id if owner else None,
            created_at=created, created_by_id=owner.id if owner else None,
        )
        if owner is None:
            customer.released_at = created
            customer.release_reason = "演示数据"
        db.session.add(customer)
        customers.append((customer, owner))
    db.session.flush()
    counts = {"customers": len(customers), "contacts": 0, "follow-ups": 0, "opportunities": 0, "contracts": 0}
    for n, (customer, owner) in enumerate(customers):
        record_creation(customer, owner)
        db.session.add(Contact(customer_id=customer.id, name=customer.contact_name, mobile=customer.mobile,
                               position=rng.choice(["总经理", "采购经理", "行政主管", "财务"]),
                               owner_id=customer.owner_id, department_id=customer.department_id))
        counts["contacts"] += 1
        if owner is None:
            continue
        for k in range(rng.randint(0, 3)):
            when = customer.created_at + dt.timedelta(days=k * 3 + 1)
            db.session.add(FollowUp(customer_id=customer.id, way=rng.choice(["call", "visit", "wechat"]),
                                    content=rng.choice(["电话沟通需求，客户有意向", "发送报价单", "约下周上门拜访",
                                                        "客户暂无预算，下月再联系"]),
                                    followed_at=when, owner_id=owner.id, department_id=owner.department_id))
            customer.last_followup_at = max(customer.last_followup_at or when, when)
            counts["follow-ups"] += 1
        if n % 4 == 0:
            opportunity = Opportunity(customer_id=customer.id, name=f"{customer.company_name[:6]}采购项目",
                                      amount=rng.choice([5000, 12000, 36000, 80000]),
                                      stage=rng.choice(choices["opportunity_stage"]),
                                      expected_close=(now + dt.timedelta(days=rng.randint(5, 90))).date(),
                                      owner_id=owner.id, department_id=owner.department_id)
            db.session.add(opportunity)
            counts["opportunities"] += 1
            if n % 8 == 0:
                db.session.flush()
                contract = Contract(customer_id=customer.id, opportunity_id=opportunity.id,
                                    number=f"HT{now:%Y}{n:05d}", name=opportunity.name, amount=opportunity.amount,
                                    signed_on=(now - dt.timedelta(days=rng.randint(0, 60))).date(),
                                    status=choices["contract_status"][0], owner_id=owner.id,
                                    department_id=owner.department_id)
                db.session.add(contract)
                db.session.flush()
                db.session.add(Invoice(contract_id=contract.id, customer_id=customer.id,
                                       number=f"FP{now:%Y}{n:05d}",
                                       amount=contract.amount, issued_on=contract.signed_on,
                                       status=choices["invoice_status"][1], owner_id=owner.id,
                                       department_id=owner.department_id))
                counts["contracts"] += 1
    counts.update(_demo_call_center(employees, [c for c, _ in customers], rng, now))
    db.session.commit()
    return counts


def _demo_call_center(employees: dict, customers: list, rng, now) -> dict:
    """Seats (one bound per calling employee, one free, one expired) and a month of call records, so 呼叫中心
    and 数据中心 show something on a first `make run`. Calls here are history: no provider is asked."""
    import datetime as dt

    from models.call import CallRecord, Seat

    callers = [e for e in employees.values() if e.state == "active" and e.roles
               and e.roles[0].name in ("销售", "坐席")][:4]
    seats = []
    for n, employee in enumerate(callers):
        seats.append(Seat(name=f"坐席{11201 + n}", number=str(11201 + n), provider="device",
                          display_line="02161234567", expires_at=now + dt.timedelta(days=365 - n * 30),
                          bound_mobile=employee.username, bound_at=now - dt.timedelta(days=40),
                          employee_id=employee.id, status="active"))
    seats.append(Seat(name="坐席11209", number="11209", provider="device", display_line="02161234567",
                      expires_at=now + dt.timedelta(days=200), status="active"))
    seats.append(Seat(name="坐席11210", number="11210", provider="device", display_line="02161234567",
                      expires_at=now - dt.timedelta(days=3), status="active"))
    db.session.add_all(seats)
    db.session.flush()
    dispositions = ["answered"] * 5 + ["busy", "no_answer", "no_answer", "invalid_number", "failed"]
    calls = 0
    for seat, employee in zip(seats, callers):
        theirs = [c for c in customers if c.owner_id == employee.id] or customers[:20]
        for k in range(rng.randint(25, 45)):
            customer = rng.choice(theirs)
            started = now - dt.timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
            disposition = rng.choice(dispositions)
            ring = rng.randint(3, 25)
            talk = rng.randint(20, 600) if disposition == "answered" else 0
            db.session.add(CallRecord(
                provider="device", provider_call_id=f"demo-{seat.number}-{k}", seat_id=seat.id,
                customer_id=customer.id, agent_number=seat.bound_mobile, customer_number=customer.mobile,
                mode="device", direction="outbound", state="ended", disposition=disposition,
                created_at=started, answered_at=started + dt.timedelta(seconds=ring) if talk else None,
                ended_at=started + dt.timedelta(seconds=ring + talk), ring_seconds=ring, talk_seconds=talk,
                hangup_by="agent", owner_id=employee.id, department_id=employee.department_id))
            calls += 1
    return {"seats": len(seats), "calls": calls}
