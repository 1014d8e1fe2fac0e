"""What FAB's role does not hold: its kind (客户管理角色 / 呼叫中心角色), data scope and analysis rights."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

ROLE_KINDS = ("customer", "call_center")
DATA_SCOPES = ("self", "self_and_subordinates", "department", "department_tree", "all")


class RoleProfile(Model):
    __tablename__ = "role_profile"

    role_id: Mapped[int] = mapped_column(ForeignKey("ab_role.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="customer")
    data_scope: Mapped[str] = mapped_column(String(32), nullable=False, default="self")
    # the data-center statistics this role may see, as a comma-separated list of keys
    analysis: Mapped[Optional[str]] = mapped_column(Text)

    role = relationship("Role", backref="profile_rows")
