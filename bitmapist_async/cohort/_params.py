"""The dashboard's query strings, read into checked requests (no I/O).

Every check speaks the form's language: a message names the field as the page labels it
("Rows (cohorts)", not ``num_results``) and the value it got. A request that is fine field by
field but reaches outside the calendar (before year 1, after year 9999) is refused here too, so
nothing the user can type reaches the store as an impossible date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal, TypeAlias, get_args
from urllib.parse import parse_qsl

from .._core.cohort import (
    PARAMS,
    RETENTIONS,
    TIME_GROUPS,
    CohortLayout,
    CohortQuery,
    native_layout,
)

__all__ = (
    "COHORT_LABELS",
    "BadRequest",
    "ChartUnit",
    "FunnelRequest",
    "OverviewRequest",
    "TrendRequest",
    "check_known",
    "parse_cohort",
    "parse_funnel",
    "parse_overview",
    "parse_trend",
    "query_params",
)

#: The units a chart offers (hours are for code, not for a 30-day chart).
ChartUnit: TypeAlias = Literal["days", "weeks", "months"]
CHART_UNITS: tuple[ChartUnit, ...] = get_args(ChartUnit)

#: How the retention form labels each parameter (messages use these, not the names).
COHORT_LABELS = {
    "select1": "People who did",
    "select1b": "And also (same period), under Who",
    "select2": "Then did",
    "select2b": "And also (same period), under Came back to",
    "time_group": "Group by",
    "retention": "Retention",
    "as_percent": "Show",
    "num_results": "Rows (cohorts)",
    "num_of_rows": "Last offset",
    "start_date": "First row",
}
TREND_LABELS = {
    "event": "Event",
    "also": "And also (same period)",
    "unit": "Group by",
    "start": "From",
    "end": "To",
}
FUNNEL_STEPS = 6
FUNNEL_LABELS = {
    **{f"step{i}": f"Step {i}" for i in range(1, FUNNEL_STEPS + 1)},
    "unit": "Group by",
    "start": "From",
    "end": "To",
    "within": "Steps may follow within",
}
OVERVIEW_LABELS = {"end": "Day", "top": "Events shown"}

#: Most periods a chart or funnel page shows (a chart of more points is unreadable).
MAX_CHART_PERIODS = 1_000
MAX_WITHIN = 52
MAX_TOP = 100

_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_UNIT_TEXT = {"days": "days", "weeks": "ISO weeks", "months": "months", "years": "years"}


class BadRequest(ValueError):
    """A request the dashboard refuses: *message* is shown to the user, *status* is the HTTP
    status (400 for a bad value, 413 for a request over a resource limit)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def query_params(raw: bytes, allowed: Sequence[str]) -> dict[str, str]:
    """The query string *raw* as a dict: ASCII, each key at most once, only *allowed* keys."""
    try:
        pairs = parse_qsl(
            raw.decode("ascii"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=2 * len(allowed) + 2,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The address has a malformed query string ({exc}).") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise BadRequest(f"The address gives {key!r} more than once.")
        if key not in allowed:
            raise BadRequest(
                f"The address has an unknown parameter {key!r} "
                f"(this page takes {', '.join(allowed)})."
            )
        params[key] = value
    return params


def _whole(
    params: Mapping[str, str], key: str, label: str, default: int, low: int, high: int
) -> int:
    text = params.get(key, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise BadRequest(f"“{label}” must be a whole number, got {params[key]!r}.")
    value = int(text)
    if value < low or value > high:
        raise BadRequest(f"“{label}” must be between {low:,} and {high:,}, got {value:,}.")
    return value


def _date(params: Mapping[str, str], key: str, label: str) -> date | None:
    text = params.get(key, "").strip()
    if not text:
        return None
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise BadRequest(f"“{label}” must be a date like 2026-11-28, got {params[key]!r}.")


def _choice(
    params: Mapping[str, str], key: str, label: str, choices: Sequence[str], default: str
) -> str:
    value = params.get(key, "") or default
    if value not in choices:
        raise BadRequest(f"“{label}” must be one of {', '.join(choices)}, got {value!r}.")
    return value


def check_known(value: str | None, label: str, known: set[str]) -> None:
    """Refuse an event name the store does not have."""
    if value is not None and value not in known:
        raise BadRequest(f"“{label}”: there is no event named {value!r}.")


def _shift(d: date, unit: str, n: int) -> date:
    """*d* moved *n* periods of *unit*; :class:`BadRequest` outside years 1 to 9999."""
    try:
        if unit == "days":
            return d + timedelta(days=n)
        if unit == "weeks":
            return d + timedelta(weeks=n)
        year, month0 = divmod(d.year * 12 + d.month - 1 + (n if unit == "months" else 12 * n), 12)
        return date(year, month0 + 1, 1)
    except (OverflowError, ValueError):
        raise BadRequest(
            f"The range would reach outside the calendar (years 1 to 9999): {n:+,} {unit} "
            f"from {d.isoformat()}."
        ) from None


# -- retention (cohort table) ----------------------------------------------------------------


def parse_cohort(
    params: Mapping[str, str],
    known: set[str],
    *,
    max_cells: int,
    now: datetime,
    tz: tzinfo,
) -> tuple[CohortQuery, CohortLayout]:
    """The cohort query of a retention page and the periods its table covers."""
    label = COHORT_LABELS
    for required in ("select1", "select2"):
        if not params.get(required):
            raise BadRequest(f"Choose an event for “{label[required]}”.")
    for field in ("select1", "select1b", "select2", "select2b"):
        check_known(params.get(field) or None, label[field], known)
    time_group = _choice(params, "time_group", label["time_group"], TIME_GROUPS, "days")
    retention = _choice(params, "retention", label["retention"], RETENTIONS, "classic")
    flag = (params.get("as_percent", "") or "1").strip().lower()
    if flag not in _TRUE + _FALSE:
        raise BadRequest(
            f"“{label['as_percent']}” must be percentages (1) or counts (0), got {flag!r}."
        )
    num_results = _whole(params, "num_results", label["num_results"], 31, 1, max_cells)
    num_of_rows = _whole(params, "num_of_rows", label["num_of_rows"], 12, 0, max_cells - 1)
    start_date = _date(params, "start_date", label["start_date"])
    cells = num_results * (num_of_rows + 1)
    if cells > max_cells:
        raise BadRequest(
            f"This table would have {cells:,} cells (“{label['num_results']}” x "
            f"(“{label['num_of_rows']}” + 1)); the limit is {max_cells:,}. "
            "Ask for fewer rows or a smaller last offset.",
            413,
        )
    query = CohortQuery(
        params["select1"], params["select2"], params.get("select1b") or None,
        params.get("select2b") or None, time_group, flag in _TRUE,  # type: ignore[arg-type]
        num_results, num_of_rows, start_date, retention,  # type: ignore[arg-type]
    )  # fmt: skip
    try:
        layout = native_layout(query, now, tz)
        periods = layout.periods(num_of_rows)
        periods[-1].start()
    except (OverflowError, ValueError):
        first = start_date.isoformat() if start_date else "today"
        raise BadRequest(
            f"This table would reach outside the calendar (years 1 to 9999): "
            f"{num_results:,} rows and {num_of_rows:,} more {_UNIT_TEXT[time_group]} "
            f"around {first}. Ask for fewer rows or another “{label['start_date']}”."
        ) from None
    return query, layout


# -- trends ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendRequest:
    """A trend chart: *event* (and *also*, the same period) per *unit* from *start* to *end*."""

    event: str
    also: str | None
    unit: ChartUnit
    start: date
    end: date
    window: int = 1

    @property
    def periods(self) -> int:
        return _count_periods(self.unit, self.start, self.end)

    def to_params(self) -> dict[str, str]:
        params = {"event": self.event, "also": self.also or "", "unit": self.unit,
                  "start": self.start.isoformat(), "end": self.end.isoformat()}  # fmt: skip
        if self.window != 1:
            params["window"] = str(self.window)
        return params


def _count_periods(unit: str, start: date, end: date) -> int:
    if unit == "days":
        return (end - start).days + 1
    if unit == "weeks":
        monday = start - timedelta(days=start.weekday())
        return (end - monday).days // 7 + 1
    return (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1


def _range(
    params: Mapping[str, str], labels: Mapping[str, str], unit: str, today: date, default_days: int
) -> tuple[date, date]:
    end = _date(params, "end", labels["end"]) or today
    start = _date(params, "start", labels["start"]) or _shift(end, "days", -(default_days - 1))
    if end < start:
        raise BadRequest(
            f"“{labels['end']}” ({end.isoformat()}) is before “{labels['start']}” "
            f"({start.isoformat()})."
        )
    n = _count_periods(unit, start, end)
    if n > MAX_CHART_PERIODS:
        raise BadRequest(
            f"From {start.isoformat()} to {end.isoformat()} is {n:,} {_UNIT_TEXT[unit]}; a chart "
            f"shows at most {MAX_CHART_PERIODS:,}. Pick a shorter range or larger periods.",
            413,
        )
    return start, end


def parse_trend(
    params: Mapping[str, str],
    known: set[str],
    today: date,
    *,
    window: bool = False,
    reach_back: int = 0,
) -> TrendRequest:
    """The trend of a trends page or of ``/api/trend`` (``/api/rolling`` with *window*).

    :param reach_back: periods read before *start* (the page's rolling lines)."""
    labels = TREND_LABELS
    event = params.get("event", "")
    if not event:
        raise BadRequest(f"Choose an event for “{labels['event']}”.")
    check_known(event, labels["event"], known)
    also = params.get("also") or None
    check_known(also, labels["also"], known)
    unit = _choice(params, "unit", labels["unit"], CHART_UNITS, "days")
    start, end = _range(params, labels, unit, today, 30)
    width = _whole(params, "window", "Window", 7, 1, 400) if window else 1
    _shift(start, unit, -max(width - 1, reach_back))  # a window reaches back before start
    return TrendRequest(event, also, unit, start, end, width)  # type: ignore[arg-type]


# -- funnel ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelRequest:
    """A funnel of *steps* by *unit* cohorts from *start* to *end*, each step within *within*
    periods of the cohort's."""

    steps: tuple[str, ...]
    unit: ChartUnit
    start: date
    end: date
    within: int

    @property
    def periods(self) -> int:
        return _count_periods(self.unit, self.start, self.end) + self.within

    def to_params(self) -> dict[str, str]:
        params = {f"step{i}": s for i, s in enumerate(self.steps, 1)}
        params.update(unit=self.unit, start=self.start.isoformat(), end=self.end.isoformat(),
                      within=str(self.within))  # fmt: skip
        return params


def parse_funnel(params: Mapping[str, str], known: set[str], today: date) -> FunnelRequest:
    """The funnel of a funnel page or of ``/api/funnel``."""
    labels = FUNNEL_LABELS
    steps = []
    for i in range(1, FUNNEL_STEPS + 1):
        name = params.get(f"step{i}") or None
        check_known(name, labels[f"step{i}"], known)
        if name is not None:
            steps.append(name)
    if len(steps) < 2:
        raise BadRequest("Choose at least two steps (“Step 1” and “Step 2”).")
    unit = _choice(params, "unit", labels["unit"], CHART_UNITS, "weeks")
    start, end = _range(params, labels, unit, today, 84)
    within = _whole(params, "within", labels["within"], 1, 0, MAX_WITHIN)
    _shift(end, unit, within)
    return FunnelRequest(tuple(steps), unit, start, end, within)  # type: ignore[arg-type]


# -- overview --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverviewRequest:
    """The overview: the *top* most active events on the day *end* (and the 30 days to it)."""

    end: date
    top: int


def parse_overview(params: Mapping[str, str], today: date) -> OverviewRequest:
    end = _date(params, "end", OVERVIEW_LABELS["end"]) or today
    _shift(end, "days", -29)  # the MAU's 30 days
    return OverviewRequest(end, _whole(params, "top", OVERVIEW_LABELS["top"], 10, 1, MAX_TOP))


#: Query-string parameters of each page.
COHORT_PARAMS = PARAMS
TREND_PARAMS = tuple(TREND_LABELS)
ROLLING_PARAMS = (*TREND_LABELS, "window")
FUNNEL_PARAMS = tuple(FUNNEL_LABELS)
OVERVIEW_PARAMS = tuple(OVERVIEW_LABELS)
