"""坐席: add and extend seats, 更换绑定 (a new mobile verified by SMS code, and the employee), and freeing
an employee's seat when they resign or are disabled. One seat per employee and one employee per seat:
the unique index on seat.employee_id decides under concurrency."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import sms
from app.errors import CrmError, NotFound, unit_of_work
from app.extensions import db
from app.locks import serialise
from app.organisation import employee_disabled, employee_resigned
from app.phone import normalise_mobile
from models.call import SEAT_STATUSES, Seat
from models.mixins import utcnow
from models.org import AccountState, Employee


def get_seat(seat_id, lock: bool = False) -> Seat:
    try:
        query = select(Seat).where(Seat.id == int(seat_id))
    except (TypeError, ValueError):
        raise NotFound(_l("This seat does not exist."), field="seat")
    seat = db.session.scalar(query.with_for_update(of=Seat) if lock else query)
    if seat is None:
        raise NotFound(_l("This seat does not exist."), field="seat")
    return seat


def _clean(data: dict, seat: Optional[Seat] = None) -> dict:
    clean = {}
    for key, limit in (("name", 64), ("number", 32), ("display_line", 32), ("provider", 32)):
        if key in data:
            value = (data.get(key) or "").strip() if isinstance(data.get(key), str) or data.get(key) is None \
                else str(data[key])
            if len(value) > limit:
                raise CrmError(_l("At most %(n)d characters.", n=limit), field=key)
            clean[key] = value or None
    for key in ("name", "number"):
        if key in clean and not clean[key]:
            raise CrmError(_l("This field is required."), field=key)
    if clean.get("provider") is None and "provider" in clean:
        clean["provider"] = "device"
    if "provider" in clean:
        from app.telephony.providers import PROVIDERS

        if clean["provider"] not in PROVIDERS:
            raise CrmError(_l("Unknown provider: %(p)s", p=clean["provider"]), field="provider")
    if "status" in data and data["status"] is not None:
        if data["status"] not in dict(SEAT_STATUSES):
            raise CrmError(_l("Unknown status."), field="status")
        clean["status"] = data["status"]
    if "expires_at" in data:
        if not isinstance(data["expires_at"], dt.datetime):
            raise CrmError(_l("Please give the subscription end."), field="expires_at")
        clean["expires_at"] = data["expires_at"].replace(tzinfo=None)
    if "number" in clean:
        taken = db.session.scalar(select(Seat.id).where(Seat.number == clean["number"],
                                                        Seat.id != (seat.id if seat else -1)))
        if taken:
            raise CrmError(_l("Seat number %(n)s already exists.", n=clean["number"]), field="number")
    return clean


def create_seat(data: dict) -> Seat:
    with unit_of_work():
        clean = _clean({"provider": "device", **data})
        if "expires_at" not in clean:
            raise CrmError(_l("Please give the subscription end."), field="expires_at")
        seat = Seat(**clean)
        db.session.add(seat)
        _flush_unique(seat)
    return seat


def update_seat(seat_id, data: dict) -> Seat:
    """Name, number, provider, display line, end and status; the binding changes only through bind()."""
    with unit_of_work():
        seat = get_seat(seat_id, lock=True)
        for key, value in _clean(data, seat).items():
            setattr(seat, key, value)
        _flush_unique(seat)
    return seat


def delete_seat(seat_id) -> None:
    with unit_of_work():
        db.session.delete(get_seat(seat_id, lock=True))


def extend_seat(seat_id, days: int) -> Seat:
    """续费: add days to the end, counted from now when the seat has already expired."""
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 3650 * 3:
        raise CrmError(_l("Extend by 1 to 10950 days."), field="days")
    with unit_of_work():
        seat = get_seat(seat_id, lock=True)
        seat.expires_at = max(seat.expires_at, utcnow()) + dt.timedelta(days=days)
    return seat


def _flush_unique(seat: Seat) -> None:
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise CrmError(_l("This seat number or employee is already taken by another seat."), field="number")


def send_binding_code(seat_id, mobile):
    """更换绑定, step 1: 获取验证码 for the new mobile."""
    seat = get_seat(seat_id)
    return sms.send_code(mobile, purpose="seat_binding", seat_id=seat.id)


def bind(seat_id, mobile, code, employee_id) -> Seat:
    """更换绑定, step 2: the code proves the mobile; the seat gets the mobile and the employee."""
    mobile = normalise_mobile(mobile, field="mobile")
    employee = _active_employee(employee_id)
    db.session.rollback()
    with unit_of_work():
        serialise(f"sms:{mobile}")
        seat = get_seat(seat_id, lock=True)
        sms.check_code(mobile, code, purpose="seat_binding", seat_id=seat.id)
        other = db.session.scalar(select(Seat).where(Seat.employee_id == employee.id, Seat.id != seat.id))
        if other is not None:
            raise CrmError(_l("%(name)s already has seat %(seat)s; free it first.", name=employee.first_name,
                              seat=other.number), field="employee")
        _audit_binding(seat, mobile, employee.id)
        seat.bound_mobile = mobile
        seat.bound_at = utcnow()
        seat.employee_id = employee.id
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise CrmError(_l("%(name)s already has a seat; free it first.", name=employee.first_name),
                           field="employee")
    return seat


def _masked(mobile: Optional[str]) -> Optional[str]:
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) >= 7 else mobile


def _audit_binding(seat: Seat, mobile: Optional[str], employee_id: Optional[int]) -> None:
    """更换绑定 and 绑定坐席 go into the audit trail (the mobile masked, as a list shows it)."""
    from app import audit

    changes = audit.diff({"bound_mobile": _masked(seat.bound_mobile), "employee_id": seat.employee_id},
                         {"bound_mobile": _masked(mobile), "employee_id": employee_id})
    audit.record("seat_binding", module="line", record_ids=[seat.id], changes=changes or None,
                 detail={"seat": seat.number})


def assign_to_employee(employee: Employee, seat_id) -> None:
    """The employee form's 绑定坐席 (inside its transaction): give the employee this seat, or none."""
    current = db.session.scalar(select(Seat).where(Seat.employee_id == employee.id))
    new_id = int(seat_id) if seat_id not in (None, "") else None
    if current is not None and current.id == new_id:
        return
    if current is not None:
        current.employee_id = None
        db.session.flush()
    if new_id is None:
        return
    seat = get_seat(new_id, lock=True)
    if seat.employee_id is not None and seat.employee_id != employee.id:
        raise CrmError(_l("Seat %(seat)s is already bound to %(name)s.", seat=seat.number,
                          name=seat.employee.first_name if seat.employee else "?"), field="seat")
    _audit_binding(seat, seat.bound_mobile, employee.id)
    seat.employee_id = employee.id
    try:
        db.session.flush()
    except IntegrityError:
        raise CrmError(_l("This employee already has a seat."), field="seat")


def free_seat_of(employee_id: int) -> Optional[str]:
    """Resigning or disabling an employee frees their seat (inside the caller's transaction)."""
    seat = db.session.scalar(select(Seat).where(Seat.employee_id == employee_id))
    if seat is None:
        return None
    db.session.execute(update(Seat).where(Seat.id == seat.id).values(employee_id=None))
    return seat.number


def seat_of(employee_id: int) -> Optional[Seat]:
    return db.session.scalar(select(Seat).where(Seat.employee_id == employee_id))


def _active_employee(employee_id) -> Employee:
    try:
        employee = db.session.get(Employee, int(employee_id))
    except (TypeError, ValueError):
        employee = None
    if employee is None:
        raise NotFound(_l("This employee does not exist."), field="employee")
    if employee.state != AccountState.ACTIVE.value:
        raise CrmError(_l("A seat can only be bound to an active employee."), field="employee")
    return employee


@employee_resigned.connect
@employee_disabled.connect
def _free_seat_on_leave(employee: Employee, **_):
    free_seat_of(employee.id)
