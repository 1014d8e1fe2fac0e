"""The data center's time windows: days are local days (the TIMEZONE setting, Asia/Shanghai by default)
while the database stores naive UTC.

A window is [start, end] in local dates, turned into the UTC instants of the local midnights that bound it,
so every query filters `created_at >= start_utc AND created_at < end_utc` on its index. The local day of a
UTC timestamp is computed in SQL: a fixed shift when the zone keeps one offset over the window (China has
had no daylight saving since 1991), else a CASE over the window's local midnights (exact in any zone).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, case, cast, func, literal, literal_column

from app.errors import CrmError

PERIODS = {
    "today": _l("Today"), "week": _l("This week"), "month": _l("This month"), "last_month": _l("Last month"),
    "custom": _l("Custom range"),
}
MAX_DAYS = 366


def timezone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE", "Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def local_today(now: Optional[dt.datetime] = None) -> dt.date:
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(timezone()).date()


def utc_instant(day: dt.date) -> dt.datetime:
    """The naive UTC instant of the local midnight that starts `day`."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=timezone())
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Window:
    start: dt.date  # first local day
    end: dt.date    # last local day (inclusive)
    period: str

    @property
    def start_utc(self) -> dt.datetime:
        return utc_instant(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return utc_instant(self.end + dt.timedelta(days=1))

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def fixed_offset(self) -> Optional[int]:
        """The zone's UTC offset in seconds if it is the same at every midnight of the window and after it."""
        offsets = {int((dt.datetime.combine(day, dt.time(0), tzinfo=timezone()).utcoffset()).total_seconds())
                   for day in self.days + [self.end + dt.timedelta(days=1)]}
        return offsets.pop() if len(offsets) == 1 else None


def _parse_day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CrmError(_l("Dates are written YYYY-MM-DD."), field=field)


def resolve_window(period: Optional[str] = None, start: Optional[str] = None, end: Optional[str] = None,
                   today: Optional[dt.date] = None) -> Window:
    """today / week (Monday to Sunday) / month / last_month, or from..to (both days included). With only
    from/to given the window is custom; with nothing, this month."""
    today = today or local_today()
    if not period:
        period = "custom" if (start or end) else "month"
    if period not in PERIODS:
        raise CrmError(_l("Unknown period."), field="period")
    if period == "today":
        return Window(today, today, period)
    if period == "week":
        monday = today - dt.timedelta(days=today.weekday())
        return Window(monday, monday + dt.timedelta(days=6), period)
    first = today.replace(day=1)
    next_first = (first + dt.timedelta(days=32)).replace(day=1)
    if period == "month":
        return Window(first, next_first - dt.timedelta(days=1), period)
    if period == "last_month":
        last = first - dt.timedelta(days=1)
        return Window(last.replace(day=1), last, period)
    begin = _parse_day(start, "from") if start else first
    finish = _parse_day(end, "to") if end else begin if start else next_first - dt.timedelta(days=1)
    if finish < begin:
        raise CrmError(_l("The end date is before the start date."), field="to")
    if (finish - begin).days + 1 > MAX_DAYS:
        raise CrmError(_l("Choose a range of at most %(n)s days.", n=MAX_DAYS), field="to")
    return Window(begin, finish, "custom")


def local_day(column, window: Window, dialect: str):
    """SQL: the local date (YYYY-MM-DD text on SQLite, a date on PostgreSQL) of a naive UTC timestamp
    within the window."""
    offset = window.fixed_offset()
    if offset is not None:
        if dialect == "postgresql":
            return cast(column + literal_column(f"interval '{offset} seconds'"), Date)
        return func.date(column, f"{offset:+d} seconds")
    # a zone that changes offset inside the window: the day is the last local midnight at or before it
    midnights = [(day, utc_instant(day)) for day in window.days]
    whens = [(column >= instant, literal(day.isoformat()) if dialect != "postgresql" else literal(day))
             for day, instant in reversed(midnights)]
    return case(*whens, else_=None)


def hour_buckets(window: Window, dialect: str) -> bool:
    """On SQLite a timestamp is text: grouping by its UTC hour (a substring) and turning the few hundred
    hours into local days afterwards is much cheaper than date() on every row. Needs whole-hour offsets."""
    offset = window.fixed_offset()
    return dialect == "sqlite" and offset is not None and offset % 3600 == 0


def hour_key(column):
    return func.substr(column, 1, 13)  # 'YYYY-MM-DD HH' of 'YYYY-MM-DD HH:MM:SS.ffffff'


def day_of_key(key, window: Window):
    """The local day of an hour_key() (or of a key that is already a day, 'YYYY-MM-DD')."""
    offset = window.fixed_offset()
    return case((func.length(key) > 10, func.date(key + ":00:00", f"{offset:+d} seconds")), else_=key)


def day_text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
