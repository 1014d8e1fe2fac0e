"""Organisation: the department tree and employees (FAB's user, extended)."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.mixins import TimestampMixin


class AccountState(str, enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    INACTIVE = "inactive"
    RESIGNED = "resigned"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])

    @property
    def colour(self) -> str:
        return STATE_COLOURS[self]


STATE_LABELS = {
    AccountState.ACTIVE: _l("Active"),
    AccountState.DISABLED: _l("Disabled"),
    AccountState.INACTIVE: _l("Not activated"),
    AccountState.RESIGNED: _l("Resigned"),
}
# the manual: blue dot = usable account
STATE_COLOURS = {
    AccountState.ACTIVE: "#1e88e5",
    AccountState.DISABLED: "#e53935",
    AccountState.INACTIVE: "#9e9e9e",
    AccountState.RESIGNED: "#424242",
}

GENDER_CHOICES = [("", "-"), ("male", _l("Male")), ("female", _l("Female"))]


class Department(TimestampMixin, Model):
    """A node of the department tree.

    `path` is the materialised path of ids ("/1/4/9/"), so "this department and all below it"
    is one indexed prefix query: path LIKE '/1/4/%'.
    """

    __tablename__ = "department"
    __table_args__ = (
        UniqueConstraint("parent_id", "name", name="uq_department_parent_name"),
        Index("ix_department_path", "path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    parent: Mapped[Optional["Department"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Department"]] = relationship(back_populates="parent", order_by="Department.sort_order")
    members: Mapped[list["Employee"]] = relationship(back_populates="department")

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def member_count(self) -> int:
        return len(self.members)

    def tree_label(self) -> Markup:
        """The name indented by depth, for the tree-ordered list."""
        indent = Markup("&nbsp;" * 4 * self.depth + ("└ " if self.depth else ""))
        return Markup("{}{}").format(indent, self.name)

    def __repr__(self) -> str:
        return self.name


class Employee(User):
    """An employee is FAB's user: FAB authenticates and authorises it, we add the organisation.

    Login is `username`, which is the mobile number for everyone but the built-in `admin`.
    """

    __tablename__ = "ab_user"
    label_column = "first_name"
    phone_search_fields = ("mobile", "username")  # list filters match these as phone numbers

    mobile: Mapped[Optional[str]] = mapped_column(String(11), unique=True)
    gender: Mapped[Optional[str]] = mapped_column(String(8))
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"), index=True)
    manager_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=AccountState.INACTIVE.value, index=True)
    # sessions and API tokens issued before this instant are void (disable, resign, new credentials)
    auth_epoch: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    department: Mapped[Optional[Department]] = relationship(back_populates="members", foreign_keys=[department_id])
    manager: Mapped[Optional["Employee"]] = relationship(
        remote_side="Employee.id", foreign_keys=[manager_id], back_populates="subordinates"
    )
    subordinates: Mapped[list["Employee"]] = relationship(foreign_keys=[manager_id], back_populates="manager")
    # 坐席号 (呼叫中心用): at most one seat (the unique seat.employee_id); changed through app.seats only
    seat = relationship("Seat", uselist=False, viewonly=True, foreign_keys="Seat.employee_id", lazy="select")

    @property
    def name(self) -> str:
        return self.first_name

    @property
    def account_state(self) -> AccountState:
        return AccountState(self.state)

    @property
    def is_active(self) -> bool:
        return bool(self.active) and self.state == AccountState.ACTIVE.value

    def gender_label(self) -> str:
        return str(dict(GENDER_CHOICES).get(self.gender or "", "")) if self.gender else ""

    def role_names(self) -> str:
        return "、".join(role.name for role in self.roles)

    def manager_name(self) -> str:
        return self.manager.first_name if self.manager else ""

    def department_name(self) -> str:
        return self.department.name if self.department else ""

    def seat_number(self) -> str:
        return self.seat.number if self.seat else ""

    def name_badge(self) -> Markup:
        """The manual's list: a coloured dot left of the name tells the account state."""
        state = self.account_state
        badge = Markup('<span class="state-dot" title="{}" style="color:{}">&#9679;</span> {}').format(
            state.label, state.colour, self.first_name
        )
        if self.is_locked:  # locked after failed logins (app/lockout.py): an administrator can lift it
            badge += Markup(' <span class="label label-danger crm-locked">{}</span>').format(_l("Locked"))
        return badge

    @property
    def is_locked(self) -> bool:
        from app.lockout import locked_logins

        return (self.username or "").lower() in locked_logins()

    def state_badge(self) -> Markup:
        state = self.account_state
        return Markup('<span class="state-dot" style="color:{}">&#9679;</span> {}').format(state.colour, state.label)

    def get_full_name(self) -> str:
        return self.first_name

    def __repr__(self) -> str:
        return self.first_name or self.username

