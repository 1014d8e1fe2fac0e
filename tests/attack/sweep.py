"""What the sweep knows about each module's surfaces, and how it reads an answer (shared by its test files)."""
from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import inspect

from app.extensions import db
from models.call import CallRecord
from models.crm import Contact, Customer, CustomerGroup, FollowUp
from models.sales import Contract, Invoice, Opportunity, Product

MODELS = {"customer": Customer, "pool": Customer, "contact": Contact, "opportunity": Opportunity,
          "contract": Contract, "product": Product, "followup": FollowUp, "invoice": Invoice,
          "customer_group": CustomerGroup, "call": CallRecord}
MODULE_KEYS = list(MODELS)
# a harmless change per module, for the edit forms and PUT
CHANGES = {"customer": {"company_name": "抢走"}, "pool": {"company_name": "抢走"}, "contact": {"name": "抢走"},
           "opportunity": {"name": "抢走"}, "contract": {"name": "抢走"}, "product": {"name": "抢走"},
           "followup": {"content": "抢走"}, "invoice": {"number": "抢走"}, "customer_group": {"name": "抢走"},
           "call": {"note": "抢走"}}
# the pickers that offer a module's records: (the form's module, its relationship)
PICKERS = {"customer": [("contact", "customer"), ("opportunity", "customer"), ("followup", "customer"),
                        ("invoice", "customer"), ("call", "customer")],
           "contact": [("call", "contact")], "opportunity": [("contract", "opportunity")],
           "contract": [("invoice", "contract")], "customer_group": [("customer", "groups")]}
EMPLOYEE_PICKERS = ["customer", "contact", "opportunity", "contract", "followup", "invoice", "call",
                    "customer_group"]
REFUSED = (403, 404, 405)  # a redirect (302) could be a save: never counted as a refusal


def snapshot(app, module: str, pk: int) -> dict:
    with app.app_context():
        model = MODELS[module]
        row = db.session.get(model, pk)
        assert row is not None, (module, pk)
        values = {c.key: getattr(row, c.key) for c in inspect(model).columns}
        db.session.remove()
        return values


def shown_pks(html: str, module: str) -> set[int]:
    """The records a list page links to (each row's 详情 link)."""
    return {int(pk) for pk in re.findall(rf'/{module}/show/(\d+)', html)}


def export_text(response) -> str:
    """An export as text: the CSV, or every cell of every sheet of the .xlsx."""
    assert response.status_code == 200, response.status_code
    if "spreadsheetml" in response.headers.get("Content-Type", ""):
        book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    return response.get_data(as_text=True)


def few(records: list, most: int = 4) -> list:
    """Up to `most` records spread over the list (the writes are tried on a sample; the reads on all)."""
    if len(records) <= most:
        return records
    step = len(records) / most
    return [records[int(i * step)] for i in range(most)]
