"""Concurrent calls end like the same calls made one after another (a model of Python sets):
whatever mix of group flushes, spelled-out flushes and values the batcher builds."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from datetime import datetime, timezone

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bitmapist_async import Bitmapist, WriteOptions

NOW = datetime(2021, 6, 15, 13, 45, tzinfo=timezone.utc)  # never "today"
_prefixes = itertools.count()

Call = tuple[str, str, int, bool]  # (kind, event, uid, dated)
any_call = st.tuples(
    st.sampled_from(["mark", "unmark", "mark_unique", "unmark_unique"]),
    st.sampled_from(["a", "b"]),
    st.integers(0, 300),
    st.booleans(),  # an explicit date (keys built per call) or "now" (cached keys)
)
# Marks of one event "now" (group flushes), alone or followed by anything (spelled out).
now_mark = st.tuples(st.just("mark"), st.just("a"), st.integers(0, 300), st.just(False))
now_marks = st.integers(0, 300).flatmap(lambda n: st.lists(now_mark, min_size=n, max_size=n))
calls_strategy = st.one_of(
    now_marks,  # one group flush, its callers answered as its replies arrive
    st.tuples(now_marks, st.lists(any_call, max_size=200)).map(lambda t: t[0] + t[1]),
)


def model(calls: list[Call]) -> dict[tuple[str, str], set[int]]:
    """(event, "dated" | "now" | "unique") -> ids, applying the calls in order."""
    state: dict[tuple[str, str], set[int]] = {}
    for kind, event, uid, dated in calls:
        where = "unique" if kind.endswith("unique") else ("dated" if dated else "now")
        ids = state.setdefault((event, where), set())
        if kind.startswith("mark"):
            ids.add(uid)
        else:
            ids.discard(uid)
    return state


async def run(url: str, calls: list[Call], in_flight: int) -> dict[tuple[str, str], set[int]]:
    prefix = f"model{next(_prefixes)}_"
    options = WriteOptions(max_in_flight=in_flight)
    async with Bitmapist(url, key_prefix=prefix, write_options=options) as bm:
        before = bm.options.mark_keys("a", None, None, None)

        def call(kind: str, event: str, uid: int, dated: bool) -> Awaitable[None]:
            when = NOW if dated else None
            if kind == "mark":
                return bm.mark_event(event, uid, when)
            if kind == "unmark":
                return bm.unmark_event(event, uid, when)
            marker: Awaitable[None] = getattr(bm, kind)(event, uid)
            return marker

        # A call left unanswered fails here instead of hanging the suite.
        results = await asyncio.wait_for(asyncio.gather(*(call(*c) for c in calls)), 30)
        assert results == [None] * len(calls)
        if bm.options.mark_keys("a", None, None, None) != before:
            return {}  # the day changed during the calls: "now" means two days
        got: dict[tuple[str, str], set[int]] = {}
        for event in ("a", "b"):
            got[event, "dated"] = set(await bm.DayEvents(event, 2021, 6, 15).ids())
            got[event, "now"] = set(await bm.DayEvents(event).ids())
            got[event, "unique"] = set(await bm.UniqueEvents(event).ids())
        return got


# Each example writes under its own key prefix, so the shared fixture needs no reset.
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(calls=calls_strategy, in_flight=st.sampled_from([1, 2, 4]))
def test_concurrent_calls_end_like_sequential_ones(
    redis_url: str, calls: list[Call], in_flight: int
) -> None:
    assume(calls)
    got = asyncio.run(run(redis_url, calls, in_flight))
    assume(got)
    expected = model(calls)
    for key, ids in got.items():
        assert ids == expected.get(key, set()), key
