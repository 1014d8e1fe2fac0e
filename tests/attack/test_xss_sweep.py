"""Stored XSS: a script, an attribute break-out and a template expression, typed into every free-text column of
every module, a customer's release reason, custom fields (their labels, help texts, option labels and values),
customer groups, option lists, departments, employees, roles, seats and an import's file name. Every screen that
shows them (lists, details, edit forms, filter panels, the pool, the phone site, settings, 数据中心, the console)
shows them escaped, never as markup, and the API gives them back as the data they are."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import delete

from app import choices, customers
from app import organisation as org_service
from app import roles as role_service
from app.extensions import db
from models.call import CallRecord
from models.choices import Choice
from tests import callfixtures
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, bearer, wipe_data
from tests.importing.helpers import run as run_import, xlsx
from tests.rolefixtures import reset_roles

RAW = ("<script>a(", "<img src=x", "<i>a(")  # what must never reach a page unescaped


def payload(n: int) -> str:
    """56 characters: fits every name column (64)."""
    return f'<script>a({n})</script>"><img src=x onerror=a({n})>{{{{7*7}}}}'


def file_payload(n: int) -> str:
    """A file name keeps no '/' (the upload keeps the base name only)."""
    return f'<img src=x onerror=a({n})><b>{{{{7*7}}}}.xlsx'


class Payloads:
    def __init__(self):
        self.where: dict[int, str] = {}
        self.pks: dict[str, int] = {}

    def __call__(self, what: str, short: bool = False) -> str:
        n = 100 + len(self.where)
        self.where[n] = what
        return f"<i>a({n})</i>" if short else payload(n)  # short: for a 16-character column


def shown(html: str) -> set[int]:
    """The payloads a page shows (escaped as HTML text, or as JSON inside a script)."""
    found = re.findall(r'&lt;i&gt;a\((\d+)\)|&lt;script&gt;a\((\d+)\)|\\u003cscript\\u003ea\((\d+)\)'
                       r'|onerror=a\((\d+)\)&gt;', html)
    return {int(n) for group in found for n in group if n}


@pytest.fixture(scope="module")
def stored(app):
    """Everything typed in as an administrator would, through the API where there is one."""
    p = Payloads()
    client = app.test_client()
    headers = bearer(client, "admin", ADMIN_PASSWORD)

    def post(url, body):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code in (200, 201), (url, response.get_json())
        return response.get_json()

    # before the custom fields exist: the file has the template's columns
    job = run_import(client, xlsx([["导入公司", "", "13600000003"]]), headers, name=file_payload(999))
    p.where[999] = "import file name"
    p.pks["import_job"] = job["id"]
    with app.app_context():
        for kind in ("customer_status", "customer_source"):
            p.pks[f"choice_{kind}"] = choices.create_choice(kind, p(f"option list {kind}")).id
        dept = org_service.create_department(p("department name"))
        role = role_service.create_role(p("role name"))
        person = f.employee(p("employee name"), dept, role="销售")
        p.pks.update(department=dept.id, role=role.id, employee=person.id)
        db.session.remove()
    text_labels = {}
    for module in ("customer", "contact", "product", "contract", "invoice"):
        text_labels[module] = p(f"{module} custom label")
        post("/api/v1/custom_field/", {"module": module, "label": text_labels[module], "type": "text",
                                       "help_text": p(f"{module} custom help"), "list_default": True})
        post("/api/v1/custom_field/", {"module": module, "label": p(f"{module} option field label"),
                                       "type": "select", "list_default": True,
                                       "options": [p(f"{module} option label")]})
    keys = {row["label"]: "cf_" + row["key"] for row in client.get("/api/v1/custom_field/?q=(page_size:100)",
                                                                   headers=headers).get_json()["result"]}
    custom = {module: {keys[label]: p(f"{module} custom value")} for module, label in text_labels.items()}
    status = {"status": p.pks["choice_customer_status"]}
    cust = post("/api/v1/customer/", {"company_name": p("customer company_name"),
                                      "contact_name": p("customer contact_name"), "mobile": "13600000001",
                                      "address": p("customer address"), "note": p("customer note"), **status,
                                      **custom["customer"]})["id"]
    pooled = post("/api/v1/customer/", {"company_name": p("pool company_name"), "mobile": "13600000002"})["id"]
    contact = post("/api/v1/contact/", {"customer": cust, "name": p("contact name"), "position": p("contact position"),
                                        "wechat": p("contact wechat"), "note": p("contact note"),
                                        **custom["contact"]})["id"]
    opportunity = post("/api/v1/opportunity/", {"customer": cust, "name": p("opportunity name"),
                                                "note": p("opportunity note"), "amount": 5})["id"]
    contract = post("/api/v1/contract/", {"customer": cust, "opportunity": opportunity, "number": p("contract number"),
                                          "name": p("contract name"), "note": p("contract note"), "amount": 9,
                                          **custom["contract"]})["id"]
    invoice = post("/api/v1/invoice/", {"contract": contract, "number": p("invoice number"), "note": p("invoice note"),
                                        "amount": 1, **custom["invoice"]})["id"]
    followup = post("/api/v1/followup/", {"customer": cust, "content": p("followup content"), "way": "call"})["id"]
    product = post("/api/v1/product/", {"code": p("product code"), "name": p("product name"),
                                        "unit": p("product unit", short=True),
                                        "description": p("product description"), **custom["product"]})["id"]
    group = post("/api/v1/customer_group/", {"name": p("customer group name")})["id"]
    p.pks.update(customer=cust, pool=pooled, contact=contact, opportunity=opportunity, contract=contract,
                 invoice=invoice, followup=followup, product=product, customer_group=group)
    with app.app_context():
        from app import groups

        admin = f.admin()
        f.as_user(admin)
        groups.add_to_group(group, [cust], admin)
        customers.release([pooled], p("release reason"), admin)
        seat = callfixtures.seat(None, name=p("seat name"))
        call = CallRecord(provider="device", provider_call_id="xss-1", customer_id=cust, customer_number="13600000001",
                          owner_id=admin.id, state="ended", note=p("call note"), raw_cause=p("call raw cause"))
        db.session.add(call)
        db.session.commit()
        p.pks.update(call=call.id, seat=seat.id)
        db.session.remove()
    yield p
    wipe_data(app)
    with app.app_context():
        reset_roles()
        # option lists stay between tests (what `crm init` makes): take back the ones added here
        db.session.execute(delete(Choice).where(Choice.id.in_([p.pks[k] for k in p.pks if k.startswith("choice_")])))
        db.session.commit()
        db.session.remove()


def _n(label: str) -> int:
    match = re.search(r"a\((\d+)\)", label)
    return int(match.group(1)) if match else -1


@pytest.fixture(scope="module")
def admin_browser(app, stored):
    client = app.test_client()
    response = client.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 302
    return client


def _pages(pks) -> list[str]:
    urls = []
    for module in ("customer", "pool", "contact", "opportunity", "contract", "product", "followup", "invoice",
                   "customer_group", "call"):
        pk = pks[module]
        urls += [f"/{module}/list/", f"/{module}/show/{pk}"]
        if module not in ("call", "pool"):
            urls += [f"/{module}/edit/{pk}", f"/{module}/add"]
    urls += [f"/customer/list/?_flt_0_company_name={payload(1)}", f"/contact/list/?_flt_0_customer={pks['customer']}",
             f"/customer/list/?status={pks['choice_customer_status']}",
             f"/customer/act/transfer/?ids={pks['customer']}",
             f"/customer/act/add_to_group/?ids={pks['customer']}",
             "/m/", "/m/customers", f"/m/customers?q={payload(2)}", f"/m/customers?group={pks['customer_group']}",
             f"/m/customer/{pks['customer']}", f"/m/customer/{pks['customer']}/followup", "/m/calls",
             f"/m/dialpad?number={payload(3)}", f"/dial/{pks['call']}/",
             "/departments/list/", f"/departments/edit/{pks['department']}", "/employees/list/",
             f"/employees/edit/{pks['employee']}", f"/employees/show/{pks['employee']}", "/roles/list/",
             f"/roles/{pks['role']}/permissions/", "/options/list/", f"/options/edit/{pks['choice_customer_status']}",
             "/pool-rules/form", "/custom-fields/", "/custom-fields/customer/",
             "/custom-fields/customer/preview", "/seat/list/", f"/seat/show/{pks['seat']}", "/import/jobs/",
             "/stats/employee_customers/", "/stats/department_customers/", "/stats/ranking/",
             f"/stats/employee_customers/?department={pks['department']}",
             "/console/console_import_job/", "/console/console_custom_field/", "/console/console_owner_history/",
             "/console/console_audit_log/", f"/console/console_import_job/details/?id={pks['import_job']}"]
    return urls


def test_every_screen_shows_the_payloads_escaped(admin_browser, stored):
    seen: set[int] = set()
    for url in _pages(stored.pks):
        response = admin_browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        for raw in RAW:
            at = html.find(raw)
            assert at < 0, (url, raw, html[max(at - 200, 0):at + 200])
        seen |= shown(html)
        if shown(html) & set(stored.where):  # a stored payload on the page: its template expression stays text
            assert "{{7*7}}" in html, url
    missing = {n: what for n, what in stored.where.items() if n not in seen}
    assert not missing, missing  # every payload was shown somewhere, so the checks above were not vacuous


@pytest.mark.parametrize("module", ["customer", "contact", "opportunity", "contract", "product", "followup",
                                    "invoice", "customer_group"])
def test_the_api_gives_the_payloads_back_as_data(app, stored, module):
    client = app.test_client()
    headers = bearer(client, "admin", ADMIN_PASSWORD)
    response = client.get(f"/api/v1/{module}/{stored.pks[module]}", headers=headers)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    result = response.get_json()["result"]
    values = [v for v in result.values() if isinstance(v, str) and "a(" in v]
    assert values, result
    for value in values:
        # unchanged: neither escaped (nor escaped twice) nor stripped
        assert value in (payload(_n(value)), f"<i>a({_n(value)})</i>"), value
    listed = client.get(f"/api/v1/{module}/", headers=headers).get_json()["result"]
    assert any(payload(_n(v)) == v for row in listed for v in row.values() if isinstance(v, str) and "a(" in v)


def test_exports_keep_the_payload_as_text(admin_browser, stored):
    response = admin_browser.get("/customer/export/?format=csv")
    assert response.status_code == 200
    cells = {c for row in csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))) for c in row}
    assert any(payload(n) in cells for n in stored.where)
    response = admin_browser.get("/customer/export/?format=xlsx")
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert any(payload(n) in cells for n in stored.where)


def test_a_refusal_that_names_the_payload_shows_it_escaped(admin_browser, stored):
    """The form sent back with its error (a custom field's label already used) repeats what was typed."""
    label = next(payload(n) for n, what in stored.where.items() if what == "customer custom label")
    response = admin_browser.post("/custom-fields/customer/add", data={"label": label, "type": "text"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert not [raw for raw in RAW if raw in html]
    assert _n(label) in shown(html)
    response = admin_browser.post("/departments/add", data={"name": payload(7) + "x" * 10})  # too long: refused
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and not [raw for raw in RAW if raw in html]
