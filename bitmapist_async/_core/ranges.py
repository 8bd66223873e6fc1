"""Time ranges for the analytics queries, the I/O-free half: units, the periods a range spans,
and which keys cover a range exactly.

Imports only other ``_core`` modules. Two invariants:

* Every range is validated here before any I/O: an unknown unit, an end before its start and
  a span beyond :data:`MAX_PERIODS` raise ``TypeError``/``ValueError`` naming the value.
* :func:`cover_days` replaces days by a month or an ISO week key only when the range holds
  **every** day of that month or week (the cover rule, see ``docs/analytics.md``).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal, TypeAlias, get_args

from .periods import DayPeriod, HourPeriod, MonthPeriod, Period, WeekPeriod, YearPeriod
from .periods import period_fields as period_args
from .validate import to_local

__all__ = (
    "MAX_PERIODS",
    "UNITS",
    "Unit",
    "check_unit",
    "cover_days",
    "cover_hours",
    "days_of",
    "enumerate_periods",
    "local_instant",
    "period_args",
    "period_type",
    "span",
)

#: The cohort's ``time_group`` spelling, plus ``"hours"`` (where marks track hours).
Unit: TypeAlias = Literal["hours", "days", "weeks", "months", "years"]
UNITS: tuple[Unit, ...] = get_args(Unit)

#: The most periods one query may span: the periods of a range plus the ones a rolling window
#: looks back at or a funnel looks ahead at; for ``RangeEvents``, its days (hours for
#: datetimes).
MAX_PERIODS = 10_000

_TYPES: dict[str, type[Period]] = {
    "hours": HourPeriod,
    "days": DayPeriod,
    "weeks": WeekPeriod,
    "months": MonthPeriod,
    "years": YearPeriod,
}
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


def check_unit(unit: object) -> Unit:
    """Return *unit* if it is one of :data:`UNITS`, else raise naming it."""
    if not isinstance(unit, str):
        raise TypeError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if unit not in _TYPES:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    return unit  # type: ignore[return-value]


def period_type(unit: Unit) -> type[Period]:
    """``HourPeriod`` for ``"hours"``, ``DayPeriod`` for ``"days"`` and so on."""
    return _TYPES[unit]


def local_instant(name: str, value: object, unit: Unit, tz: object) -> datetime:
    """*value* (a ``date``, or a ``datetime`` for any unit) on the client's wall clock.

    ``"hours"`` needs datetimes: a plain date would silently mean its first hour.

    :raises TypeError: neither a date nor a datetime, or a date where hours need a datetime.
    """
    if unit == "hours" and not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime for unit='hours', got {value!r}")
    if not isinstance(value, date):
        raise TypeError(
            f"{name} must be a date or datetime, got {value!r} ({type(value).__name__})"
        )
    try:
        return to_local(value, tz)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _ordinal(period: Period) -> int:
    """A number that grows by one from each period to the next of its kind."""
    if isinstance(period, HourPeriod):
        return (period.start() - datetime(1, 1, 1)) // _HOUR
    if isinstance(period, DayPeriod):
        return date(period.year, period.month, period.day).toordinal()
    if isinstance(period, WeekPeriod):
        return date.fromisocalendar(period.year, period.week, 1).toordinal() // 7
    if isinstance(period, MonthPeriod):
        return period.year * 12 + period.month
    assert isinstance(period, YearPeriod)
    return period.year


def span(first: Period, last: Period) -> int:
    """Periods from *first* to *last* inclusive (0 or less when *last* is before *first*)."""
    return _ordinal(last) - _ordinal(first) + 1


def enumerate_periods(
    unit: Unit,
    start: datetime,
    end: datetime,
    *,
    before: int = 0,
    after: int = 0,
) -> list[Period]:
    """The periods from the one containing *start* to the one containing *end*, plus *before*
    periods ahead of them and *after* periods past them.

    :param start: wall-clock instant (see :func:`local_instant`).
    :param end: wall-clock instant, not before *start*.
    :raises ValueError: *end* before *start*, more than :data:`MAX_PERIODS` periods in all,
        or periods outside the calendar (years 1 to 9999).
    """
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    cls = _TYPES[unit]
    first = cls.from_datetime(start)  # type: ignore[attr-defined]
    last = cls.from_datetime(end)  # type: ignore[attr-defined]
    total = span(first, last) + before + after
    if total > MAX_PERIODS:
        raise ValueError(
            f"the range {start.isoformat()} .. {end.isoformat()} spans {total:,} {unit} "
            f"(with the periods a window or funnel reads), more than MAX_PERIODS={MAX_PERIODS:,}"
        )
    if before:
        first = first.delta(-before)
    if after:
        last.delta(after)  # raises ValueError past the calendar's end
    return _run(first, total)


def _valid_day(d: date) -> DayPeriod:
    """The period of *d*, built without the constructor's checks: a ``date`` is a valid day
    (the checks cost more than everything else a 90-day trend does here)."""
    period = object.__new__(DayPeriod)
    _set(period, "year", d.year)
    _set(period, "month", d.month)
    _set(period, "day", d.day)
    return period


def _valid_hour(t: datetime) -> HourPeriod:
    period = object.__new__(HourPeriod)
    _set(period, "year", t.year)
    _set(period, "month", t.month)
    _set(period, "day", t.day)
    _set(period, "hour", t.hour)
    return period


_set = object.__setattr__


def _run(first: Period, count: int) -> list[Period]:
    """*count* consecutive periods from *first* (each step of a valid period is one, or the
    caller has checked that the last one exists)."""
    if isinstance(first, DayPeriod):
        ordinal = date(first.year, first.month, first.day).toordinal()
        return [_valid_day(date.fromordinal(ordinal + i)) for i in range(count)]
    if isinstance(first, HourPeriod):
        hour0 = first.start()
        return [_valid_hour(hour0 + timedelta(hours=i)) for i in range(count)]
    out = [first]
    for _ in range(count - 1):
        out.append(out[-1].delta(1))
    return out


def _last_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def cover_days(first: date, last: date, covers: bool) -> list[Period]:
    """Periods whose union is exactly the days *first* .. *last* (inclusive).

    Without *covers*, one :class:`DayPeriod` per day. With *covers*, going from *first*: a
    month that lies wholly inside the range is one :class:`MonthPeriod`, else an ISO week that
    lies wholly inside it is one :class:`WeekPeriod`, else the day itself.
    """
    if last < first:
        raise ValueError(f"end {last.isoformat()} is before start {first.isoformat()}")
    days = (last - first).days + 1
    if days > MAX_PERIODS:
        raise ValueError(
            f"the range {first.isoformat()} .. {last.isoformat()} spans {days:,} days, "
            f"more than MAX_PERIODS={MAX_PERIODS:,}"
        )
    out: list[Period] = []
    d = first
    while d <= last:
        if covers and d.day == 1 and _last_of_month(d) <= last:
            out.append(MonthPeriod(d.year, d.month))
            d = _last_of_month(d) + _DAY
            continue
        if covers and d.weekday() == 0 and (last - d).days >= 6:
            iso = d.isocalendar()
            out.append(WeekPeriod(iso[0], iso[1]))
            d += timedelta(days=7)
            continue
        out.append(DayPeriod(d.year, d.month, d.day))
        if d == date.max:
            break
        d += _DAY
    return out


def cover_hours(first: datetime, last: datetime, covers: bool) -> list[Period]:
    """Periods whose union is exactly the hours from the one containing *first* to the one
    containing *last*: one :class:`HourPeriod` each, or with *covers* the days (and months and
    weeks, see :func:`cover_days`) that lie wholly inside the range."""
    if last < first:
        raise ValueError(f"end {last.isoformat()} is before start {first.isoformat()}")
    h0, h1 = (
        first.replace(minute=0, second=0, microsecond=0),
        last.replace(minute=0, second=0, microsecond=0),
    )
    hours = (h1 - h0) // _HOUR + 1
    if hours > MAX_PERIODS:
        raise ValueError(
            f"the range {first.isoformat()} .. {last.isoformat()} spans {hours:,} hours, "
            f"more than MAX_PERIODS={MAX_PERIODS:,}"
        )
    if not covers:
        return _run(HourPeriod.from_datetime(h0), hours)
    # Whole days: from the first midnight at or after h0 to the last day ending by h1.
    day_first = h0.date() if h0.hour == 0 else h0.date() + _DAY
    day_last = h1.date() if h1.hour == 23 else h1.date() - _DAY
    if day_last < day_first:
        return _run(HourPeriod.from_datetime(h0), hours)
    head = (datetime.combine(day_first, datetime.min.time()) - h0) // _HOUR
    tail_start = datetime.combine(day_last, datetime.min.time()) + _DAY
    tail = (h1 - tail_start) // _HOUR + 1 if h1 >= tail_start else 0
    out: list[Period] = _run(HourPeriod.from_datetime(h0), head) if head else []
    out += cover_days(day_first, day_last, covers=True)
    if tail:
        out += _run(HourPeriod.from_datetime(tail_start), tail)
    return out


def days_of(periods: Sequence[Period]) -> set[date]:
    """Every day the given day, week and month periods hold (for tests and checks)."""
    found: set[date] = set()
    for p in periods:
        d = p.start().date()
        end = p.end().date()
        while d <= end:
            found.add(d)
            d += _DAY
    return found
