"""Sales: opportunities, contracts, products, invoices."""
from __future__ import annotations

import datetime as dt
import decimal
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.choices import Choice
from models.crm import COMMON_LABELS, Customer
from models.mixins import AuditMixin, BinnedMixin, OwnedMixin, TimestampMixin, binned_indexes, live_unique

Money = Numeric(14, 2)


class Opportunity(BinnedMixin, OwnedMixin, AuditMixin, Model):
    """商机."""

    __tablename__ = "opportunity"
    __table_args__ = binned_indexes("opportunity")
    owner_follows = None
    field_labels = {**COMMON_LABELS, "name": _l("Opportunity name"), "amount": _l("Amount"), "stage": _l("Stage"),
                    "expected_close": _l("Expected close")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    amount: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)
    stage_id: Mapped[Optional[int]] = mapped_column(ForeignKey("choice.id"))
    expected_close: Mapped[Optional[dt.date]] = mapped_column(Date)
    note: Mapped[Optional[str]] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()
    stage: Mapped[Optional[Choice]] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return self.name


class Contract(BinnedMixin, OwnedMixin, AuditMixin, Model):
    """合同."""

    __tablename__ = "contract"
    __table_args__ = (*live_unique("contract", "number"), *binned_indexes("contract"))
    label_column = "number"
    unique_fields = ("number",)
    field_labels = {**COMMON_LABELS, "number": _l("Contract number"), "name": _l("Contract name"),
                    "amount": _l("Amount"), "signed_on": _l("Signed on"), "status": _l("Contract status"),
                    "opportunity": _l("Opportunity")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    opportunity_id: Mapped[Optional[int]] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"),
                                                          index=True)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    amount: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)
    signed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    status_id: Mapped[Optional[int]] = mapped_column(ForeignKey("choice.id"))
    note: Mapped[Optional[str]] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()
    opportunity: Mapped[Optional[Opportunity]] = relationship()
    status: Mapped[Optional[Choice]] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"{self.number} {self.name}"


class Product(BinnedMixin, TimestampMixin, Model):
    """产品 (not owned: every employee who may see products sees all of them)."""

    __tablename__ = "product"
    __table_args__ = (*live_unique("product", "code"), *binned_indexes("product"))
    unique_fields = ("code",)
    field_labels = {"code": _l("Product code"), "name": _l("Product name"), "price": _l("Price"), "unit": _l("Unit"),
                    "on_sale": _l("On sale"), "description": _l("Description"), "created_at": _l("Created at")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    price: Mapped[Optional[decimal.Decimal]] = mapped_column(Money)
    unit: Mapped[Optional[str]] = mapped_column(String(16))
    on_sale: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[Optional[str]] = mapped_column(Text)
    import_job_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)  # the import that created it

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"


class Invoice(BinnedMixin, OwnedMixin, AuditMixin, Model):
    """发票; owned with its contract."""

    __tablename__ = "invoice"
    __table_args__ = (*live_unique("invoice", "number"), *binned_indexes("invoice"))
    label_column = "number"
    unique_fields = ("number",)
    owner_follows = "contract"
    from_parent = {"customer": "contract"}  # set from the contract on every save
    field_labels = {**COMMON_LABELS, "contract": _l("Contract"), "number": _l("Invoice number"),
                    "amount": _l("Amount"), "issued_on": _l("Issued on"), "status": _l("Invoice status"),
                    "customer_name": _l("Customer")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    # the contract's customer, kept on the invoice so the customer's page can list its invoices
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[decimal.Decimal] = mapped_column(Money, nullable=False)
    issued_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    status_id: Mapped[Optional[int]] = mapped_column(ForeignKey("choice.id"))
    note: Mapped[Optional[str]] = mapped_column(Text)

    contract: Mapped[Contract] = relationship()
    customer: Mapped[Customer] = relationship()
    status: Mapped[Optional[Choice]] = relationship(lazy="joined")
