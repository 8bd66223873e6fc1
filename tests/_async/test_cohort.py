"""Cohort tables on a real Redis: against a model of Python sets, round trips, temporary keys,
custom handlers, unbounded retention and bad input."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

import hypothesis.strategies as st
import pytest
import redis
from hypothesis import HealthCheck, given, settings

from bitmapist_async import Bitmapist, Expression, PeriodEvents, RedisStorage
from bitmapist_async._core.cohort import CohortQuery, Row, period_of
from bitmapist_async._core.options import Write
from bitmapist_async._core.plan import BitOpStep, Query

from ..cohort_data import EventModel, Mark, synthetic_marks, when
from ..conftest import CommandLog
from ..portal import AsyncPortal

DAY0 = date(2025, 12, 22)  # a Monday: the ISO year turns a week later


class CountingStorage(RedisStorage):
    """The real Redis storage, counting calls: each method is one round trip at most."""

    def __init__(self, url: str) -> None:
        super().__init__(url, bitop_ttl=60)
        self.calls: list[str] = []

    async def evaluate(self, steps: Sequence[BitOpStep], queries: Sequence[Query]) -> list[Any]:
        self.calls.append("evaluate")
        return await super().evaluate(steps, queries)

    async def delete(self, keys: Sequence[str]) -> None:
        self.calls.append("delete")
        await super().delete(keys)

    async def write_bits(self, writes: Sequence[Write]) -> None:
        self.calls.append("write_bits")
        await super().write_bits(writes)


@pytest.fixture
async def counted(redis_url: str) -> AsyncIterator[tuple[Bitmapist, CountingStorage]]:
    storage = CountingStorage(redis_url)
    async with Bitmapist(storage) as client:
        yield client, storage


async def write(bm: Bitmapist, marks: Sequence[Mark]) -> None:
    writes: list[Write] = []
    for m in marks:
        writes += bm.options.event_writes(
            m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
        )
    await bm.storage.write_bits(writes)


def model_rows(model: EventModel, query: CohortQuery, first_day: date) -> list[Row]:
    """The table computed from sets, period by period."""
    first = period_of(query.time_group, first_day)
    periods = [first.delta(i) for i in range(query.num_results + query.num_of_rows)]

    def users(name: str, extra: str | None, i: int) -> set[int]:
        start, end = periods[i].start().date(), periods[i].next_start().date()
        found = model.users(name, start, end)
        return found & model.users(extra, start, end) if extra else found

    returns = [users(query.select2, query.select2b, i) for i in range(len(periods))]
    rows: list[Row] = []
    for r in range(query.num_results):
        cohort = users(query.select1, query.select1b, r)
        row: Row = [periods[r].start().replace(tzinfo=timezone.utc), len(cohort)]
        for k in range(query.num_of_rows + 1):
            later = (
                returns[r + k :] if query.retention == "unbounded" else returns[r + k : r + k + 1]
            )
            back = set().union(*later)
            both = len(cohort & back)
            if not cohort or not back:
                row.append("")
            elif both == 0:
                row.append(0.0)
            else:
                row.append(100.0 * both / len(cohort) if query.as_percent else both)
        rows.append(row)
    return rows


def typed(rows: Sequence[Sequence[object]]) -> list[list[tuple[str, object]]]:
    return [[(type(c).__name__, round(c, 9) if isinstance(c, float) else c) for c in row]
            for row in rows]  # fmt: skip


# -- model ---------------------------------------------------------------------------------

MARKS = st.lists(
    st.builds(
        Mark,
        st.sampled_from(["a", "b", "c"]),
        st.integers(0, 12),
        st.integers(0, 45).map(lambda n: DAY0 + timedelta(days=n)),
    ),
    min_size=40,
    max_size=150,
)
QUERIES: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    select1=st.sampled_from(["a", "b"]),
    select2=st.sampled_from(["a", "b", "c"]),
    select1b=st.sampled_from([None, "b", "c"]),
    select2b=st.sampled_from([None, "a", "c"]),
    time_group=st.sampled_from(["days", "weeks", "months"]),
    as_percent=st.booleans(),
    num_results=st.integers(1, 6),
    num_of_rows=st.integers(0, 5),
    retention=st.sampled_from(["classic", "unbounded"]),
    start=st.integers(-3, 40).map(lambda n: DAY0 + timedelta(days=n)),
    compute=st.sampled_from(["storage", "local"]),
)


async def _open_empty(url: str) -> Bitmapist:
    bm = Bitmapist(url)
    await bm.delete_all_events()
    return bm


def test_model(redis_url: str, admin: redis.Redis) -> None:
    portal = AsyncPortal()

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(marks=MARKS, params=QUERIES)
    def check(marks: list[Mark], params: dict[str, Any]) -> None:
        bm = portal.call(_open_empty, redis_url)
        try:
            portal.call(write, bm, marks)
            start, compute = params.pop("start"), params.pop("compute")
            query = CohortQuery(**params, start_date=start)
            table = portal.call(lambda: bm.cohort(**query.as_kwargs(), compute=compute))
            assert typed(table.rows) == typed(model_rows(EventModel().add(marks), query, start))
            assert admin.keys("trackist_bitop_*") == []
        finally:
            portal.call(bm.aclose)

    try:
        check()
    finally:
        portal.close()


@pytest.mark.parametrize("time_group", ["days", "weeks", "months"])
@pytest.mark.parametrize("retention", ["classic", "unbounded"])
@pytest.mark.parametrize("compute", ["storage", "local"])
async def test_dense_data_against_the_model(
    bm: Bitmapist, time_group: str, retention: str, compute: Any
) -> None:
    first = DAY0 - timedelta(days=70)
    marks = synthetic_marks(first, 160, 25, seed=5)
    await write(bm, marks)
    model = EventModel().add(marks)
    for select1b, select2b, as_percent in [(None, None, True), ("web", "ios", False)]:
        params: dict[str, Any] = {"time_group": time_group, "retention": retention}
        query = CohortQuery(
            "active", "song:play", select1b, select2b, as_percent=as_percent, num_results=6,
            num_of_rows=4, start_date=first + timedelta(days=3), **params,
        )  # fmt: skip
        table = await bm.cohort(**query.as_kwargs(), compute=compute)
        expected = model_rows(model, query, first + timedelta(days=3))
        assert typed(table.rows) == typed(expected)
        assert any(cell not in ("", 0.0) for row in expected for cell in row[2:])


# -- round trips and temporary keys ----------------------------------------------------------


@pytest.mark.parametrize(
    ("time_group", "num_results", "num_of_rows", "retention", "compute"),
    [
        ("days", 1, 0, "classic", "storage"),
        ("days", 31, 12, "classic", "storage"),
        ("weeks", 104, 48, "unbounded", "storage"),
        ("years", 3, 12, "unbounded", "storage"),
        ("days", 31, 12, "classic", "local"),
        ("weeks", 104, 48, "unbounded", "local"),
        ("years", 3, 12, "classic", "local"),
    ],
)
async def test_two_round_trips_whatever_the_size(
    counted: tuple[Bitmapist, CountingStorage],
    admin: redis.Redis,
    time_group: str,
    num_results: int,
    num_of_rows: int,
    retention: str,
    compute: Any,
) -> None:
    bm, storage = counted
    marks = [Mark("a", uid, DAY0 + timedelta(days=uid % 40)) for uid in range(200)]
    marks += [Mark("b", uid, DAY0 + timedelta(days=uid % 9)) for uid in range(0, 200, 3)]
    await write(bm, marks)
    await (bm.DayEvents("a", 2025, 12, 22) & bm.DayEvents("b", 2025, 12, 22)).store()
    before = admin.keys("trackist_bitop_*")
    storage.calls.clear()
    table = await bm.cohort(
        "a",
        "b",
        select1b="b",
        time_group=time_group,  # type: ignore[arg-type]
        num_results=num_results,
        num_of_rows=num_of_rows,
        start_date=DAY0,
        retention=retention,  # type: ignore[arg-type]
        compute=compute,
    )
    assert storage.calls == ["evaluate", "delete"]
    assert len(table.rows) == num_results
    assert all(len(row) == num_of_rows + 3 for row in table.rows)
    # Only this table's temporary keys are gone: another expression's result stays.
    assert admin.keys("trackist_bitop_*") == before != []


async def test_local_compute_of_plain_events_is_one_round_trip(
    counted: tuple[Bitmapist, CountingStorage], admin: redis.Redis
) -> None:
    bm, storage = counted
    await write(bm, [Mark("a", uid, DAY0 + timedelta(days=uid % 5)) for uid in range(50)])
    storage.calls.clear()
    local = await bm.cohort("a", "a", num_results=5, num_of_rows=3, start_date=DAY0,
                            compute="local")  # fmt: skip
    assert storage.calls == ["evaluate"]  # GETs only: no temporary key to delete
    remote = await bm.cohort("a", "a", num_results=5, num_of_rows=3, start_date=DAY0)
    assert typed(local.rows) == typed(remote.rows)
    assert admin.keys("trackist_bitop_*") == []


def synced_mark(command_log: CommandLog, admin: redis.Redis, tag: str) -> int:
    """A position in the command log after every command sent so far (MONITOR lags)."""
    tag = f"{tag}-{uuid.uuid4().hex}"
    admin.echo(tag)
    command_log.wait_for(["ECHO", tag])
    return command_log.mark()


@pytest.mark.layouts("redis", "sharded-redis")  # MONITOR watches the single server only
async def test_temporary_keys_are_unique_expiring_and_deleted(
    bm: Bitmapist, admin: redis.Redis, command_log: CommandLog
) -> None:
    await write(bm, [Mark("a", 1, DAY0), Mark("b", 1, DAY0 + timedelta(days=1))])
    start = synced_mark(command_log, admin, "cohort-keys-1")
    await bm.cohort("a", "b", select2b="a", num_results=3, num_of_rows=2, start_date=DAY0)
    await bm.ping()
    sent = command_log.wait_for(["PING"], start)
    bitops = [c for c in sent if c[0].upper() == "BITOP"]
    dests = [c[2] for c in bitops]
    assert len(dests) == len(set(dests)) > 0
    assert all("bitop_cohort_" in d for d in dests), dests
    expired = {c[1] for c in sent if c[0].upper() == "EXPIRE"}
    assert expired == set(dests)
    deleted = {k for c in sent if c[0].upper() == "DEL" for k in c[1:]}
    assert deleted == set(dests)
    assert admin.keys("*bitop_*") == []
    # A second run names its keys afresh: concurrent tables never share intermediates.
    start = synced_mark(command_log, admin, "cohort-keys-2")
    await bm.cohort("a", "b", select2b="a", num_results=3, num_of_rows=2, start_date=DAY0)
    await bm.ping()
    again = {c[2] for c in command_log.wait_for(["PING"], start) if c[0].upper() == "BITOP"}
    assert again.isdisjoint(dests)


# -- semantics -------------------------------------------------------------------------------


@pytest.mark.parametrize("compute", ["storage", "local"])
async def test_unbounded_retention_counts_any_later_period(bm: Bitmapist, compute: Any) -> None:
    day = DAY0
    marks = [Mark("signup", uid, day) for uid in (1, 2, 3, 4)]
    marks += [Mark("active", 1, day + timedelta(days=1)), Mark("active", 2, day + timedelta(2))]
    marks += [Mark("active", 3, day + timedelta(days=3)), Mark("active", 9, day)]
    await write(bm, marks)
    kwargs: dict[str, Any] = {"num_results": 1, "num_of_rows": 3, "start_date": day,
                              "compute": compute}  # fmt: skip
    classic = await bm.cohort("signup", "active", as_percent=False, **kwargs)
    unbounded = await bm.cohort(
        "signup", "active", as_percent=False, retention="unbounded", **kwargs
    )
    label = datetime(2025, 12, 22, tzinfo=timezone.utc)
    assert classic.rows == [[label, 4, 0.0, 1, 1, 1]]
    assert unbounded.rows == [[label, 4, 3, 3, 2, 1]]
    percent = await bm.cohort("signup", "active", retention="unbounded", **kwargs)
    assert percent.rows == [[label, 4, 75.0, 75.0, 50.0, 25.0]]


async def test_custom_handler_composes_a_selection(bm: Bitmapist) -> None:
    marks = [Mark("active", uid, DAY0) for uid in range(10)]
    marks += [Mark("web", uid, DAY0) for uid in (1, 2, 3)]
    marks += [Mark("ios", uid, DAY0) for uid in (3, 4, 20)]
    marks += [Mark("song", uid, DAY0 + timedelta(days=1)) for uid in (2, 4, 5)]
    await write(bm, marks)
    seen: list[tuple[str, tuple[int, ...]]] = []

    def active_web_ios(
        name: str, cls: Callable[..., PeriodEvents], args: tuple[int, ...]
    ) -> Expression:
        seen.append((name, args))
        return cls("active", *args) & (cls("web", *args) | cls("ios", *args))

    table = await bm.cohort(
        "active_web_ios",
        "song",
        num_results=1,
        num_of_rows=1,
        start_date=DAY0,
        as_percent=False,
        handlers={"active_web_ios": active_web_ios},
    )
    assert table.rows[0][1:] == [4, "", 2]  # {1, 2, 3, 4}, then {2, 4} the next day
    assert seen == [("active_web_ios", (2025, 12, 22))]
    # Handlers are per call: without it, the name is a plain (empty) event.
    plain = await bm.cohort("active_web_ios", "song", num_results=1, start_date=DAY0)
    assert plain.rows[0][1] == 0


async def test_weeks_are_iso_weeks_across_new_year(bm: Bitmapist) -> None:
    # 2025-12-29 (Monday) to 2026-01-04 is ISO week 2026-W01.
    marks = [Mark("a", 1, date(2025, 12, 31)), Mark("a", 2, date(2026, 1, 2))]
    marks += [Mark("a", 1, date(2026, 1, 5))]
    await write(bm, marks)
    table = await bm.cohort(
        "a", "a", time_group="weeks", num_results=2, num_of_rows=1, start_date="2025-12-30"
    )
    assert table.rows[0][:4] == [datetime(2025, 12, 29, tzinfo=timezone.utc), 2, 100.0, 50.0]
    assert table.rows[1][0] == datetime(2026, 1, 5, tzinfo=timezone.utc)


async def test_labels_are_period_starts_in_the_client_zone(redis_url: str) -> None:
    tz = timezone(timedelta(hours=-5))
    async with Bitmapist(redis_url, tz=tz) as bm:
        # 03:00 UTC on Jan 1 is still Dec 31 in UTC-5.
        await bm.mark_event("a", 1, datetime(2026, 1, 1, 3, tzinfo=timezone.utc))
        table = await bm.cohort("a", "a", time_group="months", num_results=1, num_of_rows=0,
                                start_date="2025-12-01")  # fmt: skip
    assert table.rows == [[datetime(2025, 12, 1, tzinfo=tz), 1, 100.0]]


async def test_default_window_ends_with_the_current_period(bm: Bitmapist) -> None:
    today = datetime.now(timezone.utc).date()
    await write(bm, [Mark("a", 7, today)])
    table = await bm.cohort("a", "a", num_results=3, num_of_rows=1)
    assert [row[0].date() for row in table.rows] == [  # type: ignore[union-attr]
        today - timedelta(days=2),
        today - timedelta(days=1),
        today,
    ]
    assert table.rows[-1][1:] == [1, 100.0, ""]
    years = await bm.cohort("a", "a", time_group="years", num_of_rows=0)
    assert len(years.rows) == 3  # bitmapist's default for years


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"time_group": "hours"}, ValueError, "time_group"),
        ({"retention": "forever"}, ValueError, "retention"),
        ({"num_results": 0}, ValueError, "num_results"),
        ({"num_of_rows": -1}, ValueError, "num_of_rows"),
        ({"num_results": True}, TypeError, "num_results"),
        ({"as_percent": "yes"}, TypeError, "as_percent"),
        ({"start_date": "2026-13-01"}, ValueError, "start_date"),
        ({"start_date": 20260101}, TypeError, "start_date"),
        ({"select1b": "bitop_x"}, ValueError, "select1b"),
        ({"num_results": 1000, "num_of_rows": 200}, ValueError, "exceeds"),
        ({"handlers": ["a"]}, TypeError, "handlers"),
        ({"handlers": {"a": 1}}, TypeError, "handlers"),
        ({"handlers": {"a": lambda name, cls, args: "a"}}, TypeError, "custom handler 'a'"),
        ({"compute": "gpu"}, ValueError, "compute must be"),
    ],
)
async def test_bad_input_fails_before_any_io(
    counted: tuple[Bitmapist, CountingStorage],
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    bm, storage = counted
    with pytest.raises(error, match=match):
        await bm.cohort("a", "b", **kwargs)
    with pytest.raises(ValueError, match="select1"):
        await bm.cohort("", "b")
    assert storage.calls == []


async def test_handler_expression_must_belong_to_the_client(
    counted: tuple[Bitmapist, CountingStorage], redis_url: str
) -> None:
    bm, storage = counted
    async with Bitmapist(redis_url) as other:
        with pytest.raises(TypeError, match="custom handler 'x'"):
            await bm.cohort("x", "b", handlers={"x": lambda n, c, a: other.DayEvents("a", *a)})
    assert storage.calls == []
