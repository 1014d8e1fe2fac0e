"""What FAB's role does not hold: its kind (客户管理角色 / 呼叫中心角色), data scope and analysis rights."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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


FIELD_ACCESS = ("editable", "read_only", "hidden", "masked")


class RoleFieldPermission(Model):
    """Per role and module, how a field shows: hidden, read-only, editable, or masked (138****8000).
    A field without a row is editable."""

    __tablename__ = "role_field_permission"
    __table_args__ = (UniqueConstraint("role_id", "module", "field", name="uq_role_field_permission"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False, index=True)
    module: Mapped[str] = mapped_column(String(32), nullable=False)
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    access: Mapped[str] = mapped_column(String(16), nullable=False, default="editable")
