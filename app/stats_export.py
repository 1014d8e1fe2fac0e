"""The .xlsx of a data-center page: exactly what the page shows (the table with its total row, the figures
by day and the breakdowns), with the page's headers, in the user's language."""
from __future__ import annotations

import io

import xlsxwriter
from flask_babel import gettext as _

from app.exporting import neutralise
from app.stats import METRICS

BREAKDOWN_TITLES = {"status": "Customer status", "source": "Customer source", "stages": "Opportunity stage",
                    "dispositions": "Disposition"}


def workbook(page, result: dict, disposition_labels: dict) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    labels = {key: str(label) for key, label in METRICS[page.subject].items()}
    columns = result["columns"]

    sheet = book.add_worksheet(_("Statistics")[:31])
    sheet.write(0, 0, f"{page.label}  {result['from']} ~ {result['to']}", bold)
    if page.by == "department":
        head = [_("Department"), _("Members")]
        keys = ["department", "members"]
    else:
        head = ([_("Rank")] if page.subject == "ranking" else []) + [_("Employee"), _("Department")]
        keys = (["rank"] if page.subject == "ranking" else []) + ["employee", "department"]
    sheet.write_row(2, 0, head + [labels[c] for c in columns], bold)
    for r, row in enumerate(result["table"], start=3):
        sheet.write_row(r, 0, [neutralise(row.get(k, "")) for k in keys] + [row.get(c, 0) for c in columns])
    last = 3 + len(result["table"])
    total = result["total"]
    sheet.write_row(last, 0, [_("Total")] + [""] * (len(keys) - 1) + [total.get(c, 0) for c in columns], bold)
    sheet.set_column(0, len(keys) + len(columns), 14)

    if result["series"]:
        days = book.add_worksheet(_("By day")[:31])
        series_keys = [k for k in result["series"][0] if k != "date"]
        days.write_row(0, 0, [_("Date")] + [labels.get(k, k) for k in series_keys], bold)
        for r, row in enumerate(result["series"], start=1):
            days.write_row(r, 0, [row["date"]] + [row[k] for k in series_keys])
        days.set_column(0, len(series_keys), 14)

    for name, items in result.get("breakdowns", {}).items():
        sheet = book.add_worksheet(_(BREAKDOWN_TITLES.get(name, name))[:31])
        has_amount = any("amount" in item for item in items)
        sheet.write_row(0, 0, [_(BREAKDOWN_TITLES.get(name, name)), _("Count")] + ([_("Amount")] if has_amount else []),
                        bold)
        for r, item in enumerate(items, start=1):
            label = disposition_labels.get(item["name"], item["name"]) if name == "dispositions" else item["name"]
            sheet.write_row(r, 0, [neutralise(str(label)), item["count"]] + ([item.get("amount", 0)]
                                                                               if has_amount else []))
        sheet.set_column(0, 2, 16)
    book.close()
    return buffer.getvalue()
