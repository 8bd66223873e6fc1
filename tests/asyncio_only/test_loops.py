"""One client across event loops: sequential ``asyncio.run`` calls, two loops at once, and
``aclose()`` after a loop change, on every backend, with the fast paths and with the
public-API fallbacks (``bitmapist_async._internals``)."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from typing import Any, TypeVar

import pytest
import redis

from bitmapist_async import BitmapistError, EventLoopConflictError
from bitmapist_async._async.client import Bitmapist
from bitmapist_async._async.redis_storage import RedisStorage
from bitmapist_async._async.sharded_storage import ShardedStorage

from ..conftest import SHARDED_OPTIONS, LayoutTarget

NOW = datetime(2026, 5, 5, 10, tzinfo=timezone.utc)
EVENT = "loops"
BACKENDS = ("classic", "sharded", "cluster", "embedded", "memory")

_T = TypeVar("_T")

pytestmark = pytest.mark.usefixtures("internals")


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest) -> LayoutTarget:
    """Where the client runs: ``layout_target``'s four, plus the in-memory embedded store."""
    name = request.param
    if name == "memory":
        return LayoutTarget(name, "memory://", {})
    if name == "embedded":
        tmp_path = request.getfixturevalue("tmp_path")
        return LayoutTarget(name, f"file://{tmp_path}/events.db", {})
    if name == "cluster":
        url = request.getfixturevalue("cluster_url")
        return LayoutTarget(name, url, SHARDED_OPTIONS, request.getfixturevalue("cluster_nodes"))
    options = SHARDED_OPTIONS if name == "sharded" else {}
    url = request.getfixturevalue("redis_url")
    return LayoutTarget(name, url, options, (request.getfixturevalue("admin"),))


def _connections(target: LayoutTarget) -> int:
    """Client connections the servers behind *target* have open, other than the admin ones."""
    total = 0
    for node in target.nodes:
        clients = node.client_list()
        total += sum(1 for c in clients if c.get("cmd") not in ("client|list", "monitor"))
    return total


@pytest.fixture
def collected(internals: str) -> Iterator[None]:
    """Collect garbage at the end of the test, inside it: a socket or transport left open
    then fails the test with its ResourceWarning (with the fallbacks, sockets not closed at a
    loop change are closed by the garbage collector, as documented)."""
    yield
    gc.collect()


def in_thread(coroutine: Callable[[], Awaitable[_T]]) -> _T | BaseException:
    """Run *coroutine()* with ``asyncio.run`` in another thread (its own loop), now, and return
    its result or exception (the calling thread, and its loop, wait meanwhile)."""
    outcome: list[Any] = []

    def run() -> None:
        async def main() -> _T:
            return await coroutine()

        try:
            outcome.append(asyncio.run(main()))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the other loop's call did not finish"
    result: _T | BaseException = outcome[0]
    return result


def on_the_wire(bm: Bitmapist) -> bool:
    """Whether a query of *bm* holds a connection (or, on a cluster, is under way)."""
    storage = bm.storage
    if isinstance(storage, ShardedStorage):
        if storage._inner is None:
            return storage._loop_guard._in_flight > 0
        storage = storage._inner
    assert isinstance(storage, RedisStorage)
    kept = storage._kept
    return any(c not in kept._connections for c in kept._out)  # (not a flush's, kept)


def test_one_client_across_sequential_asyncio_runs(
    target: LayoutTarget, collected: None, internals: str
) -> None:
    """``bm = Bitmapist(url)`` at module level, then ``asyncio.run`` per step: every step's
    marks and queries work, and ``aclose()`` in yet another loop succeeds."""
    bm = Bitmapist(target.url, **target.options)
    day = bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day)

    async def step(uid: int) -> tuple[int, list[int], bool]:
        await bm.mark_event(EVENT, uid, now=NOW)
        await bm.unmark_event(EVENT, uid + 1000, now=NOW)  # another flush shape
        return await day.count(), await day.ids(), await day.contains(uid)

    seen = []
    for uid in range(4):
        count, ids, contains = asyncio.run(step(uid))
        seen.append((count, ids, contains))
    assert seen == [(n + 1, list(range(n + 1)), True) for n in range(4)]
    assert asyncio.run(bm.get_event_names()) == [EVENT]
    if target.nodes and internals == "fast":
        # The connections of each closed loop were closed as the client moved on: one per
        # server (or cluster node) serves each step, however many steps ran.
        assert _connections(target) <= len(target.nodes) * 2
    asyncio.run(bm.aclose())
    assert bm.closed
    if target.nodes and internals == "fast":
        assert _connections(target) == 0


def test_queries_alone_across_loops(target: LayoutTarget, collected: None) -> None:
    """A first query in a new loop (no mark before it) works, then aclose in a third."""
    bm = Bitmapist(target.url, **target.options)
    day = bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day)

    async def mark() -> None:
        async with bm.batch():
            for uid in (3, 5, 8):
                await bm.mark_event(EVENT, uid, now=NOW)

    asyncio.run(mark())
    assert asyncio.run(day.count()) == 3
    assert asyncio.run(bm.counts([day, day & bm.DayEvents(EVENT, 2026, 5, 6)])) == [3, 0]
    asyncio.run(bm.aclose())


def test_marks_from_another_loop_while_writes_are_pending(
    target: LayoutTarget, collected: None
) -> None:
    """Writes pending on one loop: a mark or ``flush()`` from another thread's loop gets
    :class:`EventLoopConflictError` at once; the pending writes are stored, and the client
    then moves to the other loop."""
    bm = Bitmapist(target.url, **target.options)
    day = bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day)

    async def main() -> list[object]:
        keys = bm.options.mark_keys(EVENT, NOW, None, None)
        pending = bm._writer.write_mark(keys, 1, 1)  # queued; its flush has not started
        assert bm.pending_writes == len(keys)
        outcomes: list[object] = [
            in_thread(lambda: bm.mark_event(EVENT, 2, now=NOW)),
            in_thread(bm.flush),
            in_thread(bm.aclose),
        ]
        await pending
        return outcomes

    outcomes = asyncio.run(main())
    for outcome in outcomes:
        assert isinstance(outcome, EventLoopConflictError), outcome
        assert isinstance(outcome, BitmapistError)
        assert isinstance(outcome, RuntimeError)
        assert "another event loop" in str(outcome)
    assert not bm.closed
    # Idle now: another thread's loop may use it, and close it.
    assert in_thread(day.ids) == [1]
    assert in_thread(lambda: bm.mark_event(EVENT, 2, now=NOW)) is None
    assert in_thread(day.ids) == [1, 2]
    assert in_thread(bm.aclose) is None


@pytest.mark.parametrize("target", ["classic", "sharded", "cluster"], indirect=True)
def test_calls_from_another_loop_while_a_query_is_in_flight(
    target: LayoutTarget, collected: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A query on the wire on one loop: a query and a mark from another thread's loop each
    get :class:`EventLoopConflictError` (not asyncio's "attached to a different loop"); the
    first query completes, and ``aclose()`` afterwards does not raise."""
    bm = Bitmapist(target.url, **target.options)
    day = bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day)

    async def main() -> tuple[object, object, object, int]:
        await bm.mark_event(EVENT, 7, now=NOW)
        query = asyncio.ensure_future(day.count())
        while not on_the_wire(bm):  # noqa: ASYNC110 - the storage sets no event
            await asyncio.sleep(0)
        # This loop is blocked in in_thread meanwhile: the query stays on the wire.
        other_query = in_thread(day.count)
        other_mark = in_thread(lambda: bm.mark_event(EVENT, 8, now=NOW))
        other_close = in_thread(bm.aclose)
        return other_query, other_mark, other_close, await query

    other_query, other_mark, other_close, count = asyncio.run(main())
    assert isinstance(other_query, EventLoopConflictError), other_query
    assert isinstance(other_mark, EventLoopConflictError), other_mark
    assert isinstance(other_close, EventLoopConflictError), other_close
    assert not bm.closed
    assert count == 1
    assert asyncio.run(day.ids()) == [7]  # the refused mark wrote nothing
    asyncio.run(bm.aclose())
    assert "could not release" not in caplog.text  # (the other loop's idle housekeeping)


def test_aclose_after_two_loops_used_it_at_once(target: LayoutTarget, collected: None) -> None:
    """After a refused call from another loop (now closed), the first loop keeps working and
    ``aclose()`` there succeeds; so does ``aclose()`` from a fresh loop after the other
    thread's loop was the last to use it."""
    bm = Bitmapist(target.url, **target.options)
    day = bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day)

    async def main() -> int:
        keys = bm.options.mark_keys(EVENT, NOW, None, None)
        pending = bm._writer.write_mark(keys, 4, 1)
        assert isinstance(
            in_thread(lambda: bm.mark_event(EVENT, 5, now=NOW)), EventLoopConflictError
        )
        await pending
        count = await day.count()
        await bm.aclose()
        return count

    assert asyncio.run(main()) == 1
    second = Bitmapist(target.url, **target.options)
    assert in_thread(lambda: second.mark_event(EVENT, 6, now=NOW)) is None
    asyncio.run(second.aclose())
    check = Bitmapist(target.url, **target.options)
    assert asyncio.run(check.DayEvents(EVENT, NOW.year, NOW.month, NOW.day).ids()) == [4, 6] or (
        target.name == "memory"  # (each memory:// client has its own store)
    )
    asyncio.run(check.aclose())


def test_idle_client_moves_away_from_a_loop_still_running_in_another_thread(
    redis_url: str, admin: redis.Redis, collected: None, internals: str
) -> None:
    """The old loop still runs (in another thread): its sockets are closed by that loop, not
    touched from this thread."""
    bm = Bitmapist(redis_url)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(bm.mark_event(EVENT, 1, now=NOW), loop).result(30)
        asyncio.run_coroutine_threadsafe(bm.flush(), loop).result(30)

        async def here() -> int:
            await bm.mark_event(EVENT, 2, now=NOW)
            return await bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day).count()

        assert asyncio.run(here()) == 2
        back = asyncio.run_coroutine_threadsafe(
            bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day).ids(), loop
        )
        assert back.result(30) == [1, 2]
        asyncio.run_coroutine_threadsafe(bm.aclose(), loop).result(30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def test_writes_a_closed_loop_left_queued_are_dropped_with_a_warning(
    target: LayoutTarget, collected: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop closed with writes still queued (never acknowledged: their callers went with
    it) does not strand the client: the next loop's call drops them, with a warning, and
    works."""
    bm = Bitmapist(target.url, **target.options)
    keys = bm.options.mark_keys(EVENT, NOW, None, None)
    loop = asyncio.new_event_loop()

    async def queue() -> None:
        bm._writer.write_mark(keys, 1, 1)  # its flush's task never gets to run

    loop.run_until_complete(queue())
    loop.close()
    assert bm.pending_writes == len(keys)

    async def step() -> list[int]:
        await bm.mark_event(EVENT, 2, now=NOW)
        ids = await bm.DayEvents(EVENT, NOW.year, NOW.month, NOW.day).ids()
        await bm.aclose()
        return ids

    with caplog.at_level("WARNING", logger="bitmapist_async"):
        assert asyncio.run(step()) == [2]
    assert f"{len(keys)} write(s) queued on a closed event loop were dropped" in caplog.text
