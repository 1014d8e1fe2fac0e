"""Admin-editable option lists (客户状态, 客户级别, 客户来源, 商机阶段, ...)."""
from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# kind -> (label, default options seeded by `crm init`)
CHOICE_KINDS = {
    "customer_status": (_l("Customer status"), ["潜在客户", "意向客户", "成交客户", "流失客户"]),
    "customer_level": (_l("Customer level"), ["A（重要）", "B（普通）", "C（一般）"]),
    "customer_source": (_l("Customer source"), ["电话营销", "网络推广", "客户介绍", "展会", "其他"]),
    "opportunity_stage": (_l("Opportunity stage"), ["初步接洽", "需求确认", "方案报价", "谈判审核", "赢单", "输单"]),
    "contract_status": (_l("Contract status"), ["执行中", "已完成", "已终止"]),
    "invoice_status": (_l("Invoice status"), ["待开票", "已开票", "已作废"]),
}


class Choice(Model):
    """One option of one list. Retired options stay for the records that hold them."""

    __tablename__ = "choice"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_choice_kind_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def kind_label(self) -> str:
        return str(CHOICE_KINDS[self.kind][0]) if self.kind in CHOICE_KINDS else self.kind

    def __repr__(self) -> str:
        return self.name
