"""Moving a client's connections from one event loop to another (asyncio only).

A client made at module level outlives the loops that use it: ``asyncio.run`` once per step,
or pytest-asyncio's loop per test. asyncio objects belong to one loop: a socket's transport is
driven by the loop that opened it, and once that loop is closed every use of the transport
raises ``RuntimeError('Event loop is closed')``. So a storage records the loop its connections
belong to. When another loop calls while the storage is idle (nothing on the wire), the old
connections are dropped without running the old loop (their sockets are closed at once, or
handed to the old loop if it still runs in another thread) and the storage binds to the new
loop. When another loop calls while it is busy, that call gets
:class:`~bitmapist_async.EventLoopConflictError`.

Dropping reads internals (see :mod:`bitmapist_async._internals`): ``transport_close`` and
``connection_streams`` close and reset each connection, ``pool_books`` finds a pool's
connections and renews its lock; the fallbacks reset the pool's books with ``pool.reset()``
and leave the sockets to the garbage collector. ``tests/asyncio_only/test_loops.py`` runs
both.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ._core.errors import EventLoopConflictError
from ._internals import FAST, probe_connection, probe_transport

__all__ = (
    "AsyncLoopGuard",
    "LoopGuard",
    "close_now",
    "conflict",
    "forget_cluster",
    "forget_connections",
    "renew_locks",
)


def conflict(what: str) -> EventLoopConflictError:
    return EventLoopConflictError(
        f"{what} is in use by another event loop: a client serves one loop at a time (it "
        "moves to another loop once idle); use one client per loop or thread"
    )


def close_now(writer: asyncio.StreamWriter, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close *writer*'s transport, which belongs to *loop* (not the running one), without
    waiting for anything."""
    if loop is not None and loop.is_running() and not loop.is_closed():
        # It runs in another thread: only that thread may touch its transports (the writer
        # goes along, so that it is not collected before its transport closes).
        try:
            loop.call_soon_threadsafe(_abort, writer)
        except RuntimeError:  # closed meanwhile
            pass
        else:
            return
    transport: Any = writer.transport
    try:
        transport.abort()  # a stopped loop closes the socket when it runs again
        return
    except RuntimeError:  # the loop is closed: abort() could not schedule the close
        pass
    if probe_transport(transport):
        if transport._sock is not None:
            transport._call_connection_lost(None)  # what abort() would have scheduled
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # the server sees the end; the fd goes with GC
            sock.shutdown(socket.SHUT_RDWR)


def _abort(writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()


def _forget(connection: Any, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close *connection*'s socket of *loop* and leave it disconnected (redis-py reconnects it
    on its next use), without awaiting anything."""
    writer = connection._writer
    connection._writer = connection._reader = None
    connection._parser.on_disconnect()
    close_now(writer, loop)


def forget_connections(connections: Iterable[Any], loop: asyncio.AbstractEventLoop | None) -> None:
    """:func:`_forget` each of *connections* (which belong to *loop*)."""
    for connection in connections:
        if getattr(connection, "_writer", None) is not None and probe_connection(connection):
            _forget(connection, loop)


def renew_locks(owner: Any, *names: str) -> None:
    """Give *owner* a fresh, unlocked ``asyncio.Lock``/``Condition`` for each attribute of
    *names* (they bind to the first loop that waits on them)."""
    for name in names:
        lock = getattr(owner, name, None)
        if isinstance(lock, asyncio.Condition):
            setattr(owner, name, asyncio.Condition())
        elif isinstance(lock, asyncio.Lock) and not lock.locked():
            setattr(owner, name, asyncio.Lock())


def forget_cluster(client: Any, loop: asyncio.AbstractEventLoop) -> None:
    """:func:`forget_connections` for every node of a redis-py asyncio ``RedisCluster``
    (``cluster_books``: each ``ClusterNode`` keeps its connections in ``_connections``; the
    fallback leaves them to ``aclose()`` and the garbage collector)."""
    manager = getattr(client, "nodes_manager", None)
    for attr in ("nodes_cache", "startup_nodes"):
        for node in dict(getattr(manager, attr, None) or {}).values():
            connections = getattr(node, "_connections", None)
            if FAST.cluster_books is None:
                FAST.cluster_books = isinstance(connections, list)
            if FAST.cluster_books and isinstance(connections, list):
                forget_connections(connections, loop)
    if FAST.cluster_books:
        renew_locks(client, "_lock", "_usage_lock", "_initialize_lock")


class AsyncLoopGuard:
    """Counts one storage's operations in flight and the loop they run on.

    ``async with guard:`` around each operation: entering from another loop while none is in
    flight first awaits *on_move(old_loop)* and binds to the running loop; while some are in
    flight it raises :class:`~bitmapist_async.EventLoopConflictError`.
    """

    __slots__ = ("_in_flight", "_loop", "_on_move", "_what")

    def __init__(
        self,
        on_move: Callable[[asyncio.AbstractEventLoop], Awaitable[None]],
        what: str = "the client",
    ) -> None:
        self._on_move = on_move
        self._what = what
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight = 0

    def check(self) -> None:
        """:raises EventLoopConflictError: another loop has an operation in flight."""
        if self._in_flight and asyncio.get_running_loop() is not self._loop:
            raise conflict(self._what)

    async def __aenter__(self) -> None:
        running = asyncio.get_running_loop()
        if running is not self._loop:
            if self._in_flight:
                raise conflict(self._what)
            old, self._loop = self._loop, running
            if old is not None:
                self._in_flight += 1  # another loop arriving meanwhile waits its turn
                try:
                    await self._on_move(old)
                finally:
                    self._in_flight -= 1
        self._in_flight += 1

    async def __aexit__(self, *exc_info: object) -> None:
        self._in_flight -= 1


class LoopGuard:
    """The sync twin of :class:`AsyncLoopGuard`: a sync client has no loop."""

    __slots__ = ()

    def __init__(self, on_move: Callable[[Any], Any], what: str = "the client") -> None:
        pass

    def check(self) -> None:
        return None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None
