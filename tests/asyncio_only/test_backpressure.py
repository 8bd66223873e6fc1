"""Backpressure: with a tiny cap on pending writes, producers wait, memory stays bounded and
nothing is dropped."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
import redis

from bitmapist_async import Bitmapist, WriteOptions

from ..servers import RedisProcess
from .conftest import Arrivals
from .proxy import RedisProxy

NOW = datetime(2026, 11, 28, 13, 45, tzinfo=timezone.utc)

#: Each test runs with the fast paths and again with their public-API fallbacks.
pytestmark = pytest.mark.usefixtures("internals")
CAP = 9  # three marks of three SETBITs


async def test_producers_wait_at_the_cap_and_nothing_is_dropped(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    producers = 40
    async with Bitmapist(proxy.url, write_options=WriteOptions(max_pending=CAP)) as bm:
        high_water = 0
        done: list[int] = []
        arrivals = Arrivals(producers)

        async def producer(uid: int) -> None:
            nonlocal high_water
            arrivals.arrive()
            await bm.mark_event("bp", uid, NOW)
            high_water = max(high_water, bm.pending_writes)
            done.append(uid)

        with proxy.holding():
            tasks = [asyncio.create_task(producer(uid)) for uid in range(producers)]
            await arrivals.wait()
            await proxy.held.wait()  # the first flush is frozen on the wire
            # Every producer has called; only three marks were let in, the rest wait.
            assert bm.pending_writes == CAP
            assert bm._writer.waiting == producers - 3
            assert done == []
        await asyncio.gather(*tasks)
        assert proxy.setbit_turns()[0].setbits() == [
            (f"trackist_bp_{suffix}", uid, 1)
            for uid in range(3)
            for suffix in ("2026-11", "W2026-48", "2026-11-28")
        ]
        assert sorted(done) == list(range(producers))
        assert high_water <= CAP
        assert bm.pending_writes == 0
        # No flush ever carried more than the cap.
        assert max(len(t.setbits()) for t in proxy.setbit_turns()) <= CAP
    for suffix in ("2026-11", "W2026-48", "2026-11-28"):
        assert private_admin.bitcount(f"trackist_bp_{suffix}") == producers


async def test_waiting_producers_are_served_in_order(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    order: list[int] = []
    async with Bitmapist(private_server.url, write_options=WriteOptions(max_pending=3)) as bm:

        async def producer(uid: int) -> None:
            await bm.mark_event("fifo", uid, NOW)
            order.append(uid)

        await asyncio.gather(*(producer(uid) for uid in range(30)))
    assert order == list(range(30))  # one mark fits at a time: strictly first come, first served
    assert private_admin.bitcount("trackist_fifo_2026-11-28") == 30


async def test_a_cancelled_waiter_gives_its_place_back(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url, write_options=WriteOptions(max_pending=3)) as bm:
        arrivals = Arrivals(2)

        async def producer(uid: int) -> None:
            arrivals.arrive()
            await bm.mark_event("cw", uid, NOW)

        with proxy.holding():
            first = asyncio.create_task(bm.mark_event("cw", 1, NOW))
            await proxy.held.wait()
            waiting = asyncio.create_task(producer(2))
            later = asyncio.create_task(producer(3))
            await arrivals.wait()
            assert bm._writer.waiting == 2
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        await asyncio.gather(first, later)
        assert bm.pending_writes == 0
    assert private_admin.getbit("trackist_cw_2026-11-28", 1) == 1
    assert private_admin.getbit("trackist_cw_2026-11-28", 2) == 0
    assert private_admin.getbit("trackist_cw_2026-11-28", 3) == 1


async def test_aclose_drains_waiting_producers_too(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    bm = Bitmapist(proxy.url, write_options=WriteOptions(max_pending=CAP))
    arrivals = Arrivals(20)

    async def producer(uid: int) -> None:
        arrivals.arrive()
        await bm.mark_event("close", uid, NOW)

    with proxy.holding():
        tasks = [asyncio.create_task(producer(uid)) for uid in range(20)]
        await arrivals.wait()
        closing = asyncio.create_task(bm.aclose())
        await proxy.held.wait()
        assert not closing.done()
    await closing
    assert all(t.done() and t.exception() is None for t in tasks)
    assert private_admin.bitcount("trackist_close_2026-11-28") == 20


async def test_a_batch_larger_than_the_cap_still_goes_through(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    bm = Bitmapist(private_server.url, write_options=WriteOptions(max_pending=CAP))
    async with bm, bm.batch():
        for uid in range(10):
            await bm.mark_event("big", uid, NOW)
    assert private_admin.bitcount("trackist_big_2026-11-28") == 10
