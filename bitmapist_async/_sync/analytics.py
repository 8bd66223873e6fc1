# This file is generated from bitmapist_async/_async/analytics.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Trends, rolling actives and funnels on storage: every ``BITOP`` and ``BITCOUNT`` (or
``GET``) of a query in one round trip, and its temporary keys deleted in a second.

The I/O-free parts (units, periods, checks, plans, local counting) live in
``_core/ranges.py`` and ``_core/analytics_plan.py``; this module builds each period's
selection (an event's own bitmap, or what a callable composes) and runs the plan through the
client's deadline-bound storage view (``bm._queries``), never ``bm.storage`` directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeAlias

from .._core.analytics_plan import (
    Compute,
    Funnel,
    check_compute,
    check_step_specs,
    check_window,
    check_within,
    funnel_local,
    plan_fetch,
    plan_funnel,
    plan_rolling,
    rolling_local,
    step_label,
)
from .._core.cohort_local import numpy_choice
from .._core.periods import DayPeriod, Period, YearPeriod
from .._core.plan import BitOpStep, Leaf, Node, Query
from .._core.ranges import Unit, check_unit, enumerate_periods, local_instant, period_args
from .._core.validate import check_name
from .evaluate import run_with_temporaries
from .events import Expression, PeriodEvents
from .storage import QueryResult

if TYPE_CHECKING:
    from .client import Bitmapist

__all__ = ("EventSpec", "funnel", "rolling", "trend")

#: What a query counts in each period: an event name, or ``event(cls, *args) -> expression``
#: where ``cls`` is the client's event class for the unit (``bm.DayEvents`` for ``"days"``)
#: and ``args`` the period's fields, so that ``cls("active", *args)`` is the event then.
EventSpec: TypeAlias = "str | Callable[..., Expression]"

Range: TypeAlias = "date | datetime"


class _Selection:
    """The expression tree of one event spec in a period."""

    def __init__(self, bm: Bitmapist, unit: Unit, spec: object, what: str) -> None:
        self._bm = bm
        self._what = what
        self._name: str | None = None
        self._fn: Callable[..., Expression] | None = None
        if isinstance(spec, str):
            try:
                self._name = check_name(spec)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{what}: {exc}") from None
        elif callable(spec):
            self._fn = spec
        else:
            raise TypeError(f"{what} must be an event name or a callable, got {spec!r}")
        self._cls: Callable[..., PeriodEvents] = {
            "hours": bm.HourEvents,
            "days": bm.DayEvents,
            "weeks": bm.WeekEvents,
            "months": bm.MonthEvents,
            "years": bm.YearEvents,
        }[unit]

    def keys(self, periods: Sequence[Period]) -> list[str] | None:
        """The stored keys of an event name's periods (``None`` for years, which are unions
        of months, and for callables): the fast path of a plain trend."""
        if self._name is None or any(isinstance(p, YearPeriod) for p in periods[:1]):
            return None
        head = self._bm.options.scheme.event_key(self._name, "")
        return [head + p.suffix for p in periods]  # type: ignore[attr-defined]

    def nodes(self, periods: Sequence[Period]) -> list[Node]:
        """The selection in each period."""
        keys = self.keys(periods)
        if keys is not None:
            return [Leaf(key) for key in keys]
        return [self.node(p) for p in periods]

    def node(self, period: Period) -> Node:
        if self._name is not None:
            return PeriodEvents._make_node(self._bm, self._name, period)
        assert self._fn is not None
        expression = self._fn(self._cls, *period_args(period))
        if not isinstance(expression, Expression) or expression.bitmapist is not self._bm:
            raise TypeError(
                f"{self._what} must return an event or bit operation of this client, "
                f"got {expression!r}"
            )
        return expression.node


def _periods(
    bm: Bitmapist, unit: object, start: object, end: object, *, before: int = 0, after: int = 0
) -> tuple[Unit, list[Period]]:
    checked = check_unit(unit)
    tz = bm.options.tz
    first = local_instant("start", start, checked, tz)
    last = local_instant("end", end, checked, tz)
    return checked, enumerate_periods(checked, first, last, before=before, after=after)


def _labels(bm: Bitmapist, periods: Sequence[Period]) -> list[datetime]:
    """Each period's first instant, aware, in the client's zone."""
    tz = bm.options.tz
    if periods and isinstance(periods[0], DayPeriod):  # the common case, built directly
        return [datetime(p.year, p.month, p.day, tzinfo=tz) for p in periods]  # type: ignore[attr-defined]
    return [p.start().replace(tzinfo=tz) for p in periods]


def _counts(bm: Bitmapist, nodes: Sequence[Node], window: int, compute: Compute) -> list[int]:
    """The size of the union of every *window* consecutive selections."""
    scheme, token = bm.options.scheme, secrets.token_hex(8)
    if compute == "local":
        fetch = plan_fetch(nodes, scheme, token)
        results = _run_plan(bm, fetch.steps, fetch.queries, fetch.temp_keys)
        bitmaps = [_bytes(results[i]) for i in fetch.index]
        return rolling_local(bitmaps, window, numpy_choice(bm.use_numpy))
    plan = plan_rolling(nodes, window, scheme, token)
    return _ints(_run_plan(bm, plan.steps, plan.queries, plan.temp_keys))


def _bytes(result: QueryResult) -> bytes:
    assert isinstance(result, bytes)
    return result


def _ints(results: Sequence[QueryResult]) -> list[int]:
    out = []
    for r in results:
        assert isinstance(r, int)
        out.append(r)
    return out


def trend(
    bm: Bitmapist, event: EventSpec, unit: Unit, start: Range, end: Range
) -> list[tuple[datetime, int]]:
    """How many did *event* in each period from the one containing *start* to the one
    containing *end*: ``[(period start, count), ...]``.

    One round trip (two when *event* composes bit operations: the second deletes their
    temporary keys).
    """
    checked, periods = _periods(bm, unit, start, end)
    select = _Selection(bm, checked, event, "event")
    keys = select.keys(periods)
    if keys is None:
        counts = _counts(bm, select.nodes(periods), 1, "storage")
    else:
        counts = _ints(bm._queries.evaluate((), [Query("count", k) for k in keys]))
    return list(zip(_labels(bm, periods), counts, strict=True))


def rolling(
    bm: Bitmapist,
    event: EventSpec,
    window: int,
    unit: Unit,
    start: Range,
    end: Range,
    compute: Compute = "storage",
) -> list[tuple[datetime, int]]:
    """For each period of the range, how many did *event* in the *window* periods ending
    with it (WAU by day: ``window=7, unit="days"``). Two round trips at most."""
    width = check_window(window)
    mode = check_compute(compute)
    checked, periods = _periods(bm, unit, start, end, before=width - 1)
    select = _Selection(bm, checked, event, "event")
    counts = _counts(bm, select.nodes(periods), width, mode)
    return list(zip(_labels(bm, periods[width - 1 :]), counts, strict=True))


def funnel(
    bm: Bitmapist,
    steps: Sequence[EventSpec],
    unit: Unit,
    start: Range,
    end: Range,
    within: int = 0,
    compute: Compute = "storage",
) -> Funnel:
    """A funnel by cohort period *p*: step 1 counts who did ``steps[0]`` in *p*, step *k*
    those of step *k - 1* who did ``steps[k - 1]`` in any period from *p* to *p + within*.
    Two round trips at most."""
    specs = check_step_specs(steps)
    reach = check_within(within)
    mode = check_compute(compute)
    checked, periods = _periods(bm, unit, start, end, after=reach)
    selections = [_Selection(bm, checked, s, f"step {i}") for i, s in enumerate(specs)]
    cohorts = periods[: len(periods) - reach]
    first = selections[0].nodes(cohorts)
    later = [s.nodes(periods) for s in selections[1:]]
    scheme, token = bm.options.scheme, secrets.token_hex(8)
    if mode == "local":
        fetch = plan_fetch([*first, *(n for step in later for n in step)], scheme, token)
        results = _run_plan(bm, fetch.steps, fetch.queries, fetch.temp_keys)
        bitmaps = [_bytes(results[i]) for i in fetch.index]
        n, m = len(first), len(periods)
        rest = [bitmaps[n + k * m : n + (k + 1) * m] for k in range(len(later))]
        per_cohort = funnel_local(bitmaps[:n], rest, reach, numpy_choice(bm.use_numpy))
    else:
        plan = plan_funnel(first, later, reach, scheme, token)
        flat = _ints(_run_plan(bm, plan.steps, plan.queries, plan.temp_keys))
        k = len(specs)
        per_cohort = [flat[p * k : (p + 1) * k] for p in range(len(cohorts))]
    return Funnel(
        tuple(step_label(s) for s in specs),
        list(zip(_labels(bm, cohorts), per_cohort, strict=True)),
    )


def _run_plan(
    bm: Bitmapist,
    steps: Sequence[BitOpStep],
    queries: Sequence[Query],
    temp_keys: Sequence[str],
) -> list[QueryResult]:
    return run_with_temporaries(bm._queries, bm.options.scheme, steps, queries, temp_keys)
