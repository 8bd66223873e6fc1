"""Connections the async Redis storage keeps between flushes (``_pairs.AsyncKeptConnections``)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
import redis
import redis.asyncio as redis_api

from bitmapist_async import Bitmapist, WriteFailedError, WriteOptions
from bitmapist_async._async.redis_storage import RedisStorage, redis_connect_kwargs
from bitmapist_async._internals import FAST, forced_fallbacks
from bitmapist_async._pairs import AsyncKeptConnections

from ..servers import RedisProcess
from .proxy import RedisProxy

#: Any failed attempt is final: the first retry would start after the deadline.
NO_RETRY = WriteOptions(retry_deadline=0.01, backoff_initial=1.0)


async def _closed(connection: Any) -> None:
    """Until the event loop has seen the server close *connection*."""
    stream = connection._parser._stream
    while not stream.at_eof():  # noqa: ASYNC110 - an EOF sets no event we could wait on
        await asyncio.sleep(0)


def _kept(bm: Bitmapist) -> list[Any]:
    storage = bm.storage
    assert isinstance(storage, RedisStorage)
    return storage._kept._connections


async def test_busy_flushes_reuse_kept_connections_and_idle_gives_them_back(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    async with Bitmapist(proxy.url) as bm:
        storage = bm.storage
        assert isinstance(storage, RedisStorage)
        pool: Any = storage.client.connection_pool
        taken = 0
        get_connection = pool.get_connection

        async def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal taken
            taken += 1
            return await get_connection(*args, **kwargs)

        pool.get_connection = counting

        async def producer(index: int) -> None:
            for uid in range(index, 2_000, 20):
                await bm.mark_event("kept", uid)

        await asyncio.gather(*(producer(i) for i in range(20)))
        flushes = len(proxy.setbit_turns())
        assert flushes >= 20
        assert taken <= 8  # not one per flush: kept between them (max_in_flight is 4)
        await asyncio.wait_for(_released(pool), 10)  # idle: back to the pool
        keys = bm.options.mark_keys("kept", None, None, None)
    assert [private_admin.bitcount(key) for key in keys] == [2_000] * 3


async def _released(pool: Any) -> None:
    """Until *pool* has no connection in use."""
    while pool._in_use_connections:  # noqa: ASYNC110 - the pool sets no event for it
        await asyncio.sleep(0)


async def test_a_kept_connection_the_server_closed_is_replaced_before_sending(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    async with Bitmapist(private_server.url, write_options=NO_RETRY) as bm:
        await bm.mark_unique("closed", 1)
        (kept,) = _kept(bm)
        socket = kept._writer
        assert private_admin.client_kill_filter(_type="normal", skipme=True) >= 1
        await asyncio.wait_for(_closed(kept), 10)
        await bm.mark_unique("closed", 2)  # a failed attempt would raise (no retries)
        assert len(_kept(bm)) == 1
        assert _kept(bm)[0]._writer is not socket  # the pool connected it again
    assert [private_admin.getbit("trackist_closed_u", i) for i in (1, 2)] == [1, 1]


async def test_closing_returns_kept_connections_to_a_callers_pool(
    private_server: RedisProcess,
) -> None:
    client = redis_api.Redis.from_url(private_server.url, **redis_connect_kwargs())
    pool: Any = client.connection_pool
    try:
        async with Bitmapist(client) as bm:
            tasks = [asyncio.create_task(bm.mark_unique("owned", uid)) for uid in range(50)]
            await asyncio.sleep(0)  # the marks are queued; leaving the block drains them
        assert all(task.done() for task in tasks)
        assert not pool._in_use_connections
        assert await client.getbit("trackist_owned_u", 49) == 1  # the client still works
    finally:
        await client.aclose()


async def test_a_connection_that_failed_goes_back_to_the_pool(proxy: RedisProxy) -> None:
    options = WriteOptions(retry_deadline=30, backoff_initial=0.01, backoff_max=0.1)
    async with Bitmapist(proxy.url, write_options=options) as bm:
        await bm.mark_unique("failed", 1)
        (old,) = _kept(bm)
        socket = old._writer
        proxy.cut_after(1)  # the next flush dies half sent, on the kept connection
        await bm.mark_unique("failed", 2)  # retried on a new connection
        storage = bm.storage
        assert isinstance(storage, RedisStorage)
        pool: Any = storage.client.connection_pool
        assert len(_kept(bm)) == 1
        assert _kept(bm)[0]._writer is not socket  # disconnected, then connected again
        assert len(pool._in_use_connections) == 1  # the kept one: nothing leaked
        assert proxy.cuts == 1


async def test_a_refused_write_keeps_its_clean_connection(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    private_admin.rpush("trackist_list_u", "x")
    async with Bitmapist(private_server.url) as bm:
        await bm.mark_unique("fine", 1)
        (kept,) = _kept(bm)
        with pytest.raises(WriteFailedError, match="WRONGTYPE"):
            await bm.mark_unique("list", 1)
        assert _kept(bm) == [kept]  # every reply was read: nothing left on it
        await bm.mark_unique("fine", 2)
    assert private_admin.getbit("trackist_fine_u", 2) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
async def test_a_forked_child_does_not_use_the_parents_connections() -> None:
    with forced_fallbacks(False):
        FAST.connection_streams = True  # (connections are kept only with the fast path)
        await _forked_child_keeps_its_own()


async def _forked_child_keeps_its_own() -> None:
    kept = AsyncKeptConnections()
    parents = object()
    kept._connections.append(parents)

    class Pool:
        async def get_connection(self, *args: str) -> str:
            return "fresh"

        async def release(self, connection: object) -> None:
            raise AssertionError("a child must not release its parent's connection")

    def in_child() -> int:
        took = asyncio.run(kept.take(Pool(), ()))
        asyncio.run(kept.give_back(Pool(), "fresh"))
        return 0 if took == "fresh" and kept._connections == ["fresh"] else 1

    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return to pytest
        status = 1
        try:
            status = in_child()
        finally:
            os._exit(status)
    _, status = await asyncio.to_thread(os.waitpid, pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent still keeps its connections.
    await kept.give_back(Pool(), "mine")
    assert kept._connections == [parents, "mine"]
