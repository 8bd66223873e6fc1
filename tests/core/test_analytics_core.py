"""The I/O-free half of the analytics queries: units and period runs, the cover rule, the
window and funnel plans (run here on Python sets by a small BITOP interpreter), local counting,
and parameter checks."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from bitmapist_async import Funnel
from bitmapist_async._core import numpy_lazy
from bitmapist_async._core.analytics_plan import (
    MAX_FUNNEL_STEPS,
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
from bitmapist_async._core.keys import KeyScheme
from bitmapist_async._core.periods import DayPeriod, HourPeriod, MonthPeriod, WeekPeriod
from bitmapist_async._core.plan import BitOpStep, Leaf, Node, make_op
from bitmapist_async._core.ranges import (
    MAX_PERIODS,
    UNITS,
    check_unit,
    cover_days,
    cover_hours,
    days_of,
    enumerate_periods,
    local_instant,
    period_args,
)

SCHEME = KeyScheme()
DAYS = st.integers(-400, 400).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
HOURS = st.integers(-2000, 2000).map(lambda n: datetime(2026, 1, 1) + timedelta(hours=n))


# -- units and periods -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["day", "fortnights", "", "Days"])
def test_an_unknown_unit_is_a_value_error_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        check_unit(bad)


@pytest.mark.parametrize("bad", [None, 1, b"days"])
def test_a_unit_of_another_type_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="unit"):
        check_unit(bad)


def test_units_are_the_cohort_spelling_plus_hours() -> None:
    assert UNITS == ("hours", "days", "weeks", "months", "years")


def test_hours_need_datetimes() -> None:
    with pytest.raises(TypeError, match="datetime for unit='hours'"):
        local_instant("start", date(2026, 1, 1), "hours", timezone.utc)
    with pytest.raises(TypeError, match="'2026-01-01'"):
        local_instant("end", "2026-01-01", "days", timezone.utc)


def _key(unit: str, d: datetime) -> object:
    """The model's name of the period containing *d* (independent of the library)."""
    return {
        "hours": (d.date(), d.hour),
        "days": d.date(),
        "weeks": d.isocalendar()[:2],
        "months": (d.year, d.month),
        "years": d.year,
    }[unit]


@settings(max_examples=300, deadline=None)
@given(
    unit=st.sampled_from(UNITS),
    start=HOURS,
    hours=st.integers(0, 3000),
    before=st.integers(0, 5),
    after=st.integers(0, 5),
)
def test_periods_run_from_the_start_to_the_end(
    unit: str, start: datetime, hours: int, before: int, after: int
) -> None:
    end = start + timedelta(hours=hours)
    periods = enumerate_periods(unit, start, end, before=before, after=after)  # type: ignore[arg-type]
    inner = periods[before : len(periods) - after]
    assert inner[0].start() <= start <= inner[0].end()
    assert inner[-1].start() <= end <= inner[-1].end()
    for a, b in itertools.pairwise(periods):
        assert a.next_start() == b.start()
    # The model: every distinct period name met walking from start to end hour by hour.
    names: list[object] = []
    t = start
    while t <= end:
        if not names or names[-1] != _key(unit, t):
            names.append(_key(unit, t))
        t += timedelta(hours=1)
    if _key(unit, end) != names[-1]:
        names.append(_key(unit, end))
    assert [_key(unit, p.start()) for p in inner] == names


def test_end_before_start_is_refused() -> None:
    with pytest.raises(ValueError, match="end 2026-01-01T00:00:00 is before start 2026-01-02"):
        enumerate_periods("days", datetime(2026, 1, 2), datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="before start"):
        cover_days(date(2026, 1, 2), date(2026, 1, 1), covers=False)


def test_a_range_beyond_max_periods_is_refused_counting_the_window() -> None:
    start = datetime(2000, 1, 1)
    end = start + timedelta(days=MAX_PERIODS - 1)
    assert len(enumerate_periods("days", start, end)) == MAX_PERIODS
    with pytest.raises(ValueError, match=r"10,001 days.*MAX_PERIODS=10,000"):
        enumerate_periods("days", start, end, before=1)
    with pytest.raises(ValueError, match="MAX_PERIODS"):
        enumerate_periods("hours", start, start + timedelta(hours=MAX_PERIODS))
    with pytest.raises(ValueError, match="10,001 days"):
        cover_days(start.date(), end.date() + timedelta(days=1), covers=True)


def test_periods_past_the_calendar_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="outside the calendar"):
        enumerate_periods("days", datetime(1, 1, 1), datetime(1, 1, 3), before=2)


def test_period_args_are_the_event_class_arguments() -> None:
    assert period_args(HourPeriod(2026, 3, 4, 5)) == (2026, 3, 4, 5)
    assert period_args(WeekPeriod(2026, 1)) == (2026, 1)


# -- the cover rule ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(first=DAYS, days=st.integers(0, 200), covers=st.booleans())
def test_a_cover_holds_exactly_the_days_of_the_range(first: date, days: int, covers: bool) -> None:
    last = first + timedelta(days=days)
    periods = cover_days(first, last, covers)
    held = [len(days_of([p])) for p in periods]
    assert sum(held) == days + 1  # no day twice
    assert days_of(periods) == {first + timedelta(days=n) for n in range(days + 1)}
    if not covers:
        assert all(isinstance(p, DayPeriod) for p in periods)


def test_covers_use_whole_months_and_iso_weeks_only() -> None:
    # 2026-10-27 is a Tuesday; November and December are whole; no whole week before them.
    periods = cover_days(date(2026, 10, 27), date(2026, 12, 31), covers=True)
    assert periods[-2:] == [MonthPeriod(2026, 11), MonthPeriod(2026, 12)]
    assert all(isinstance(p, DayPeriod) for p in periods[:-2])
    # Mon 2026-11-30 .. Sun 2026-12-06 is a whole ISO week; December is not whole.
    assert cover_days(date(2026, 11, 30), date(2026, 12, 6), covers=True) == [WeekPeriod(2026, 49)]
    # 2026-12-28 .. 2027-01-03 is ISO week 53 of 2026.
    assert cover_days(date(2026, 12, 28), date(2027, 1, 3), covers=True) == [WeekPeriod(2026, 53)]
    assert len(cover_days(date(2026, 11, 30), date(2026, 12, 5), covers=True)) == 6


def _hours_of(periods: Sequence[object]) -> list[datetime]:
    out = []
    for p in periods:
        t, end = p.start(), p.end()  # type: ignore[attr-defined]
        while t <= end:
            out.append(t)
            t += timedelta(hours=1)
    return out


@settings(max_examples=300, deadline=None)
@given(
    first=HOURS,
    hours=st.integers(0, 24 * 40),
    minutes=st.tuples(st.integers(0, 59), st.integers(0, 59)).map(sorted),
    covers=st.booleans(),
)
def test_an_hour_cover_holds_exactly_the_hours_of_the_range(
    first: datetime, hours: int, minutes: list[int], covers: bool
) -> None:
    start = first + timedelta(minutes=minutes[0])
    end = first + timedelta(hours=hours, minutes=minutes[1])
    periods = cover_hours(start, end, covers)
    held = _hours_of(periods)
    assert len(held) == len(set(held)) == hours + 1
    assert set(held) == {first + timedelta(hours=n) for n in range(hours + 1)}
    if not covers:
        assert all(isinstance(p, HourPeriod) for p in periods)
    elif hours >= 48:
        assert not all(isinstance(p, HourPeriod) for p in periods)


# -- plans, run on sets ------------------------------------------------------------------------


def run_steps(steps: Sequence[BitOpStep], store: dict[str, frozenset[int]]) -> None:
    """A BITOP interpreter over sets (the plans here use only AND and OR)."""
    for step in steps:
        sources = [store.get(s, frozenset()) for s in step.sources]
        if step.op == "OR":
            store[step.dest] = frozenset().union(*sources)
        elif step.op == "AND":
            store[step.dest] = frozenset.intersection(*sources)
        else:  # pragma: no cover - not used by these plans
            raise AssertionError(step)


def _leaves(n: int, name: str = "e") -> list[Node]:
    return [Leaf(f"trackist_{name}_{i}") for i in range(n)]


SETS = st.lists(st.frozensets(st.integers(0, 60), max_size=8), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(sets=SETS, window=st.integers(1, 12))
def test_the_rolling_plan_counts_every_window(sets: list[frozenset[int]], window: int) -> None:
    if len(sets) < window:
        sets = sets + [frozenset()] * (window - len(sets))
    nodes = _leaves(len(sets))
    store = {n.key: s for n, s in zip(nodes, sets, strict=True)}
    plan = plan_rolling(nodes, window, SCHEME, "t")
    run_steps(plan.steps, store)
    count = len(sets) - window + 1
    expected = [len(frozenset().union(*sets[j : j + window])) for j in range(count)]
    assert [len(store[q.key]) for q in plan.queries] == expected
    assert len(plan.steps) <= 3 * len(sets)
    assert set(plan.temp_keys) == {s.dest for s in plan.steps}
    assert all(k.startswith("trackist_bitop_analytics_t_") for k in plan.temp_keys)
    bitmaps = [_bitmap(s) for s in sets]
    assert rolling_local(bitmaps, window, use_numpy=False) == expected
    if numpy_lazy.numpy_with_bitwise_count() is not None:
        assert rolling_local(bitmaps, window, use_numpy=True) == expected


def test_a_thirty_day_window_costs_about_two_bitops_per_day() -> None:
    nodes = _leaves(119)
    plan = plan_rolling(nodes, 30, SCHEME, "t")
    assert len(plan.steps) < 3 * 119
    assert all(len(s.sources) == 2 for s in plan.steps)


def _bitmap(ids: frozenset[int]) -> bytes:
    if not ids:
        return b""
    data = bytearray(max(ids) // 8 + 1)
    for i in ids:
        data[i >> 3] |= 0x80 >> (i & 7)
    return bytes(data)


@settings(max_examples=200, deadline=None)
@given(
    cohorts=st.integers(1, 8),
    within=st.integers(0, 4),
    steps=st.integers(1, 4),
    data=st.data(),
)
def test_the_funnel_plan_against_the_definition(
    cohorts: int, within: int, steps: int, data: st.DataObject
) -> None:
    periods = cohorts + within
    ids = st.frozensets(st.integers(0, 30), max_size=10)
    sets = [data.draw(st.lists(ids, min_size=periods, max_size=periods)) for _ in range(steps)]
    first = _leaves(cohorts, "s0")
    later = [_leaves(periods, f"s{k}") for k in range(1, steps)]
    store = {n.key: sets[0][i] for i, n in enumerate(first)}
    for k, nodes in enumerate(later, start=1):
        store.update({n.key: sets[k][i] for i, n in enumerate(nodes)})
    plan = plan_funnel(first, later, within, SCHEME, "t")
    run_steps(plan.steps, store)
    expected = []
    for p in range(cohorts):
        current = sets[0][p]
        row = [len(current)]
        for k in range(1, steps):
            current = current & frozenset().union(*sets[k][p : p + within + 1])
            row.append(len(current))
        expected.append(row)
    counts = [len(store[q.key]) for q in plan.queries]
    assert [counts[p * steps : (p + 1) * steps] for p in range(cohorts)] == expected
    bitmaps_first = [_bitmap(s) for s in sets[0][:cohorts]]
    bitmaps_later = [[_bitmap(s) for s in sets[k]] for k in range(1, steps)]
    assert funnel_local(bitmaps_first, bitmaps_later, within, use_numpy=False) == expected
    if numpy_lazy.numpy_with_bitwise_count() is not None:
        assert funnel_local(bitmaps_first, bitmaps_later, within, use_numpy=True) == expected


def test_a_fetch_plan_gets_each_distinct_bitmap_once() -> None:
    a, b = Leaf("trackist_a_1"), Leaf("trackist_b_1")
    both = make_op(SCHEME, "AND", [a, b])
    plan = plan_fetch([a, both, a, both, b], SCHEME, "t")
    assert [q.kind for q in plan.queries] == ["get"] * 3
    assert plan.index == (0, 1, 0, 1, 2)
    assert len(plan.steps) == 1
    assert plan.temp_keys == (plan.steps[0].dest,)


# -- checks and the result ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "bad", "error", "match"),
    [
        (check_window, 0, ValueError, "window must be at least 1, got 0"),
        (check_window, 2.0, TypeError, "window must be an int, got 2.0"),
        (check_window, True, TypeError, "window must be an int, got True"),
        (check_within, -1, ValueError, "within must be at least 0, got -1"),
        (check_within, "2", TypeError, "within must be an int, got '2'"),
        (check_compute, "remote", ValueError, "compute must be .* got 'remote'"),
        (check_step_specs, [], ValueError, "at least one step"),
        (check_step_specs, "signup", TypeError, "got 'signup'"),
        (check_step_specs, ["a"] * (MAX_FUNNEL_STEPS + 1), ValueError, "at most MAX_FUNNEL"),
        (check_step_specs, ["a", 3], TypeError, "step 1 must be an event name or a callable"),
        (check_step_specs, ["a", ""], ValueError, "step 1: event name must not be empty"),
    ],
)
def test_bad_parameters_are_typed_errors_naming_the_value(
    check: object, bad: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        check(bad)  # type: ignore[operator]


def test_a_funnel_sums_its_cohorts_and_converts() -> None:
    t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    funnel = Funnel(("a", "b", "c"), [(t0, [10, 5, 1]), (t0 + timedelta(weeks=1), [10, 0, 0])])
    assert funnel.totals == [20, 5, 1]
    assert funnel.conversions == [0.25, 0.2]
    assert funnel.overall == 0.05
    empty = Funnel(("a", "b"), [(t0, [0, 0])])
    assert empty.conversions == [0.0]
    assert empty.overall == 0.0


def test_a_callable_step_is_labelled_by_its_name() -> None:
    def active_on_ios() -> None: ...

    assert step_label(active_on_ios) == "active_on_ios"
    assert step_label("signup") == "signup"
