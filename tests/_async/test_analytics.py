"""Ranges, trends, rolling actives and funnels on every backend: against a model of Python
sets (hypothesis), round trips, temporary keys, the cover rule's limit, bad input before any
I/O, and deadlines."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

import hypothesis.strategies as st
import pytest
import redis
from hypothesis import HealthCheck, Phase, given, settings

from bitmapist_async import (
    Bitmapist,
    Expression,
    RangeEvents,
    StorageError,
    StorageTimeoutError,
    StorageUnavailableError,
)
from bitmapist_async._core.analytics_plan import MAX_FUNNEL_STEPS
from bitmapist_async._core.ranges import MAX_PERIODS

from ..conftest import LayoutTarget
from ..portal import AsyncPortal
from ..servers import free_port
from ..silent import SilentServer

DAY0 = date(2025, 12, 20)  # 35 days from here cross a month, the new year and ISO week 1
UTC = timezone.utc
NAMES = ("a", "b", "c")
Mark = tuple[str, int, datetime]


# -- the model -------------------------------------------------------------------------------


def pkey(unit: str, t: datetime) -> object:
    """The model's name of the period holding *t* (written without the library)."""
    return {
        "hours": (t.date(), t.hour),
        "days": t.date(),
        "weeks": t.isocalendar()[:2],
        "months": (t.year, t.month),
        "years": t.year,
    }[unit]


STEP = {"hours": timedelta(hours=1)}
LONGEST = {
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(days=7),
    "months": timedelta(days=31),
    "years": timedelta(days=366),
}


def walk(unit: str, start: datetime, end: datetime) -> list[object]:
    """Every period name met from *start* to *end*, in order."""
    names: list[object] = []
    step = STEP.get(unit, timedelta(days=1))
    t = start
    while True:
        name = pkey(unit, min(t, end))
        if not names or names[-1] != name:
            names.append(name)
        if t >= end:
            return names
        t += step


def around(unit: str, start: datetime, end: datetime, before: int, after: int) -> list[object]:
    """The periods of the range with *before* periods ahead and *after* past it."""
    names = walk(unit, start - LONGEST[unit] * (before + 1), end + LONGEST[unit] * (after + 1))
    first, last = names.index(pkey(unit, start)), names.index(pkey(unit, end))
    return names[first - before : last + after + 1]


class Model:
    def __init__(self, marks: Sequence[Mark]) -> None:
        self.marks = marks

    def users(self, spec: object, unit: str, name: object) -> set[int]:
        if isinstance(spec, tuple):  # ("and", x, y): the callable event
            return self.users(spec[1], unit, name) & self.users(spec[2], unit, name)
        return {u for e, u, t in self.marks if e == spec and pkey(unit, t) == name}

    def between(self, event: str, start: datetime, end: datetime, hourly: bool) -> set[int]:
        if hourly:
            start, end = start.replace(minute=0), end.replace(minute=59)
            return {u for e, u, t in self.marks if e == event and start <= t <= end}
        return {
            u for e, u, t in self.marks if e == event and start.date() <= t.date() <= end.date()
        }


def as_callable(spec: object) -> Any:
    if not isinstance(spec, tuple):
        return spec
    _, x, y = spec

    def both(cls: Callable[..., Expression], *args: int) -> Expression:
        return cls(x, *args) & cls(y, *args)

    return both


def names_of(unit: str, labels: Sequence[datetime]) -> list[object]:
    for label in labels:
        assert label.tzinfo is UTC
        local = label.replace(tzinfo=None)
        assert pkey(unit, local - timedelta(microseconds=1)) != pkey(unit, local)  # a start
    return [pkey(unit, label.replace(tzinfo=None)) for label in labels]


MARKS = st.lists(
    st.builds(
        lambda e, u, d, h: (e, u, datetime(DAY0.year, DAY0.month, DAY0.day, h) + timedelta(days=d)),
        st.sampled_from(NAMES),
        st.one_of(st.integers(0, 40), st.integers(0, 700)),
        st.integers(0, 34),
        st.integers(0, 23),
    ),
    min_size=60,
    max_size=200,
)
SPECS = st.one_of(st.sampled_from(NAMES), st.just(("and", "a", "b")))
UNITS = st.sampled_from(["hours", "days", "weeks", "months", "years"])
INSTANTS = st.integers(-3 * 24, 37 * 24).map(
    lambda h: datetime(DAY0.year, DAY0.month, DAY0.day) + timedelta(hours=h, minutes=h % 60)
)


def _span(unit: str, start: datetime, draw: Any) -> datetime:
    hours = draw(st.integers(0, 72 if unit == "hours" else 24 * 40))
    return start + timedelta(hours=hours)


async def _open(target: LayoutTarget, marks: Sequence[Mark]) -> Bitmapist:
    bm = Bitmapist(target.url, **target.options)
    await bm.delete_all_events()
    rows = [(e, u, t.replace(tzinfo=UTC)) for e, u, t in marks]
    await bm.import_events(rows, track_hourly=True)
    return bm


async def _leftovers(bm: Bitmapist) -> list[str]:
    return await bm._queries.scan(f"{bm.options.scheme.bitop_prefix}analytics_*")


def check_range(portal: AsyncPortal, bm: Bitmapist, model: Model, data: Any) -> None:
    hourly = data.draw(st.booleans())
    start = data.draw(INSTANTS)
    end = start + timedelta(hours=data.draw(st.integers(0, 100 if hourly else 24 * 40)))
    other_start = data.draw(INSTANTS)
    covers = data.draw(st.booleans())
    a, b = data.draw(st.sampled_from(NAMES)), data.draw(st.sampled_from(NAMES))
    probe = data.draw(st.integers(0, 700))

    def rng(name: str, s: datetime, e: datetime) -> RangeEvents:
        if hourly:
            return bm.RangeEvents(name, s.replace(tzinfo=UTC), e.replace(tzinfo=UTC), covers=covers)
        return bm.RangeEvents(name, s.date(), e.date(), covers=covers)

    first = rng(a, start, end)
    second = rng(b, other_start, other_start + (end - start))
    want_first = model.between(a, start, end, hourly)
    want_second = model.between(b, other_start, other_start + (end - start), hourly)
    assert portal.call(first.ids) == sorted(want_first)
    assert portal.call(first.count) == len(want_first)
    assert portal.call(first.contains, probe) == (probe in want_first)
    assert portal.call((first & ~second).ids) == sorted(want_first - want_second)
    assert portal.call((first | second).count) == len(want_first | want_second)
    assert portal.call((first ^ second).ids) == sorted(want_first ^ want_second)


def check_trend(portal: AsyncPortal, bm: Bitmapist, model: Model, data: Any) -> None:
    unit, spec = data.draw(UNITS), data.draw(SPECS)
    start = data.draw(INSTANTS)
    end = _span(unit, start, data.draw)
    got = portal.call(bm.trend, as_callable(spec), unit, start.replace(tzinfo=UTC), end)
    names = walk(unit, start, end)
    assert names_of(unit, [t for t, _ in got]) == names
    assert [c for _, c in got] == [len(model.users(spec, unit, n)) for n in names]


def check_rolling(portal: AsyncPortal, bm: Bitmapist, model: Model, data: Any) -> None:
    unit, spec = data.draw(UNITS), data.draw(SPECS)
    window = data.draw(st.integers(1, 3 if unit == "years" else 9))
    compute = data.draw(st.sampled_from(["storage", "local"]))
    start = data.draw(INSTANTS)
    end = _span(unit, start, data.draw)
    call = lambda: bm.rolling(as_callable(spec), window, unit, start, end, compute=compute)  # noqa: E731
    got = portal.call(call)
    names = around(unit, start, end, window - 1, 0)
    expected = [
        len(set().union(*(model.users(spec, unit, n) for n in names[i : i + window])))
        for i in range(len(names) - window + 1)
    ]
    assert names_of(unit, [t for t, _ in got]) == names[window - 1 :]
    assert [c for _, c in got] == expected


def check_funnel(portal: AsyncPortal, bm: Bitmapist, model: Model, data: Any) -> None:
    unit = data.draw(UNITS)
    steps = data.draw(st.lists(SPECS, min_size=1, max_size=4))
    within = data.draw(st.integers(0, 2 if unit == "years" else 5))
    compute = data.draw(st.sampled_from(["storage", "local"]))
    start = data.draw(INSTANTS)
    end = _span(unit, start, data.draw)
    specs = [as_callable(s) for s in steps]
    got = portal.call(lambda: bm.funnel(specs, unit, start, end, within, compute=compute))
    names = around(unit, start, end, 0, within)
    cohorts = names[: len(names) - within]
    expected = []
    for p, name in enumerate(cohorts):
        current = model.users(steps[0], unit, name)
        row = [len(current)]
        for spec in steps[1:]:
            reach = set().union(*(model.users(spec, unit, n) for n in names[p : p + within + 1]))
            current &= reach
            row.append(len(current))
        expected.append(row)
    assert names_of(unit, [t for t, _ in got.cohorts]) == cohorts
    assert [c for _, c in got.cohorts] == expected
    assert got.totals == [sum(r[k] for r in expected) for k in range(len(steps))]
    assert len(got.steps) == len(steps)


def test_model(layout_target: LayoutTarget) -> None:
    portal = AsyncPortal()

    @settings(
        max_examples=40,
        # No shrinking: each example takes several round trips, and a shrink would outlast
        # the test's timeout; the failing example is printed as drawn.
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(marks=MARKS, data=st.data())
    def check(marks: list[Mark], data: Any) -> None:
        bm = portal.call(_open, layout_target, marks)
        try:
            model = Model(marks)
            check_range(portal, bm, model, data)
            check_trend(portal, bm, model, data)
            for _ in range(2):
                check_rolling(portal, bm, model, data)
                check_funnel(portal, bm, model, data)
            assert portal.call(_leftovers, bm) == []
        finally:
            portal.call(bm.aclose)

    try:
        check()
    finally:
        portal.close()


# -- round trips and temporary keys ----------------------------------------------------------


class CountingQueries:
    """The client's deadline-bound storage view, recording each call (one round trip)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[str] = []

    async def evaluate(self, *args: Any) -> Any:
        self.calls.append("evaluate")
        return await self._inner.evaluate(*args)

    async def delete(self, *args: Any) -> Any:
        self.calls.append("delete")
        return await self._inner.delete(*args)

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self._inner, name)


@pytest.fixture
async def counted(bm: Bitmapist, monkeypatch: pytest.MonkeyPatch) -> CountingQueries:
    first = datetime(2026, 1, 5, 12, tzinfo=UTC)
    rows = [
        (name, uid, first + timedelta(days=d))
        for d in range(0, 120, 3)
        for uid in range(d % 7, 400, 37)
        for i, name in enumerate(("signup", "search", "cart", "buy"))
        if (uid + d) % (i + 1) == 0
    ]
    await bm.import_events(rows)
    counting = CountingQueries(bm._queries)
    monkeypatch.setattr(bm, "_queries", counting)
    return counting


START, END = date(2026, 1, 5), date(2026, 4, 4)  # 90 days


def _ios(cls: Callable[..., Expression], *args: int) -> Expression:
    return cls("search", *args) & cls("cart", *args)


@pytest.mark.parametrize("event", ["search", _ios], ids=["name", "callable"])
async def test_a_trend_takes_one_round_trip_two_with_bit_operations(
    bm: Bitmapist, counted: CountingQueries, event: Any
) -> None:
    result = await bm.trend(event, "days", START, END)
    assert len(result) == 90
    assert sum(c for _, c in result) > 0
    assert counted.calls == (["evaluate"] if event == "search" else ["evaluate", "delete"])
    assert await _leftovers(bm) == []


@pytest.mark.parametrize("compute", ["storage", "local"])
@pytest.mark.parametrize("event", ["search", _ios], ids=["name", "callable"])
async def test_rolling_takes_two_round_trips_at_most(
    bm: Bitmapist, counted: CountingQueries, compute: Any, event: Any
) -> None:
    result = await bm.rolling(event, 30, "days", START, END, compute=compute)
    assert len(result) == 90
    assert result[-1][1] > 0
    assert counted.calls in (["evaluate"], ["evaluate", "delete"])
    counted.calls.clear()
    assert await _leftovers(bm) == []
    other: Any = "local" if compute == "storage" else "storage"
    assert await bm.rolling(event, 30, "days", START, END, compute=other) == result


@pytest.mark.parametrize("compute", ["storage", "local"])
async def test_a_funnel_of_four_steps_and_twelve_weeks_takes_two_round_trips_at_most(
    bm: Bitmapist, counted: CountingQueries, compute: Any
) -> None:
    steps: list[Any] = ["signup", "search", _ios, "buy"]
    first = date(2026, 1, 5)
    result = await bm.funnel(steps, "weeks", first, first + timedelta(weeks=11), 2, compute=compute)
    assert len(result.cohorts) == 12
    assert result.steps == ("signup", "search", "_ios", "buy")
    assert result.totals[0] > result.totals[-1] > 0
    assert counted.calls in (["evaluate"], ["evaluate", "delete"])
    assert await _leftovers(bm) == []


async def test_a_range_is_one_round_trip(bm: Bitmapist, counted: CountingQueries) -> None:
    assert await bm.RangeEvents("buy", START, END).count() > 0
    assert counted.calls == ["evaluate"]


# -- the cover rule's limit --------------------------------------------------------------------


async def test_covers_read_month_keys_which_an_unmark_of_one_day_empties(bm: Bitmapist) -> None:
    """``unmark_event`` of one day clears the month's bit although the user was active on
    another day: the default (days) still finds the user, ``covers=True`` does not."""
    nov2, nov20 = datetime(2026, 11, 2, 9, tzinfo=UTC), datetime(2026, 11, 20, 9, tzinfo=UTC)
    await bm.mark_event("active", 7, nov2)
    await bm.mark_event("active", 7, nov20)
    await bm.mark_event("active", 8, nov20)
    exact = bm.RangeEvents("active", date(2026, 11, 1), date(2026, 11, 30))
    covered = bm.RangeEvents("active", date(2026, 11, 1), date(2026, 11, 30), covers=True)
    assert await exact.ids() == await covered.ids() == [7, 8]
    await bm.unmark_event("active", 7, nov20)
    assert await exact.ids() == [7, 8]
    assert await covered.ids() == [8]
    assert covered.redis_key == bm.MonthEvents("active", 2026, 11).redis_key


# -- bad input, before any I/O -----------------------------------------------------------------


def _returns_int(cls: Any, *args: int) -> Any:
    return 3


#: Each call is typed loosely on purpose: it passes what the annotations forbid.
BAD_CALLS: dict[str, tuple[Callable[[Any], Any], type[Exception], str]] = {
    "unknown unit": (
        lambda bm: bm.trend("a", "fortnights", START, END),
        ValueError,
        "unit must be one of hours, days, weeks, months, years, got 'fortnights'",
    ),
    "end before start": (
        lambda bm: bm.trend("a", "days", END, START),
        ValueError,
        "end 2026-01-05T00:00:00 is before start 2026-04-04",
    ),
    "too many periods": (
        lambda bm: bm.trend("a", "days", date(2000, 1, 1), date(2030, 1, 1)),
        ValueError,
        f"MAX_PERIODS={MAX_PERIODS:,}",
    ),
    "window pushes past the maximum": (
        lambda bm: bm.rolling("a", MAX_PERIODS, "days", START, START + timedelta(days=1)),
        ValueError,
        "10,001 days",
    ),
    "window below 1": (
        lambda bm: bm.rolling("a", 0, "days", START, END),
        ValueError,
        "window must be at least 1, got 0",
    ),
    "window not an int": (
        lambda bm: bm.rolling("a", "7", "days", START, END),
        TypeError,
        "window must be an int, got '7'",
    ),
    "unknown compute": (
        lambda bm: bm.rolling("a", 7, "days", START, END, compute="gpu"),
        ValueError,
        "got 'gpu'",
    ),
    "no steps": (lambda bm: bm.funnel([], "days", START, END), ValueError, "at least one step"),
    "too many steps": (
        lambda bm: bm.funnel(["a"] * (MAX_FUNNEL_STEPS + 1), "days", START, END),
        ValueError,
        f"at most MAX_FUNNEL_STEPS={MAX_FUNNEL_STEPS} steps, got {MAX_FUNNEL_STEPS + 1}",
    ),
    "within below 0": (
        lambda bm: bm.funnel(["a", "b"], "days", START, END, -1),
        ValueError,
        "within must be at least 0, got -1",
    ),
    "a step of another type": (
        lambda bm: bm.funnel(["a", 5], "days", START, END),
        TypeError,
        "step 1 must be an event name or a callable, got 5",
    ),
    "a callable returning something else": (
        lambda bm: bm.funnel(["a", _returns_int], "days", START, END),
        TypeError,
        "step 1 must return an event or bit operation of this client, got 3",
    ),
    "an empty event name": (
        lambda bm: bm.trend("", "days", START, END),
        ValueError,
        "event: event name must not be empty",
    ),
    "an event of another type": (
        lambda bm: bm.trend(7, "days", START, END),
        TypeError,
        "event must be an event name or a callable, got 7",
    ),
    "hours from dates": (
        lambda bm: bm.trend("a", "hours", START, END),
        TypeError,
        "start must be a datetime for unit='hours'",
    ),
    "a string date": (
        lambda bm: bm.trend("a", "days", "2026-01-05", END),
        TypeError,
        "start must be a date or datetime, got '2026-01-05'",
    ),
}


@pytest.mark.parametrize("case", BAD_CALLS)
async def test_bad_parameters_fail_before_any_io(
    bm: Bitmapist, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    call, error, match = BAD_CALLS[case]
    counting = CountingQueries(bm._queries)
    monkeypatch.setattr(bm, "_queries", counting)
    with pytest.raises(error) as info:
        await call(bm)
    assert match in str(info.value)
    assert counting.calls == []


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("a", date(2026, 1, 1), datetime(2026, 1, 2)), TypeError, "both be dates or both"),
        (("a", date(2026, 1, 2), date(2026, 1, 1)), ValueError, "is before start"),
        (("a", date(2000, 1, 1), date(2030, 1, 1)), ValueError, "MAX_PERIODS"),
        (("", date(2026, 1, 1), date(2026, 1, 2)), ValueError, "must not be empty"),
        (("a", "2026-01-01", "2026-01-02"), TypeError, "both be dates or both"),
    ],
)
def test_a_bad_range_fails_at_construction(
    bm: Bitmapist, args: tuple[Any, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        bm.RangeEvents(*args)
    with pytest.raises(TypeError, match="covers must be a bool"):
        bm.RangeEvents("a", date(2026, 1, 1), date(2026, 1, 2), covers="yes")  # type: ignore[arg-type]


def test_an_unbound_range_names_the_fix() -> None:
    with pytest.raises(TypeError, match=r"bm\.RangeEvents"):
        RangeEvents("a", date(2026, 1, 1), date(2026, 1, 2))


# -- deadlines -------------------------------------------------------------------------------

DEADLINE = 0.4
QUERIES: dict[str, Callable[[Bitmapist], Any]] = {
    "range": lambda bm: bm.RangeEvents("e", START, END).count(),
    "trend": lambda bm: bm.trend(_ios, "days", START, END),
    "rolling": lambda bm: bm.rolling("e", 30, "days", START, END),
    "rolling local": lambda bm: bm.rolling(_ios, 7, "days", START, END, compute="local"),
    "funnel": lambda bm: bm.funnel(["e", _ios], "weeks", START, END, 2),
}


@pytest.mark.parametrize(
    "layout", [{}, {"layout": "sharded", "shard_bits": 8}], ids=["classic", "sharded"]
)
@pytest.mark.parametrize("query", QUERIES)
async def test_a_server_that_never_answers_times_out_once(
    layout: dict[str, Any], query: str
) -> None:
    """One deadline, not two: after a timeout the temporary keys are left to their TTL
    instead of waiting on a second round trip to delete them."""
    with SilentServer() as server:
        async with Bitmapist(server.url, timeout=DEADLINE, **layout) as bm:
            began = time.monotonic()
            with pytest.raises(StorageTimeoutError) as info:
                await QUERIES[query](bm)
            elapsed = time.monotonic() - began
    assert isinstance(info.value, TimeoutError)
    assert DEADLINE * 0.9 < elapsed < DEADLINE * 1.9


@pytest.mark.parametrize("query", QUERIES)
async def test_an_unreachable_server_is_storage_unavailable(query: str) -> None:
    async with Bitmapist(f"redis://127.0.0.1:{free_port()}/0", timeout=DEADLINE) as bm:
        began = time.monotonic()
        with pytest.raises(StorageUnavailableError) as info:
            await QUERIES[query](bm)
        elapsed = time.monotonic() - began
    assert isinstance(info.value, ConnectionError)
    assert elapsed < DEADLINE


def _e_or_f(cls: Callable[..., Expression], *args: int) -> Expression:
    return cls("e", *args) | cls("f", *args)


@pytest.mark.parametrize("compute", ["storage", "local"])
async def test_a_refused_step_deletes_the_temporary_keys(
    redis_url: str, admin: redis.Redis, compute: Any
) -> None:
    """A key of another type makes BITOP fail inside the pipeline: the call raises the
    library's StorageError and still deletes every temporary key it had created."""
    async with Bitmapist(redis_url) as bm:
        for d in range(1, 10):
            await bm.mark_event("e", d, datetime(2026, 1, d, 12, tzinfo=UTC))
        wrong = bm.DayEvents("e", 2026, 1, 5).redis_key
        admin.delete(wrong)
        admin.hset(wrong, "not", "a bitmap")
        with pytest.raises(StorageError, match="WRONGTYPE"):
            await bm.rolling(
                _e_or_f, 3, "days", date(2026, 1, 3), date(2026, 1, 9), compute=compute
            )
        with pytest.raises(StorageError, match="WRONGTYPE"):
            await bm.funnel(["e", _e_or_f], "days", date(2026, 1, 1), date(2026, 1, 9), 2)
        assert admin.keys("trackist_bitop_analytics_*") == []
