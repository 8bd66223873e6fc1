"""How a flush's packed commands reach the socket (``_pairs.AsyncPackedSender``)."""

from __future__ import annotations

import asyncio
import select
import socket
import struct
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import redis.asyncio as redis_api
from redis.asyncio.connection import Connection

from bitmapist_async import Bitmapist
from bitmapist_async._async.redis_storage import redis_connect_kwargs
from bitmapist_async._pairs import AsyncPackedSender

from ..servers import RedisProcess


async def test_flushes_write_to_the_stream_not_through_redis_py_send(
    private_server: RedisProcess, private_admin: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a ``socket_timeout``, redis-py's send wraps every write in ``asyncio.wait_for``
    (a task and a timer per flush): flushes write to the connection's stream instead."""
    sent: list[Any] = []
    original = Connection.send_packed_command

    async def spy(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", spy)
    tasks = 0

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any) -> asyncio.Task[Any]:
        nonlocal tasks
        tasks += 1
        return asyncio.Task(coro, loop=loop)

    async with Bitmapist(private_server.url + "?socket_timeout=5") as bm:
        await bm.ping()
        sent.clear()  # the handshake and the ping go through redis-py
        loop = asyncio.get_running_loop()
        loop.set_task_factory(counting_factory)
        try:
            for uid in range(50):  # one flush each
                await bm.mark_event("sender", uid)
        finally:
            loop.set_task_factory(None)
    assert sent == []
    assert tasks <= 2 * 50  # the flush's own task and at most one idle check, no wait_for
    assert private_admin.bitcount(bm.DayEvents("sender").redis_key) == 50


async def test_a_connection_without_a_stream_goes_through_redis_py(
    private_server: RedisProcess,
) -> None:
    connection = Connection(port=private_server.port, **redis_connect_kwargs())
    assert getattr(connection, "_writer", None) is None
    try:
        await AsyncPackedSender.send(connection, b"*3\r\n$3\r\nSET\r\n$6\r\nsender\r\n$2\r\nok\r\n")
        assert await connection.read_response() in (b"OK", "OK")
    finally:
        await connection.disconnect()
    client = redis_api.Redis(port=private_server.port, protocol=2)
    try:
        assert await client.get("sender") == b"ok"
    finally:
        await client.aclose()


async def test_a_write_to_a_reset_connection_raises_redis_connection_error() -> None:
    """The OS error of a broken socket becomes the ``redis.ConnectionError`` redis-py raises
    (the storage retries those)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        _reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        peer, _ = listener.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()  # a reset, not a FIN
        # Until the reset has arrived (the event loop has not run: the stream knows nothing).
        readable, _, _ = select.select([writer.get_extra_info("socket")], [], [], 10)
        assert readable
        try:
            with pytest.raises(redis.ConnectionError, match="writing to socket") as caught:
                await AsyncPackedSender.send(SimpleNamespace(_writer=writer), b"PING\r\n" * 8)
            assert isinstance(caught.value.__cause__, OSError)
        finally:
            writer.close()
