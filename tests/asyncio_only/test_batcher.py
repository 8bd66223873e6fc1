"""The coalescing batcher under concurrency: exact results, deduplication, ordering,
cancellation, flush() and aclose()."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import datetime, timezone

import pytest
import redis

from bitmapist_async import (
    Bitmapist,
    ClientClosedError,
    EventLoopConflictError,
    RejectedWritesError,
    StorageError,
    StorageUnavailableError,
    WriteFailedError,
    WriteOptions,
)
from bitmapist_async._async.redis_storage import RedisStorage

from ..causes import caused_by
from ..conftest import CommandLog
from ..servers import RedisProcess
from .conftest import Arrivals, callbacks_run, held_and_open
from .proxy import RedisProxy

NOW = datetime(2026, 11, 28, 13, 45, tzinfo=timezone.utc)
EVENTS = ("play", "view", "buy")

#: Each test runs with the fast paths and again with their public-API fallbacks.
pytestmark = pytest.mark.usefixtures("internals")


async def test_200_tasks_500_marks_each_every_count_and_id(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    tasks, per = 200, 500

    async def producer(bm: Bitmapist, index: int) -> dict[str, set[int]]:
        # Ids are striped by task, so the final state is each task's own sequential result.
        rnd = random.Random(index)
        mine: dict[str, set[int]] = {event: set() for event in EVENTS}
        for _ in range(per):
            event = rnd.choice(EVENTS)
            if mine[event] and rnd.random() < 0.2:
                uid = rnd.choice(sorted(mine[event]))
                await bm.unmark_event(event, uid, NOW)
                mine[event].discard(uid)
            else:
                uid = rnd.randrange(5_000) * tasks + index
                await bm.mark_event(event, uid, NOW)
                mine[event].add(uid)
        return mine

    async with Bitmapist(private_server.url) as bm:
        results = await asyncio.gather(*(producer(bm, i) for i in range(tasks)))
        assert bm.pending_writes == 0
        for event in EVENTS:
            expected = sorted(set().union(*(r[event] for r in results)))
            assert len(expected) > 10_000
            for ev in (
                bm.MonthEvents(event, 2026, 11),
                bm.WeekEvents(event, 2026, 48),
                bm.DayEvents(event, 2026, 11, 28),
            ):
                assert await ev.count() == len(expected)
                assert await ev.ids() == expected


async def test_one_flush_sends_each_bit_once_and_the_last_call_wins(
    bm: Bitmapist, command_log: CommandLog, admin: redis.Redis
) -> None:
    start = command_log.mark()
    # Tasks created together run in one loop pass: their writes share one flush.
    await asyncio.gather(
        bm.mark_unique("d", 1),
        bm.mark_unique("d", 1),
        bm.mark_unique("d", 2),
        bm.unmark_unique("d", 2),
        bm.unmark_unique("d", 3),
        bm.mark_unique("d", 3),
        bm.mark_unique("d", 4),
        bm.unmark_unique("d", 4),
        bm.mark_unique("d", 4),
    )
    await bm.UniqueEvents("end").contains(0)
    sent = command_log.wait_for(["GETBIT", "trackist_end_u", "0"], start)
    assert sorted(c for c in sent if c[0] == "SETBIT") == [
        ["SETBIT", "trackist_d_u", "1", "1"],
        ["SETBIT", "trackist_d_u", "2", "0"],
        ["SETBIT", "trackist_d_u", "3", "1"],
        ["SETBIT", "trackist_d_u", "4", "1"],
    ]
    assert [admin.getbit("trackist_d_u", i) for i in range(5)] == [0, 1, 0, 1, 1]


async def test_identical_marks_in_one_flush_are_sent_once(
    bm: Bitmapist, command_log: CommandLog
) -> None:
    start = command_log.mark()
    await asyncio.gather(*(bm.mark_event("same", 9, NOW) for _ in range(50)))
    await bm.UniqueEvents("end").contains(0)
    sent = command_log.wait_for(["GETBIT", "trackist_end_u", "0"], start)
    assert sorted(c for c in sent if c[0] == "SETBIT") == [
        ["SETBIT", "trackist_same_2026-11", "9", "1"],
        ["SETBIT", "trackist_same_2026-11-28", "9", "1"],
        ["SETBIT", "trackist_same_W2026-48", "9", "1"],
    ]


async def test_bad_input_fails_at_the_call_and_never_poisons_a_flush(bm: Bitmapist) -> None:
    results = await asyncio.gather(
        bm.mark_event("ok", 1, NOW),
        bm.mark_event("", 2, NOW),
        bm.mark_event("ok", -1, NOW),
        bm.mark_event("ok", 3, NOW),
        bm.mark_unique("ok", "4"),  # type: ignore[arg-type]
        bm.mark_event("ok", 5, "yesterday"),  # type: ignore[arg-type]
        bm.mark_event("ok", 6, NOW),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == [
        "NoneType",
        "ValueError",
        "ValueError",
        "NoneType",
        "TypeError",
        "TypeError",
        "NoneType",
    ]
    assert "-1" in str(results[2])
    assert await bm.DayEvents("ok", 2026, 11, 28).ids() == [1, 3, 6]


async def test_refused_writes_fail_only_their_callers(bm: Bitmapist, admin: redis.Redis) -> None:
    admin.rpush("trackist_wrong_2026-11", "not a bitmap")  # SETBIT on it: WRONGTYPE
    results = await asyncio.gather(
        bm.mark_event("right", 1, NOW),
        bm.mark_event("wrong", 2, NOW),
        bm.mark_event("right", 3, NOW),
        return_exceptions=True,
    )
    assert results[0] is None
    assert results[2] is None
    failure = results[1]
    assert isinstance(failure, WriteFailedError)
    assert caused_by(failure, StorageError, redis.ResponseError)
    assert "WRONGTYPE" in str(failure.__cause__)
    assert "trackist_wrong_2026-11" in str(failure)
    assert await bm.DayEvents("right", 2026, 11, 28).ids() == [1, 3]


async def test_opposite_writes_never_overtake_a_flush_in_flight(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url, write_options=WriteOptions(max_in_flight=4)) as bm:
        with proxy.holding():
            mark = asyncio.create_task(bm.mark_unique("x", 5))
            await proxy.held.wait()  # the mark's flush is on the wire, frozen
            unmark = asyncio.create_task(bm.unmark_unique("x", 5))
            await callbacks_run()  # the unmark is queued and the batcher had its chance to send
            assert bm._writer.flushes_in_flight == 1
            assert bm.pending_writes == 2
        await asyncio.gather(mark, unmark)
    assert private_admin.getbit("trackist_x_u", 5) == 0
    order = [w for turn in proxy.setbit_turns() for w in turn.setbits()]
    assert order == [("trackist_x_u", 5, 1), ("trackist_x_u", 5, 0)]


async def test_same_direction_flushes_travel_concurrently(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url, write_options=WriteOptions(max_in_flight=4)) as bm:
        with proxy.holding():
            first = asyncio.create_task(bm.mark_unique("y", 1))
            await proxy.held.wait()
            second = asyncio.create_task(bm.mark_unique("y", 2))
            await callbacks_run()
            assert bm._writer.flushes_in_flight == 2
        await asyncio.gather(first, second)
    assert [private_admin.getbit("trackist_y_u", i) for i in (1, 2)] == [1, 1]


async def test_a_cancelled_caller_does_not_cancel_the_flush(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url) as bm:
        with proxy.holding():
            cancelled = asyncio.create_task(bm.mark_unique("c", 1))
            other = asyncio.create_task(bm.mark_unique("c", 2))
            await proxy.held.wait()  # one flush holds both calls
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
        await other
        await bm.flush()
    assert [private_admin.getbit("trackist_c_u", i) for i in (1, 2)] == [1, 1]


async def test_flush_waits_for_everything_queued(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url) as bm:
        arrivals = Arrivals(50)

        async def producer(uid: int) -> None:
            arrivals.arrive()
            await bm.mark_unique("f", uid)

        tasks = [asyncio.create_task(producer(uid)) for uid in range(50)]
        await arrivals.wait()
        assert bm.pending_writes == 50
        await bm.flush()
        assert bm.pending_writes == 0
        assert all(private_admin.getbit("trackist_f_u", uid) for uid in range(50))
        await asyncio.gather(*tasks)


async def test_aclose_drains_then_refuses_writes(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    bm = Bitmapist(private_server.url)
    arrivals = Arrivals(100)

    async def producer(uid: int) -> None:
        arrivals.arrive()
        await bm.mark_event("drain", uid, NOW)

    tasks = [asyncio.create_task(producer(uid)) for uid in range(100)]
    await arrivals.wait()
    await bm.aclose()
    assert all(t.done() and t.exception() is None for t in tasks)
    assert private_admin.bitcount("trackist_drain_2026-11-28") == 100
    with pytest.raises(ClientClosedError):
        await bm.mark_event("drain", 1, NOW)
    with pytest.raises(ClientClosedError):
        async with bm.batch():
            await bm.mark_unique("drain", 1)


async def test_batch_returns_at_once_and_sends_one_flush(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url) as bm:
        await bm.ping()
        async with bm.batch():
            for uid in range(20):
                await bm.mark_event("req", uid, NOW, track_hourly=True)
            assert bm.pending_writes == 0  # nothing queued yet: the block buffers
            assert proxy.setbit_turns() == []
        assert private_admin.bitcount("trackist_req_2026-11-28-13") == 20
    turns = proxy.setbit_turns()
    assert len(turns) == 1
    assert len(turns[0].setbits()) == 80


async def test_batch_covers_its_context_not_other_tasks(bm: Bitmapist, admin: redis.Redis) -> None:
    go = asyncio.Event()

    async def outsider() -> None:  # started before the block: its own context
        await go.wait()
        await bm.mark_unique("outside", 2)

    other = asyncio.create_task(outsider())
    async with bm.batch():
        await bm.mark_unique("inside", 1)

        async def child() -> None:  # started inside the block: inherits it
            await bm.mark_unique("child", 3)

        await asyncio.create_task(child())
        go.set()
        await other  # stored before it returned, though the block is open
        assert admin.getbit("trackist_outside_u", 2) == 1
        assert admin.getbit("trackist_inside_u", 1) == 0
        assert admin.getbit("trackist_child_u", 3) == 0
    assert admin.getbit("trackist_inside_u", 1) == 1
    assert admin.getbit("trackist_child_u", 3) == 1


async def test_a_task_outliving_the_block_writes_directly(
    bm: Bitmapist, admin: redis.Redis
) -> None:
    started = asyncio.Event()
    go_on = asyncio.Event()

    async def late() -> None:
        started.set()
        await go_on.wait()
        await bm.mark_unique("late", 3)  # the block it inherited is closed by now

    async with bm.batch():
        task = asyncio.create_task(late())
        await started.wait()
    go_on.set()
    await task
    assert admin.getbit("trackist_late_u", 3) == 1


async def test_batch_exit_raises_when_the_send_fails(proxy: RedisProxy) -> None:
    options = WriteOptions(retry_deadline=0.3, backoff_initial=0.01, backoff_max=0.05)
    async with Bitmapist(proxy.url, write_options=options) as bm:
        proxy.refuse = True
        with pytest.raises(WriteFailedError) as info:
            async with bm.batch():
                await bm.mark_unique("lost", 1)
        assert caused_by(info.value, StorageUnavailableError, redis.ConnectionError)
        proxy.refuse = False


async def test_a_burst_is_cut_into_flushes_of_max_flush_writes(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    options = WriteOptions(max_flush=30, max_in_flight=3)
    async with Bitmapist(proxy.url, write_options=options) as bm:
        await asyncio.gather(*(bm.mark_event("burst", uid, NOW) for uid in range(100)))
    turns = proxy.setbit_turns()
    assert sum(len(t.setbits()) for t in turns) == 300
    assert max(len(t.setbits()) for t in turns) <= 30
    assert len({t.connection for t in turns}) == 3  # three flushes were on the wire at once
    assert private_admin.bitcount("trackist_burst_2026-11-28") == 100


async def test_marks_of_one_event_now_travel_as_one_group_each_bit_once(
    bm: Bitmapist, command_log: CommandLog
) -> None:
    uids = [random.Random(5).randrange(10_000) for _ in range(300)]  # with repeats
    start = command_log.mark()
    await asyncio.gather(*(bm.mark_event("grouped", uid) for uid in uids))
    await bm.UniqueEvents("end").contains(0)
    sent = command_log.wait_for(["GETBIT", "trackist_end_u", "0"], start)
    setbits = [c for c in sent if c[0] == "SETBIT"]
    # Three keys (a run may cross midnight: then more), each distinct id once per key.
    per_key: dict[str, list[int]] = {}
    for _, key, offset, value in setbits:
        assert value == "1"
        per_key.setdefault(key, []).append(int(offset))
    assert all(len(offsets) == len(set(offsets)) for offsets in per_key.values())
    day_keys = [k for k in per_key if k.count("-") == 2]
    assert sorted(set().union(*(per_key[k] for k in day_keys))) == sorted(set(uids))
    union = bm.BitOpOr(*(bm.DayEvents.from_date("grouped", _day(k)) for k in day_keys))
    assert await union.ids() == sorted(set(uids))


def _day(key: str) -> datetime:
    return datetime.strptime(key.rsplit("_", 1)[1], "%Y-%m-%d").replace(tzinfo=timezone.utc)


async def test_a_group_spelled_out_mid_flush_keeps_call_order(
    bm: Bitmapist, command_log: CommandLog, admin: redis.Redis
) -> None:
    start = command_log.mark()
    await asyncio.gather(
        bm.mark_event("spell", 1, NOW),
        bm.mark_event("spell", 2, NOW),
        bm.unmark_event("spell", 1, NOW),  # another value: the group is spelled out
        bm.mark_unique("spell", 3),  # another shape
        bm.mark_event("spell", 2, NOW),
    )
    await bm.UniqueEvents("end").contains(0)
    sent = command_log.wait_for(["GETBIT", "trackist_end_u", "0"], start)
    assert sorted(c for c in sent if c[0] == "SETBIT") == sorted(
        [
            *(["SETBIT", f"trackist_spell_{s}", "1", "0"] for s in ("2026-11", "W2026-48")),
            ["SETBIT", "trackist_spell_2026-11-28", "1", "0"],
            *(["SETBIT", f"trackist_spell_{s}", "2", "1"] for s in ("2026-11", "W2026-48")),
            ["SETBIT", "trackist_spell_2026-11-28", "2", "1"],
            ["SETBIT", "trackist_spell_u", "3", "1"],
        ]
    )
    assert [admin.getbit("trackist_spell_2026-11-28", i) for i in range(3)] == [0, 0, 1]


async def test_a_refused_key_fails_every_mark_of_its_group(
    bm: Bitmapist, admin: redis.Redis
) -> None:
    admin.rpush("trackist_half_W2026-48", "not a bitmap")  # the week key: WRONGTYPE
    results = await asyncio.gather(
        *(bm.mark_event("half", uid, NOW) for uid in (1, 2, 3)), return_exceptions=True
    )
    for failure in results:
        assert isinstance(failure, WriteFailedError)
        assert caused_by(failure, StorageError, redis.ResponseError)
        assert "WRONGTYPE" in str(failure.__cause__)
        assert "trackist_half_W2026-48" in str(failure)
    assert len({id(f) for f in results}) == 3  # one exception per caller
    # The other keys' writes were stored (SETBIT is per command): never a false success.
    assert await bm.DayEvents("half", 2026, 11, 28).ids() == [1, 2, 3]
    assert await bm.MonthEvents("half", 2026, 11).ids() == [1, 2, 3]


async def test_callers_are_answered_as_their_replies_arrive(
    proxy: RedisProxy, private_admin: redis.Redis, internals: str
) -> None:
    """With the fast reply reader, the first callers of a flush are answered while the rest of
    its replies are held; with the fallback (redis-py's read_response), all once they are in."""
    uids = list(range(100))
    async with Bitmapist(proxy.url) as bm:
        await bm.ping()
        proxy.hold_replies_after(10 * 3 * 4)  # ":0\r\n" for each key of the first 10 marks
        try:
            tasks = [asyncio.create_task(bm.mark_event("progress", uid, NOW)) for uid in uids]
            await asyncio.wait_for(proxy.replies_held.wait(), 10)  # the flush went out as one
            if internals == "fast":
                await asyncio.wait_for(asyncio.gather(*tasks[:10]), 10)
                assert not any(task.done() for task in tasks[10:])
            day = bm.DayEvents("progress", NOW.year, NOW.month, NOW.day).redis_key
            assert [private_admin.getbit(day, uid) for uid in uids[:10]] == [1] * 10
        finally:
            proxy.release_replies()
        await asyncio.gather(*tasks)
        assert await bm.DayEvents("progress", 2026, 11, 28).ids() == uids


async def test_a_mark_from_another_threads_loop_is_refused_while_writes_are_pending(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    """The hot path checks that the client's loop is the one running (by its thread): a mark
    made from another thread's loop, while a flush holds marks of that event, is refused
    instead of joining a flush of the other loop."""
    async with Bitmapist(proxy.url, write_options=WriteOptions(max_in_flight=1)) as bm:
        await bm.ping()
        with proxy.holding():
            calls = await held_and_open(bm, "loops")

            def other_loop() -> None:
                asyncio.run(bm.mark_event("loops", 3))

            with pytest.raises(EventLoopConflictError, match="another event loop"):
                await asyncio.to_thread(other_loop)
        await asyncio.gather(*calls)
    day = bm.DayEvents("loops").redis_key
    assert [private_admin.getbit(day, uid) for uid in (1, 2, 3)] == [1, 1, 0]


async def test_a_group_flush_packs_offsets_of_every_length(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    """Marks of one event travel as bare offsets, packed by their number of digits."""
    uids = sorted({0, *(10**k - 1 for k in range(1, 10)), *(10**k for k in range(10))})
    async with Bitmapist(private_server.url) as bm:
        await asyncio.gather(*(bm.mark_event("digits", uid) for uid in uids))
    day = bm.DayEvents("digits").redis_key
    try:
        assert [private_admin.getbit(day, uid) for uid in uids] == [1] * len(uids)
        assert private_admin.bitcount(day) == len(uids)
    finally:
        private_admin.delete(*private_admin.keys("trackist_digits_*"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
async def test_a_child_forked_inside_the_loop_writes_through_its_own_loop(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    """The parent's loop is running when it forks, and a stopped copy of it in the child still
    carries the forking thread's id: the child's marks must go through the child's loop."""
    async with Bitmapist(private_server.url) as bm:
        await bm.mark_event("forked", 1)  # bound to this loop, a connection kept
        # Its caller is answered from the replies, before the flush's task ends (on Python
        # 3.10 a few loop turns later): forked before, the child would see a flush in flight.
        await bm.flush()

        async def child_marks() -> None:
            # (Not closed here: redis-py's asyncio pool would disconnect the parent's
            # connections, made on the parent's loop.)
            await bm.mark_event("forked", 2)

        pid = os.fork()
        if pid == 0:  # the child: report through the exit status, never return to pytest
            status = 1
            try:
                asyncio.run(asyncio.wait_for(child_marks(), 20))
                status = 0
            finally:
                os._exit(status)
        _, status = await asyncio.to_thread(os.waitpid, pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        await bm.mark_event("forked", 3)  # the parent's client still works
    day = bm.DayEvents("forked").redis_key
    assert [private_admin.getbit(day, uid) for uid in (1, 2, 3)] == [1, 1, 1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
async def test_a_child_forked_with_writes_pending_is_refused_not_stranded(
    proxy: RedisProxy,
) -> None:
    """Forked while the parent's marks are on their way, the child cannot write with that
    client: it is told so, rather than queueing onto the parent's loop, which never runs."""
    async with Bitmapist(proxy.url, write_options=WriteOptions(max_in_flight=1)) as bm:
        await bm.ping()
        with proxy.holding():
            calls = await held_and_open(bm, "forked")
            pid = os.fork()
            if pid == 0:  # the child: report through the exit status
                status = 1
                try:
                    asyncio.run(asyncio.wait_for(bm.mark_event("forked", 3), 20))
                except EventLoopConflictError:
                    status = 0
                except BaseException:
                    status = 2
                finally:
                    os._exit(status)
            _, status = await asyncio.to_thread(os.waitpid, pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        await asyncio.gather(*calls)


async def test_an_offset_longer_than_any_id_is_refused_by_the_server(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    """``write_marks`` is public: an offset of more digits than ids have still reaches Redis,
    whose refusal names it, and the other offsets are stored."""
    async with Bitmapist(private_server.url) as bm:
        storage = bm.storage
        assert isinstance(storage, RedisStorage)
        with pytest.raises(RejectedWritesError) as caught:
            await storage.write_marks(("long_offsets",), [5, 10**12, 7], 1)
    assert list(caught.value.rejected) == [1]
    assert [private_admin.getbit("long_offsets", uid) for uid in (5, 7)] == [1, 1]
