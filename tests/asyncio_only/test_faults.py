"""Faults under load: connections cut mid-flush, a server killed and restarted on the same
port, retries running out. Each call either returned and its bits are set, or raised."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

import pytest
import redis

from bitmapist_async import Bitmapist, StorageUnavailableError, WriteFailedError, WriteOptions

from ..causes import caused_by
from .conftest import flush_on_the_wire, start_private_server
from .proxy import RedisProxy

NOW = datetime(2026, 11, 28, 13, 45, tzinfo=timezone.utc)

#: Each test runs with the fast paths and again with their public-API fallbacks.
pytestmark = pytest.mark.usefixtures("internals")
KEYS = ("2026-11", "W2026-48", "2026-11-28")
FAST_RETRIES = WriteOptions(retry_deadline=30, backoff_initial=0.01, backoff_max=0.1)


async def _load(
    bm: Bitmapist,
    producers: int,
    per: int,
    on_stored: Callable[[int], Awaitable[None]] | None = None,
) -> tuple[list[int], dict[int, BaseException]]:
    """Every producer marks its own ids; return the ids stored and the failures."""
    stored: list[int] = []
    failed: dict[int, BaseException] = {}

    async def producer(index: int) -> None:
        for i in range(per):
            uid = index * per + i
            try:
                await bm.mark_event("load", uid, NOW)
            except WriteFailedError as exc:
                failed[uid] = exc
            else:
                stored.append(uid)
                if on_stored is not None:
                    await on_stored(len(stored))

    await asyncio.gather(*(producer(i) for i in range(producers)))
    return stored, failed


def _bits(admin: redis.Redis, key: str) -> set[int]:
    data = admin.get(key)
    assert isinstance(data, bytes)
    return {i * 8 + b for i, byte in enumerate(data) for b in range(8) if byte & (0x80 >> b)}


async def test_connections_cut_mid_flush_under_load(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    producers, per, every = 50, 200, 2_500
    async with Bitmapist(proxy.url, write_options=FAST_RETRIES) as bm:
        proxy.cut_after(every)

        async def rearm(count: int) -> None:
            if proxy.cuts < 8 and proxy._cut_at is None:
                proxy.cut_after(every)

        stored, failed = await _load(bm, producers, per, rearm)
    assert proxy.cuts >= 3
    assert failed == {}  # the proxy takes new connections: every flush got through in the end
    assert sorted(stored) == list(range(producers * per))
    for suffix in KEYS:
        assert _bits(private_admin, f"trackist_load_{suffix}") == set(stored)


async def test_server_killed_and_restarted_on_the_same_port_during_load() -> None:
    # Acknowledged writes must survive the kill itself: the AOF is written before replies.
    server = start_private_server("--appendonly", "yes", "--appendfsync", "always")
    producers, per = 40, 150
    try:
        restarted = asyncio.Event()
        stored_at_kill = 0

        async def kill_once(count: int) -> None:
            nonlocal stored_at_kill
            if count == producers * per // 4 and not stored_at_kill:
                stored_at_kill = count
                server.kill()
                await asyncio.to_thread(server.start)
                restarted.set()

        async with Bitmapist(server.url, write_options=FAST_RETRIES) as bm:
            stored, failed = await _load(bm, producers, per, kill_once)
        assert restarted.is_set()
        assert len(stored) > stored_at_kill  # marks went on after the restart
        assert all(isinstance(e, WriteFailedError) for e in failed.values())
        assert len(stored) + len(failed) == producers * per
        admin = redis.Redis(port=server.port, protocol=2)
        try:
            for suffix in KEYS:
                missing = set(stored) - _bits(admin, f"trackist_load_{suffix}")
                assert missing == set(), f"acknowledged but not stored: {sorted(missing)[:10]}"
        finally:
            admin.close()
    finally:
        server.stop()


async def test_retries_run_out_then_the_client_recovers(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    options = WriteOptions(retry_deadline=0.3, backoff_initial=0.01, backoff_max=0.05)
    async with Bitmapist(proxy.url, write_options=options) as bm:
        await bm.mark_unique("r", 0)
        proxy.refuse = True
        proxy.cut_all()
        results = await asyncio.gather(
            *(bm.mark_unique("r", uid) for uid in range(1, 11)), return_exceptions=True
        )
        for result in results:
            assert isinstance(result, WriteFailedError)
            assert caused_by(result, StorageUnavailableError, redis.ConnectionError)
            assert "attempt" in str(result)
        proxy.refuse = False
        await bm.mark_unique("r", 20)
    assert private_admin.getbit("trackist_r_u", 0) == 1
    assert private_admin.getbit("trackist_r_u", 20) == 1


async def test_callers_answered_before_a_cut_keep_their_answer(
    proxy: RedisProxy,
    private_admin: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    internals: str,
) -> None:
    if internals == "fallback":
        pytest.skip("early answers come from the fast reply reader (connection_streams)")
    options = WriteOptions(retry_deadline=0.3, backoff_initial=0.01, backoff_max=0.05)
    async with Bitmapist(proxy.url, write_options=options) as bm:
        await bm.ping()
        proxy.hold_replies_after(10 * 3 * 4)  # the replies to the first 10 marks
        tasks = [asyncio.create_task(bm.mark_event("cut", uid)) for uid in range(100)]
        await asyncio.wait_for(asyncio.gather(*tasks[:10]), 10)
        proxy.refuse = True
        proxy.cut_all()
        proxy.release_replies()
        results = await asyncio.gather(*tasks[10:], return_exceptions=True)
        assert all(isinstance(r, WriteFailedError) for r in results)
        proxy.refuse = False
    assert all(task.result() is None for task in tasks[:10])
    assert "cancelled call" not in caplog.text  # answered calls are not "unheard"


async def test_a_retry_does_not_write_again_what_callers_were_told_is_stored(
    proxy: RedisProxy,
    private_admin: redis.Redis,
    internals: str,
) -> None:
    if internals == "fallback":
        pytest.skip("early answers come from the fast reply reader (connection_streams)")
    async with Bitmapist(proxy.url, write_options=FAST_RETRIES) as bm:
        await bm.ping()
        day = bm.options.mark_keys("again", None, None, None)[2]
        proxy.hold_replies_after(10 * 3 * 4)  # the replies to the first 10 marks
        tasks = [asyncio.create_task(bm.mark_event("again", uid)) for uid in range(100)]
        await asyncio.wait_for(asyncio.gather(*tasks[:10]), 10)
        private_admin.delete(day)  # what a caller may do once its mark is acknowledged
        proxy.cut_all()  # the flush fails before the other replies: it is retried
        proxy.release_replies()
        await asyncio.wait_for(asyncio.gather(*tasks[10:]), 30)
    assert [private_admin.getbit(day, uid) for uid in range(100)] == [0] * 10 + [1] * 90


async def test_a_stalled_server_counts_as_a_timeout(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    options = WriteOptions(
        attempt_timeout=0.2, retry_deadline=1.0, backoff_initial=0.01, backoff_max=0.05
    )
    async with Bitmapist(proxy.url, write_options=options) as bm:
        with proxy.holding():
            results = await asyncio.gather(bm.mark_unique("t", 1), return_exceptions=True)
        assert isinstance(results[0], WriteFailedError)
        assert isinstance(results[0].__cause__, TimeoutError)
        await bm.mark_unique("t", 2)  # the stalled connections were dropped, not reused
    assert private_admin.getbit("trackist_t_u", 2) == 1


async def test_a_stalled_flush_of_marks_times_out_and_its_task_is_not_left_cancelling(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    """Each attempt of a flush of marks is timed; a timed-out attempt leaves its task with no
    cancel request pending (the retry is not cancelled in turn), and the callers hear of the
    timeout."""
    options = WriteOptions(
        attempt_timeout=0.2, retry_deadline=0.5, backoff_initial=0.01, backoff_max=0.05
    )
    async with Bitmapist(proxy.url, write_options=options) as bm:
        await bm.ping()
        with proxy.holding():
            calls = [asyncio.ensure_future(bm.mark_event("stall", uid)) for uid in range(3)]
            flush = await flush_on_the_wire(bm)
            assert flush.task is not None
            results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, WriteFailedError) for r in results)
        assert all(isinstance(r.__cause__, TimeoutError) for r in results)  # type: ignore[union-attr]
        assert flush.task.done()
        assert not flush.task.cancelled()
        if sys.version_info >= (3, 11):
            assert flush.task.cancelling() == 0
        await bm.mark_event("stall", 9)
    day = bm.DayEvents("stall").redis_key
    assert private_admin.getbit(day, 9) == 1


async def test_a_flush_cancelled_from_outside_is_not_taken_for_a_timeout(
    proxy: RedisProxy,
) -> None:
    """Even cancelled before it starts, a flush tells its callers (and ``aclose`` does not
    wait for it); the cancellation is not reported as a timeout."""
    async with Bitmapist(proxy.url) as bm:
        await bm.ping()
        with proxy.holding():
            call = asyncio.ensure_future(bm.mark_event("cancelled", 1))
            flush = await flush_on_the_wire(bm)
            assert flush.task is not None
            flush.task.cancel()  # before its first step, as it happens
            with pytest.raises(WriteFailedError) as caught:
                await asyncio.wait_for(call, 10)
            assert isinstance(caught.value.__cause__, asyncio.CancelledError)
            assert flush.task.cancelled()
        assert bm.pending_writes == 0
        await bm.mark_event("cancelled", 2)  # the batcher goes on
