"""The organisation every attack runs against, built once per test module.

    总部 (boss)                                   boss
    ├── 销售部 (sales_peer, viewer_<scope> x5)    ├── viewer_<scope>      (one per data scope)
    │   ├── 一组 (team1_peer, report_<scope> x5)  │   └── report_<scope>
    │   └── 二组 (team2)                          └── finance
    └── 财务部 (finance)

Each viewer holds a role with every right of the nine modules and every statistic, differing only in its data
scope; `outsider` holds a role with no module right at all. Every employee owns one record of each owned module
(a customer, its contact, an opportunity, a contract, a follow-up, an invoice, a call record, a customer group);
two customers sit in the public pool; and on every viewer's own customer the finance employee (out of every
scope but 全部) has a follow-up, an opportunity, a contract, an invoice and a call — what a related tab could
leak. Every record carries a marker (客户007号) that appears nowhere else, so a page or an export is read by
looking for markers."""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlalchemy import insert

from app import groups
from app import roles as role_service
from app.extensions import db
from app.permissions import ANALYSIS, CONSOLE, MODULES
from models.call import CallRecord
from models.crm import Contact, CustomerGroup, FollowUp, customer_group_member
from models.mixins import utcnow
from models.sales import Contract, Invoice, Opportunity, Product
from tests import factories as f

SCOPES = ("self", "self_and_subordinates", "department", "department_tree", "all")
PLAIN = ("boss", "finance", "sales_peer", "team1_peer", "team2")
POOL_FOLLOWERS = {"contact", "followup"}  # ModuleSpec.pool_records: every viewer here may see the pool
MARKER_WORDS = {"customer": "客户", "contact": "联系人", "opportunity": "商机", "contract": "合同",
                "followup": "跟进", "invoice": "发票", "call": "通话", "customer_group": "分组", "product": "产品"}


@dataclass
class Record:
    module: str
    pk: int
    owner: str | None  # an employee key; None: in the pool (or not owned, for products)
    marker: str
    customer: int | None = None  # the customer it hangs off


@dataclass
class Org:
    ids: dict = field(default_factory=dict)  # employee key -> id
    logins: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    departments: dict = field(default_factory=dict)  # name -> id
    records: list = field(default_factory=list)

    def of(self, module: str) -> list[Record]:
        return [r for r in self.records if r.module == module]

    def owners_seen_by(self, scope: str) -> set[str]:
        """The owners a viewer of this scope reaches, from the picture above (not from the code under test)."""
        viewers, reports = {f"viewer_{s}" for s in SCOPES}, {f"report_{s}" for s in SCOPES}
        return {
            "self": {f"viewer_{scope}"},
            "self_and_subordinates": {f"viewer_{scope}", f"report_{scope}"},
            "department": viewers | {"sales_peer"},
            "department_tree": viewers | reports | {"sales_peer", "team1_peer", "team2"},
            "all": set(self.ids),
        }[scope]

    def visible(self, module: str, scope: str) -> set[int]:
        """The pks of `module` a viewer of `scope` may see in its list."""
        if module == "product":
            return {r.pk for r in self.of(module)}
        if module == "pool":
            return {r.pk for r in self.of("customer") if r.owner is None}
        if module == "customer_group":
            return {r.pk for r in self.of(module) if r.owner == f"viewer_{scope}"}
        owners = self.owners_seen_by(scope)
        if module in POOL_FOLLOWERS:  # a pool customer's contacts: seen by whoever may look into the pool
            owners = owners | {None}
        return {r.pk for r in self.of(module) if r.owner in owners}

    def hidden(self, module: str, scope: str) -> list[Record]:
        """The records of `module` out of that viewer's reach (for 公海: the customers someone owns)."""
        source = "customer" if module == "pool" else module
        seen = self.visible(module, scope)
        return [r for r in self.of(source) if r.pk not in seen]

    def marker_of(self, module: str, pk: int) -> str:
        source = "customer" if module == "pool" else module
        return next(r.marker for r in self.of(source) if r.pk == pk)


def _scope_role(scope: str) -> int:
    role = role_service.create_role(f"扫描-{scope}")
    modules = {m: list(actions) for m, (_label, actions) in MODULES.items() if m != CONSOLE}
    role_service.write_matrix(role.id, {"modules": modules, "data_scope": scope, "analysis": list(ANALYSIS)})
    return role.id


def build() -> Org:
    """Must run inside an app context; commits."""
    org = Org()
    numbers = itertools.count(1)
    mobiles = itertools.count(13700000001)

    def marker(module):
        return f"{MARKER_WORDS[module]}{next(numbers):03d}号"

    hq = f.department("扫描总部")
    sales = f.department("扫描销售部", hq)
    team1, team2 = f.department("扫描一组", sales), f.department("扫描二组", sales)
    finance_dept = f.department("扫描财务部", hq)
    org.departments = {d.name: d.id for d in (hq, sales, team1, team2, finance_dept)}
    for scope in SCOPES:
        _scope_role(scope)
    role_service.create_role("扫描-无权")
    people = {"boss": f.employee("扫描老板甲", hq)}
    people["finance"] = f.employee("扫描会计乙", finance_dept, manager=people["boss"])
    people["sales_peer"] = f.employee("扫描同事丙", sales)
    people["team1_peer"] = f.employee("扫描一组丁", team1)
    people["team2"] = f.employee("扫描二组戊", team2)
    for n, scope in enumerate(SCOPES):
        viewer = f.employee(f"扫描观察{n}号", sales, role=f"扫描-{scope}", manager=people["boss"])
        people[f"viewer_{scope}"] = viewer
        people[f"report_{scope}"] = f.employee(f"扫描下属{n}号", team1, manager=viewer)
    people["outsider"] = f.employee("扫描无权者", finance_dept, role="扫描-无权")
    org.ids = {k: p.id for k, p in people.items()}
    org.logins = {k: p.username for k, p in people.items()}
    org.names = {k: p.first_name for k, p in people.items()}

    def add(module, row, owner):
        db.session.add(row)
        db.session.flush()
        org.records.append(Record(module, row.id, owner, getattr(row, "_marker"), getattr(row, "customer_id", None)))
        return row

    def owned(model, module, owner_key, text_column, **values):
        owner = people[owner_key]
        row = model(owner_id=owner.id, department_id=owner.department_id, **values)
        row._marker = str(next(mobiles)) if module == "call" else marker(module)  # a call shows its number
        setattr(row, text_column, row._marker)
        return add(module, row, owner_key)

    today = dt.date.today()
    now = utcnow() - dt.timedelta(minutes=1)

    def money_and_calls(owner_key, customer):
        opportunity = owned(Opportunity, "opportunity", owner_key, "name", customer_id=customer.id, amount=100)
        contract = owned(Contract, "contract", owner_key, "name", customer_id=customer.id,
                         opportunity_id=opportunity.id, number=f"HT{next(numbers):05d}", amount=1000,
                         signed_on=today)
        owned(Invoice, "invoice", owner_key, "number", contract_id=contract.id, customer_id=customer.id, amount=10,
              issued_on=today)
        owned(FollowUp, "followup", owner_key, "content", customer_id=customer.id, followed_at=now)
        owned(CallRecord, "call", owner_key, "customer_number", customer_id=customer.id, provider="device",
              provider_call_id=f"sweep-{next(numbers)}", state="ended",
              disposition="answered", talk_seconds=30, created_at=now)

    for key, person in people.items():
        if key == "outsider":
            continue
        customer = f.customer(person, marker("customer"), str(next(mobiles)), contact_name="扫描联系人")
        org.records.append(Record("customer", customer.id, key, customer.company_name))
        owned(Contact, "contact", key, "name", customer_id=customer.id, mobile=str(next(mobiles)))
        money_and_calls(key, customer)
        group = groups.create_group(marker("customer_group"), person)
        org.records.append(Record("customer_group", group.id, key, group.name))
        db.session.execute(insert(customer_group_member).values(group_id=group.id, customer_id=customer.id))
        if key.startswith("viewer_"):
            money_and_calls("finance", customer)  # what the customer's related tabs must not show
    for _ in range(2):
        pooled = f.customer(None, marker("customer"), str(next(mobiles)))
        org.records.append(Record("customer", pooled.id, None, pooled.company_name))
        contact = Contact(customer_id=pooled.id, name=marker("contact"), mobile=str(next(mobiles)))
        contact._marker = contact.name
        add("contact", contact, None)
    for _ in range(2):
        product = Product(code=f"P{next(numbers):05d}", name=marker("product"), price=9)
        product._marker = product.name
        add("product", product, None)
    db.session.commit()
    assert db.session.query(CustomerGroup).count() == len(org.of("customer_group"))
    return org
