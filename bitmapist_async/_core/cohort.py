"""Cohort tables, the I/O-free half: the validated query, which periods a table covers, and the
result type.

A cohort table answers "of the users who did *select1* in period N, how many did *select2* in
period N+k?". It has ``num_results`` rows (one per period N, oldest first) and
``num_of_rows + 1`` offset columns (k = 0 .. num_of_rows); the names are bitmapist's. Each row
is shaped like a row of bitmapist 3.x's ``get_dates_data``::

    [period start (datetime), cohort size (int), cell k=0, cell k=1, ..., cell k=num_of_rows]

A cell is ``""`` where nothing can be said (an empty cohort, or no *select2* event at all in the
period it looks at), ``0.0`` when nobody came back, else a percentage (``float``) or a count
(``int``).

Retention modes
    ``classic``: cell k counts the cohort's users who did *select2* in period N+k.
    ``unbounded``: cell k counts those who did *select2* in period N+k **or any later period**
    the table covers (up to the last row's period + ``num_of_rows``).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal, TypeAlias, cast, get_args

from .periods import DayPeriod, MonthPeriod, Period, WeekPeriod, YearPeriod, period_fields
from .validate import check_name

__all__ = (
    "MAX_CELLS",
    "Cell",
    "CohortLayout",
    "CohortQuery",
    "CohortTable",
    "Retention",
    "Row",
    "TimeGroup",
    "bitmapist_layout",
    "column_averages",
    "native_layout",
    "parse_start_date",
    "period_fields",
    "period_of",
)

TimeGroup: TypeAlias = Literal["days", "weeks", "months", "years"]
Retention: TypeAlias = Literal["classic", "unbounded"]
#: One cell of a table: ``""`` (nothing to say), a percentage, or a count.
Cell: TypeAlias = "str | float | int"
#: ``[period start, cohort size, cell 0, ..., cell num_of_rows]``.
Row: TypeAlias = "list[datetime | int | float | str]"

TIME_GROUPS: tuple[TimeGroup, ...] = get_args(TimeGroup)
RETENTIONS: tuple[Retention, ...] = get_args(Retention)

#: Upper bound on ``num_results * (num_of_rows + 1)``: a table is computed in one pipeline.
MAX_CELLS = 100_000

_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

#: Query-string parameters :meth:`CohortQuery.from_params` understands.
PARAMS = (
    "select1",
    "select1b",
    "select2",
    "select2b",
    "time_group",
    "retention",
    "as_percent",
    "num_results",
    "num_of_rows",
    "start_date",
)


def _check_count(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value!r}")
    return value


def _check_optional_name(name: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return check_name(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from None


def parse_start_date(value: object) -> date | None:
    """*value* as a ``date``: a ``date``, a ``datetime`` (its calendar date), ``"YYYY-MM-DD"``,
    or ``None``/``""`` (no start date).

    :raises TypeError: another type.
    :raises ValueError: a malformed or impossible date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if _DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"start_date must be a date like 2026-11-28, got {value!r}")
    raise TypeError(f"start_date must be a date or a 'YYYY-MM-DD' string, got {value!r}")


@dataclass(frozen=True, slots=True, init=False)
class CohortQuery:
    """What a cohort table shows; validated on construction (before any I/O).

    :param select1: the event that defines the cohort (or a custom handler's name).
    :param select2: the event the cohort comes back for.
    :param select1b: optional event ANDed with *select1* in the same period.
    :param select2b: optional event ANDed with *select2* in the same period.
    :param time_group: ``"days"``, ``"weeks"`` (ISO weeks), ``"months"`` or ``"years"``.
    :param as_percent: cells as percentages of the cohort size, else as counts.
    :param num_results: number of rows (cohorts), one per period; ``None``: 31, or 3 for
        ``years`` (bitmapist always shows 3 years).
    :param num_of_rows: the last offset: each row has ``num_of_rows + 1`` cells.
    :param start_date: a day in the first row's period (``date`` or ``"YYYY-MM-DD"``);
        ``None``: the last row is the current period.
    :param retention: ``"classic"`` or ``"unbounded"`` (see the module docstring).
    :raises TypeError: a parameter of the wrong type.
    :raises ValueError: a parameter out of range, naming it and its value.
    """

    select1: str
    select2: str
    select1b: str | None
    select2b: str | None
    time_group: TimeGroup
    as_percent: bool
    num_results: int
    num_of_rows: int
    start_date: date | None
    retention: Retention

    def __init__(
        self,
        select1: str,
        select2: str,
        select1b: str | None = None,
        select2b: str | None = None,
        time_group: TimeGroup = "days",
        as_percent: bool = True,
        num_results: int | None = None,
        num_of_rows: int = 12,
        start_date: date | str | None = None,
        retention: Retention = "classic",
    ) -> None:
        set_ = object.__setattr__
        for name, value in (("select1", select1), ("select2", select2)):
            try:
                set_(self, name, check_name(value))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{name}: {exc}") from None
        set_(self, "select1b", _check_optional_name("select1b", select1b))
        set_(self, "select2b", _check_optional_name("select2b", select2b))
        if time_group not in TIME_GROUPS:
            raise ValueError(f"time_group must be one of {TIME_GROUPS}, got {time_group!r}")
        set_(self, "time_group", time_group)
        if retention not in RETENTIONS:
            raise ValueError(f"retention must be one of {RETENTIONS}, got {retention!r}")
        set_(self, "retention", retention)
        if not isinstance(as_percent, bool):
            raise TypeError(f"as_percent must be a bool, got {as_percent!r}")
        set_(self, "as_percent", as_percent)
        if num_results is None:
            num_results = 3 if time_group == "years" else 31
        set_(self, "num_results", _check_count("num_results", num_results, 1))
        set_(self, "num_of_rows", _check_count("num_of_rows", num_of_rows, 0))
        if self.cells > MAX_CELLS:
            raise ValueError(
                f"a table of num_results={num_results} x num_of_rows+1="
                f"{num_of_rows + 1} cells exceeds {MAX_CELLS:,} cells"
            )
        set_(self, "start_date", parse_start_date(start_date))

    @property
    def cells(self) -> int:
        """Number of offset cells in the table."""
        return self.num_results * (self.num_of_rows + 1)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CohortQuery:
        """Build a query from string parameters (a URL query string, a form).

        Missing parameters take their defaults; ``as_percent`` accepts ``1/0``, ``true/false``,
        ``yes/no``, ``on/off``.

        :raises ValueError: an unknown parameter or an unparsable value, with a message fit to
            show the user.
        """
        unknown = sorted(set(params) - set(PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r} (expected one of {PARAMS})")
        for required in ("select1", "select2"):
            if not params.get(required):
                raise ValueError(f"{required} is required")
        kwargs: dict[str, object] = {
            k: params[k] for k in ("select1", "select1b", "select2", "select2b") if k in params
        }
        for key in ("time_group", "retention", "start_date"):
            if key in params:
                kwargs[key] = params[key]
        for key in ("num_results", "num_of_rows"):
            if key in params:
                text = params[key].strip()
                if not text.isdigit():
                    raise ValueError(f"{key} must be a whole number, got {params[key]!r}")
                kwargs[key] = int(text)
        if "as_percent" in params:
            flag = params["as_percent"].strip().lower()
            if flag not in _TRUE + _FALSE:
                raise ValueError(f"as_percent must be 1 or 0, got {params['as_percent']!r}")
            kwargs["as_percent"] = flag in _TRUE
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_params(self) -> dict[str, str]:
        """The inverse of :meth:`from_params` (for links such as the CSV export)."""
        params = {
            "select1": self.select1,
            "select1b": self.select1b or "",
            "select2": self.select2,
            "select2b": self.select2b or "",
            "time_group": self.time_group,
            "retention": self.retention,
            "as_percent": "1" if self.as_percent else "0",
            "num_results": str(self.num_results),
            "num_of_rows": str(self.num_of_rows),
            "start_date": self.start_date.isoformat() if self.start_date else "",
        }
        return params

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``bm.cohort(**query.as_kwargs())``."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def describe(self) -> str:
        """One line for captions: ``active & web, then song:play (days, classic, %)``."""
        first = self.select1 + (f" & {self.select1b}" if self.select1b else "")
        then = self.select2 + (f" & {self.select2b}" if self.select2b else "")
        unit = "%" if self.as_percent else "counts"
        return f"{first}, then {then} ({self.time_group}, {self.retention}, {unit})"


# -- periods ---------------------------------------------------------------------------------


def period_of(time_group: TimeGroup, when: datetime | date) -> Period:
    """The day, ISO week, month or year that contains *when* (its wall-clock fields)."""
    dt = when if isinstance(when, datetime) else datetime(when.year, when.month, when.day)
    if time_group == "days":
        return DayPeriod.from_datetime(dt)
    if time_group == "weeks":
        return WeekPeriod.from_datetime(dt)
    if time_group == "months":
        return MonthPeriod.from_datetime(dt)
    return YearPeriod.from_datetime(dt)


@dataclass(frozen=True, slots=True)
class CohortLayout:
    """Which periods a table covers: row r is ``first.delta(r)``, labelled ``labels[r]``."""

    first: Period
    labels: tuple[datetime, ...]

    @property
    def num_results(self) -> int:
        return len(self.labels)

    def periods(self, num_of_rows: int) -> list[Period]:
        """Every period a cell looks at: the rows' and ``num_of_rows`` more after the last."""
        return [self.first.delta(i) for i in range(len(self.labels) + num_of_rows)]


def native_layout(query: CohortQuery, now: datetime, tz: tzinfo) -> CohortLayout:
    """Rows from the period containing ``query.start_date`` (default: the last row is the period
    containing *now*, a wall-clock time in *tz*), each labelled with its period's start, aware
    in *tz*."""
    if query.start_date is not None:
        first = period_of(query.time_group, query.start_date)
    else:
        first = period_of(query.time_group, now).delta(-(query.num_results - 1))
    labels = tuple(first.delta(r).start().replace(tzinfo=tz) for r in range(query.num_results))
    return CohortLayout(first, labels)


# -- bitmapist 3.x compatibility -------------------------------------------------------------


def _add_months(dt: datetime, months: int) -> datetime:
    """``dt + relativedelta(months=months)``: the day is clamped to the month's length."""
    year, month0 = divmod(dt.year * 12 + dt.month - 1 + months, 12)
    day = min(dt.day, calendar.monthrange(year, month0 + 1)[1])
    return dt.replace(year=year, month=month0 + 1, day=day)


def _step(time_group: TimeGroup, dt: datetime, n: int) -> datetime:
    if time_group == "days":
        return dt + timedelta(days=n)
    if time_group == "weeks":
        return dt + timedelta(weeks=n)
    if time_group == "months":
        return _add_months(dt, n)
    return _add_months(dt, 12 * n)


def bitmapist_layout(
    time_group: TimeGroup, num_results: int, start_date: str | None, now: datetime
) -> CohortLayout:
    """The rows bitmapist 3.x's ``get_dates_data`` produces, labels included, to the
    microsecond.

    Its quirks are kept: ``years`` always gives 3 rows; without *start_date* the labels keep
    *now*'s time of day; with it the window is anchored at ``start_date + num_results - 1``
    days and then moved back ``num_results - 1`` periods (so for weeks, months and years the
    first row is not the period of *start_date*); month labels are the 1st of the month; labels
    are aware UTC datetimes.

    :param start_date: ``"YYYY-MM-DD"`` or ``None``/``""``.
    :param now: the current time (aware), used when *start_date* is empty.
    """
    if time_group not in TIME_GROUPS:
        raise ValueError(f"time_group must be one of {TIME_GROUPS}, got {time_group!r}")
    _check_count("num_results", num_results, 1)
    if start_date:
        parsed = parse_start_date(start_date)
        assert parsed is not None
        anchor = datetime(parsed.year, parsed.month, parsed.day, tzinfo=timezone.utc)
        anchor += timedelta(days=num_results - 1)
    else:
        anchor = now.astimezone(timezone.utc)
    if time_group == "years":
        num_results = 3
    anchor = _step(time_group, anchor, -(num_results - 1))
    if time_group == "months":
        anchor -= timedelta(days=anchor.day - 1)
    labels = [anchor]
    for _ in range(num_results - 1):
        labels.append(_step(time_group, labels[-1], 1))
    first = period_of(time_group, anchor)
    return CohortLayout(first, tuple(labels))


# -- results -----------------------------------------------------------------------------------


def column_averages(rows: Sequence[Sequence[object]]) -> list[float | None]:
    """Mean of each offset column over the rows that have a value there (``None`` where no row
    has one), the way bitmapist's table footer averages."""
    if not rows:
        return []
    width = len(rows[0]) - 2
    averages: list[float | None] = []
    for k in range(width):
        values = [float(cast("float", row[2 + k])) for row in rows if row[2 + k] != ""]
        averages.append(sum(values) / len(values) if values else None)
    return averages


@dataclass(frozen=True, slots=True)
class CohortTable:
    """A computed cohort table: :attr:`rows` shaped like bitmapist's ``get_dates_data``, and
    the query that produced them (which the renderers use for captions and units).

    Example::

        table = await bm.cohort("signup", "active", time_group="weeks", num_results=8)
        for start, size, *cells in table.rows:
            print(start.date(), size, cells)
    """

    rows: list[Row]
    query: CohortQuery
    averages: list[float | None] = field(init=False)

    def __post_init__(self) -> None:
        width = self.query.num_of_rows + 3
        for row in self.rows:
            if len(row) != width:
                raise ValueError(
                    f"every row needs {width} items (num_of_rows={self.query.num_of_rows}), "
                    f"got {len(row)}: {row!r}"
                )
        object.__setattr__(self, "averages", column_averages(self.rows))
