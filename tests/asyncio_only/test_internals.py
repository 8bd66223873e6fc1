"""The probes of ``bitmapist_async._internals``: on the versions installed every fast path
is found (so the "fast" runs of the parametrized tests do take it), each is probed once, and
when forced off each fast path steps aside for its public-API fallback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis

from bitmapist_async import Bitmapist
from bitmapist_async._async.redis_storage import RedisStorage
from bitmapist_async._internals import FAST, forced_fallbacks, probe_connection
from bitmapist_async._pairs import AsyncIntReplies, AsyncPackedSender
from bitmapist_async._wakeups import batches_wakeups

from ..servers import RedisProcess


async def _use(bm: Bitmapist) -> None:
    await bm.mark_event("probe", 1)
    assert await bm.DayEvents("probe").count() == 1


async def test_every_fast_path_is_found_on_the_installed_versions(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    with forced_fallbacks(False):  # (a fresh record: probed again by this test's use)
        for name in ("loop_thread_id", "future_callbacks", "connection_streams"):
            setattr(FAST, name, None)
        async with Bitmapist(private_server.url) as bm:
            await _use(bm)
            assert bm._writer._base_loop is asyncio.get_running_loop()
            assert bm._writer._batched_wakeups
        assert FAST.loop_thread_id
        assert FAST.future_callbacks
        assert FAST.connection_streams
        assert FAST.hiredis_replies
        assert FAST.pool_books


async def test_a_probe_runs_once(private_server: RedisProcess, private_admin: redis.Redis) -> None:
    """Once recorded, a result stands: a connection of another shape is not probed again."""
    with forced_fallbacks(False):
        FAST.connection_streams = None
        assert probe_connection(object()) is False  # no _writer: the fallback from now on
        async with Bitmapist(private_server.url) as bm:
            await _use(bm)  # a real connection changes nothing
            assert not bm.storage._kept._connections  # type: ignore[attr-defined]
        assert FAST.connection_streams is False


async def test_forced_fallbacks_take_the_public_paths(
    private_server: RedisProcess, private_admin: redis.Redis
) -> None:
    with forced_fallbacks():
        assert not batches_wakeups(asyncio.get_running_loop())
        async with Bitmapist(private_server.url) as bm:
            storage = bm.storage
            assert isinstance(storage, RedisStorage)
            pool: Any = storage.client.connection_pool
            sent: list[int] = []
            connection = await pool.get_connection()
            try:
                send = connection.send_packed_command

                async def counting(*args: Any, **kwargs: Any) -> None:
                    sent.append(1)
                    await send(*args, **kwargs)

                connection.send_packed_command = counting
                await AsyncPackedSender.send(connection, b"*1\r\n$4\r\nPING\r\n")
                assert sent == [1]  # redis-py's send, not the stream
                assert await AsyncIntReplies.read(connection._parser, 1) == 0
                assert await connection.read_response() == b"PONG"
            finally:
                await pool.release(connection)
            await _use(bm)
            assert bm._writer._base_loop is None  # asks asyncio for the running loop
            assert not bm._writer._batched_wakeups
            assert not storage._kept._connections  # nothing kept between flushes
            assert await bm.DayEvents("probe").ids() == [1]


@pytest.mark.parametrize("forced", [False, True])
def test_forcing_restores_what_was_found(forced: bool) -> None:
    before = FAST.snapshot()
    with forced_fallbacks(forced):
        assert FAST.forced is forced
        if forced:
            assert not any(v for k, v in FAST.snapshot().items() if k != "forced")
    assert FAST.snapshot() == before
