"""Calendar periods (hour, day, ISO week, month, year) and their arithmetic.

Periods are plain values on the wall clock of the client's time zone: they hold no ``tzinfo``;
the event classes attach the client's zone when they expose datetimes. Every constructor checks
its fields, so an impossible period (month 13, ISO week 54, hour 24) never reaches storage.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

__all__ = (
    "DayPeriod",
    "HourPeriod",
    "MonthPeriod",
    "Period",
    "WeekPeriod",
    "YearPeriod",
    "iso_weeks_in_year",
    "period_fields",
)

_MIN_YEAR = 1
_MAX_YEAR = 9999


def _field(kind: str, name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{kind} {name} must be an int, got {value!r} ({type(value).__name__})")
    if not low <= value <= high:
        raise ValueError(f"{kind} {name} must be in [{low}, {high}], got {value!r}")
    return int(value)


def iso_weeks_in_year(iso_year: int) -> int:
    """Return 52 or 53: the number of ISO weeks in *iso_year*."""
    return date(iso_year, 12, 28).isocalendar()[1]


def _outside(period: Period, steps: int) -> ValueError:
    """The error of a shift past the calendar's ends (years 1 to 9999)."""
    return ValueError(
        f"{period!r} shifted by {steps:+d} {period.kind}(s) is outside the calendar "
        f"(years {_MIN_YEAR} to {_MAX_YEAR})"
    )


class Period:
    """Base class of calendar periods. Subclasses are frozen dataclasses."""

    kind: ClassVar[str]

    def delta(self, steps: int) -> Period:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> datetime:  # pragma: no cover - abstract
        """First instant of the period (naive, on the client's wall clock)."""
        raise NotImplementedError

    def next_start(self) -> datetime:  # pragma: no cover - abstract
        """First instant after the period."""
        raise NotImplementedError

    def end(self) -> datetime:
        """Last representable instant of the period (``next_start() - 1µs``)."""
        return self.next_start() - timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class YearPeriod(Period):
    year: int
    kind: ClassVar[str] = "year"

    def __post_init__(self) -> None:
        _field("year", "year", self.year, _MIN_YEAR, _MAX_YEAR)

    @classmethod
    def from_datetime(cls, dt: datetime) -> YearPeriod:
        return cls(dt.year)

    def delta(self, steps: int) -> YearPeriod:
        try:
            return YearPeriod(self.year + steps)
        except ValueError as exc:
            raise _outside(self, steps) from exc

    def months(self) -> tuple[MonthPeriod, ...]:
        return tuple(MonthPeriod(self.year, m) for m in range(1, 13))

    def start(self) -> datetime:
        return datetime(self.year, 1, 1)

    def next_start(self) -> datetime:
        return datetime(self.year + 1, 1, 1) if self.year < _MAX_YEAR else datetime.max

    def end(self) -> datetime:
        return datetime(self.year, 12, 31, 23, 59, 59, 999999)


@dataclass(frozen=True, slots=True)
class MonthPeriod(Period):
    year: int
    month: int
    kind: ClassVar[str] = "month"

    def __post_init__(self) -> None:
        _field("month", "year", self.year, _MIN_YEAR, _MAX_YEAR)
        _field("month", "month", self.month, 1, 12)

    @classmethod
    def from_datetime(cls, dt: datetime) -> MonthPeriod:
        return cls(dt.year, dt.month)

    @property
    def suffix(self) -> str:
        return f"{self.year}-{self.month}"

    def delta(self, steps: int) -> MonthPeriod:
        try:
            year, month0 = divmod(self.year * 12 + (self.month - 1) + steps, 12)
            return MonthPeriod(year, month0 + 1)
        except (OverflowError, ValueError) as exc:
            raise _outside(self, steps) from exc

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    def next_start(self) -> datetime:
        if (self.year, self.month) == (_MAX_YEAR, 12):
            return datetime.max
        return self.delta(1).start()

    def end(self) -> datetime:
        last = calendar.monthrange(self.year, self.month)[1]
        return datetime(self.year, self.month, last, 23, 59, 59, 999999)


@dataclass(frozen=True, slots=True)
class WeekPeriod(Period):
    """An ISO 8601 week: ``year`` is the ISO year, which differs from the calendar year around
    New Year (2024-12-30 is in ISO week 1 of 2025)."""

    year: int
    week: int
    kind: ClassVar[str] = "week"

    def __post_init__(self) -> None:
        _field("week", "year", self.year, _MIN_YEAR, _MAX_YEAR)
        _field("week", "week", self.week, 1, iso_weeks_in_year(self.year))

    @classmethod
    def from_datetime(cls, dt: datetime) -> WeekPeriod:
        iso = dt.isocalendar()
        return cls(iso[0], iso[1])

    @property
    def suffix(self) -> str:
        return f"W{self.year}-{self.week}"

    def delta(self, steps: int) -> WeekPeriod:
        try:
            monday = date.fromisocalendar(self.year, self.week, 1) + timedelta(weeks=steps)
            iso = monday.isocalendar()
            return WeekPeriod(iso[0], iso[1])
        except (OverflowError, ValueError) as exc:
            raise _outside(self, steps) from exc

    def start(self) -> datetime:
        d = date.fromisocalendar(self.year, self.week, 1)
        return datetime(d.year, d.month, d.day)

    def next_start(self) -> datetime:
        try:
            return self.start() + timedelta(weeks=1)
        except OverflowError:  # the calendar's last period
            return datetime.max

    def end(self) -> datetime:
        try:
            d = date.fromisocalendar(self.year, self.week, 7)
        except ValueError:  # week 52 of 9999 ends in year 10000
            return datetime.max
        return datetime(d.year, d.month, d.day, 23, 59, 59, 999999)


def _check_day(kind: str, year: int, month: int, day: object) -> None:
    _field(kind, "day", day, 1, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class DayPeriod(Period):
    year: int
    month: int
    day: int
    kind: ClassVar[str] = "day"

    def __post_init__(self) -> None:
        _field("day", "year", self.year, _MIN_YEAR, _MAX_YEAR)
        _field("day", "month", self.month, 1, 12)
        _check_day("day", self.year, self.month, self.day)

    @classmethod
    def from_datetime(cls, dt: datetime) -> DayPeriod:
        return cls(dt.year, dt.month, dt.day)

    @property
    def suffix(self) -> str:
        return f"{self.year}-{self.month}-{self.day}"

    def delta(self, steps: int) -> DayPeriod:
        try:
            d = date(self.year, self.month, self.day) + timedelta(days=steps)
            return DayPeriod(d.year, d.month, d.day)
        except (OverflowError, ValueError) as exc:
            raise _outside(self, steps) from exc

    def start(self) -> datetime:
        return datetime(self.year, self.month, self.day)

    def next_start(self) -> datetime:
        try:
            return self.start() + timedelta(days=1)
        except OverflowError:  # the calendar's last period
            return datetime.max

    def end(self) -> datetime:
        return datetime(self.year, self.month, self.day, 23, 59, 59, 999999)


@dataclass(frozen=True, slots=True)
class HourPeriod(Period):
    year: int
    month: int
    day: int
    hour: int
    kind: ClassVar[str] = "hour"

    def __post_init__(self) -> None:
        _field("hour", "year", self.year, _MIN_YEAR, _MAX_YEAR)
        _field("hour", "month", self.month, 1, 12)
        _check_day("hour", self.year, self.month, self.day)
        _field("hour", "hour", self.hour, 0, 23)

    @classmethod
    def from_datetime(cls, dt: datetime) -> HourPeriod:
        return cls(dt.year, dt.month, dt.day, dt.hour)

    @property
    def suffix(self) -> str:
        return f"{self.year}-{self.month}-{self.day}-{self.hour}"

    def delta(self, steps: int) -> HourPeriod:
        try:
            d = self.start() + timedelta(hours=steps)
            return HourPeriod(d.year, d.month, d.day, d.hour)
        except (OverflowError, ValueError) as exc:
            raise _outside(self, steps) from exc

    def start(self) -> datetime:
        return datetime(self.year, self.month, self.day, self.hour)

    def next_start(self) -> datetime:
        try:
            return self.start() + timedelta(hours=1)
        except OverflowError:  # the calendar's last period
            return datetime.max

    def end(self) -> datetime:
        return datetime(self.year, self.month, self.day, self.hour, 59, 59, 999999)


def period_fields(period: Period) -> tuple[int, ...]:
    """The event class's arguments for *period*: ``(year, month, day, hour)`` for an hour,
    ``(year, month, day)``, ``(iso_year, week)``, ``(year, month)`` or ``(year,)``."""
    if isinstance(period, HourPeriod):
        return (period.year, period.month, period.day, period.hour)
    if isinstance(period, DayPeriod):
        return (period.year, period.month, period.day)
    if isinstance(period, WeekPeriod):
        return (period.year, period.week)
    if isinstance(period, MonthPeriod):
        return (period.year, period.month)
    if isinstance(period, YearPeriod):
        return (period.year,)
    raise TypeError(f"expected a period, got {period!r}")
