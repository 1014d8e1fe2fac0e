"""Small builders for test data, through the same services the product uses."""
from __future__ import annotations

import itertools

from flask import current_app, g

from app import organisation as org
from app.extensions import db
from models.choices import Choice
from models.crm import Customer
from models.org import Employee

PASSWORD = "secret12"
_mobiles = itertools.count(13500000000)
_numbers = itertools.count(1)


def department(name=None, parent=None):
    return org.create_department(name or f"部门{next(_numbers)}", parent.id if parent else None)


def employee(name=None, dept=None, role="销售", manager=None, active=True) -> Employee:
    dept = dept or department()
    role_obj = current_app.appbuilder.sm.find_role(role)
    person = org.create_employee(name=name or f"员工{next(_numbers)}", mobile=str(next(_mobiles)), password=PASSWORD,
                                 department_id=dept.id, role_ids=[role_obj.id] if role_obj else [],
                                 manager_id=manager.id if manager else None)
    if active:
        org.activate_employees([person.id])
    return db.session.get(Employee, person.id)


def admin() -> Employee:
    return db.session.query(Employee).filter_by(username="admin").one()


def choice(kind, index=0) -> Choice:
    return db.session.query(Choice).filter_by(kind=kind).order_by(Choice.sort_order).all()[index]


def customer(owner=None, name=None, mobile=None, **extra) -> Customer:
    """A customer owned by `owner` (None: in the pool), created directly."""
    from app.customers import record_creation

    item = Customer(company_name=name or f"客户{next(_numbers)}公司", mobile=mobile or str(next(_mobiles)),
                    owner_id=owner.id if owner else None, department_id=owner.department_id if owner else None,
                    **extra)
    db.session.add(item)
    db.session.flush()
    record_creation(item, owner)
    db.session.commit()
    return item


def family(owner, tag, mobile) -> dict:
    """A customer of `owner` with a contact, follow-up, opportunity, contract and invoice: {module: id}."""
    import datetime as dt

    from models.crm import Contact, FollowUp
    from models.sales import Contract, Invoice, Opportunity

    item = customer(owner, f"{tag}公司", mobile)
    common = dict(owner_id=owner.id, department_id=owner.department_id)
    contact = Contact(customer_id=item.id, name=f"{tag}联系人", mobile=mobile, **common)
    opportunity = Opportunity(customer_id=item.id, name=f"{tag}商机", **common)
    followup = FollowUp(customer_id=item.id, content=f"{tag}跟进内容", **common)
    db.session.add_all([contact, opportunity, followup])
    db.session.flush()
    contract = Contract(customer_id=item.id, opportunity_id=opportunity.id, number=f"HT-{tag}",
                        name=f"{tag}合同", amount=500, signed_on=dt.date.today(), **common)
    db.session.add(contract)
    db.session.flush()
    invoice = Invoice(contract_id=contract.id, customer_id=item.id, number=f"FP-{tag}", amount=100,
                      issued_on=dt.date.today(), **common)
    db.session.add(invoice)
    db.session.commit()
    return {"customer": item.id, "contact": contact.id, "opportunity": opportunity.id, "contract": contract.id,
            "followup": followup.id, "invoice": invoice.id}


def as_user(user):
    """Run code as if `user` were logged in (g.user), for services that read it."""
    g.user = user
    return user
