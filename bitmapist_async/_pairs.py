"""Named async/sync pairs for the code generator (the httpcore ``_synchronization`` idea).

``scripts/unasync.py`` rewrites ``AsyncFoo`` to ``Foo``; this module holds the few places where
the two sides really differ, written by hand once each.

- ``AsyncWriter`` / ``Writer``: where marks go. The async client has a coalescing batcher with
  background flush tasks (:mod:`bitmapist_async._batcher`); the sync client writes each call
  directly (:mod:`bitmapist_async._direct`). Both offer ``write``, ``submit``, ``batch``,
  ``flush``, ``aclose``/``close`` and ``pending``.
- ``AsyncWriteBatch`` / ``WriteBatch``: what ``bm.batch()`` returns.
- ``AsyncBlockingRunner`` / ``BlockingRunner``: run a blocking call (SQLite) off the event loop
  in a worker thread, or directly.
- ``AsyncIntReplies`` / ``IntReplies``: a fast read of a batch of ``SETBIT`` replies from a
  redis-py asyncio connection; the sync side has none (it reads reply by reply).
- ``AsyncKeptConnections`` / ``KeptConnections``: the async storage keeps the connections its
  flushes used between flushes; the sync side takes and returns them through the pool.
- ``AsyncPackedSender`` / ``PackedSender``: put a flush's packed commands on the wire; the async
  side writes to the connection's stream itself, under the flush's own timeout.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from redis.exceptions import ConnectionError as RedisConnectionError

from ._batcher import AsyncWriteBatch as AsyncWriteBatch
from ._batcher import WriteBatcher as AsyncWriter
from ._direct import DirectWriter as Writer
from ._direct import WriteBatch as WriteBatch
from ._internals import FAST, probe_connection
from ._loops import AsyncLoopGuard as AsyncLoopGuard
from ._loops import LoopGuard as LoopGuard
from ._loops import conflict, forget_connections, renew_locks

__all__ = (
    "AsyncBlockingRunner",
    "AsyncCheckpoint",
    "AsyncExpressionMixin",
    "AsyncIntReplies",
    "AsyncKeptConnections",
    "AsyncLoopGuard",
    "AsyncPackedSender",
    "AsyncWriteBatch",
    "AsyncWriter",
    "BlockingRunner",
    "Checkpoint",
    "ExpressionMixin",
    "IntReplies",
    "KeptConnections",
    "LoopGuard",
    "PackedSender",
    "WriteBatch",
    "Writer",
)

_T = TypeVar("_T")


class _SyncQueryable(Protocol):
    def count(self) -> int: ...

    def contains(self, uid: int) -> bool: ...


class AsyncExpressionMixin:
    """Async expressions have no I/O in dunders: use ``await ev.count()`` and
    ``await ev.contains(uid)``."""

    __slots__ = ()


class ExpressionMixin:
    """What sync users expect of a bitmapist event: ``len(ev)`` and ``uid in ev``."""

    __slots__ = ()

    def __len__(self: _SyncQueryable) -> int:
        return self.count()

    def __contains__(self: _SyncQueryable, uid: int) -> bool:
        return self.contains(uid)


class AsyncBlockingRunner:
    """Runs a blocking call (SQLite, CPU-heavy bitmap work) in a worker thread, so the event
    loop keeps serving other tasks. A cancelled caller still waits for the call to finish, so a
    write is either wholly done or not started."""

    __slots__ = ()

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await anyio.to_thread.run_sync(fn, *args)


class BlockingRunner:
    """The sync twin of :class:`AsyncBlockingRunner`: calls *fn* directly."""

    __slots__ = ()

    def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return fn(*args)


class AsyncCheckpoint:
    """A point in a long CPU-bound loop (bulk import) where other tasks may run and a
    cancellation can arrive."""

    @staticmethod
    async def now() -> None:
        await asyncio.sleep(0)


class Checkpoint:
    """Sync code has no other tasks to let run."""

    @staticmethod
    def now() -> None:
        return None


class AsyncPackedSender:
    """Sends a flush's packed commands on a redis-py asyncio connection."""

    @staticmethod
    async def send(connection: Any, data: bytes) -> None:
        """Write *data* to *connection*'s stream, then wait only if the transport's buffer is
        over its high-water mark.

        redis-py's ``send_packed_command`` wraps the write in ``asyncio.wait_for`` when the
        connection has a ``socket_timeout``: a task, a timer and several turns of the event
        loop per flush, under a timeout the batcher already sets on the whole attempt. A
        connection without a stream (not connected yet) still goes through redis-py, as does
        every connection without ``connection_streams`` (:mod:`bitmapist_async._internals`).

        :raises redis.ConnectionError: the connection broke (as redis-py reports it).
        """
        writer = connection._writer if probe_connection(connection) else None
        if writer is None or writer.is_closing():
            await connection.send_packed_command([data], check_health=False)
            return
        try:
            writer.write(data)
            await writer.drain()
        except OSError as exc:
            raise RedisConnectionError(f"Error while writing to socket: {exc!r}") from exc


class PackedSender:
    """The sync twin of :class:`AsyncPackedSender`: redis-py's own ``send_packed_command``."""

    @staticmethod
    def send(connection: Any, data: bytes) -> None:
        connection.send_packed_command([data], check_health=False)


class AsyncIntReplies:
    """Reads a flush's ``SETBIT`` replies as they arrive, while they are all ``:0`` or ``:1``."""

    @staticmethod
    async def read(
        parser: Any, count: int, progress: Callable[[int], None] | None = None, width: int = 1
    ) -> int:
        """Read *count* replies from the socket behind redis-py's hiredis *parser*.

        While the replies are ``:0``/``:1`` (4 bytes each) they are checked here, a chunk at a
        time as the socket delivers them, and *progress* (if given) is told how many leading
        groups of *width* replies have arrived whole (a mark's keys, say), each time that
        number grows. Returns how many leading replies were consumed that way: *count*, or
        fewer when another kind of reply came. Its bytes and what followed them in that chunk
        are then fed to the parser's reader, where the caller reads the remaining replies as
        usual. Returns 0 for a parser of unknown shape and for a reader that holds data, and
        without ``connection_streams`` (:mod:`bitmapist_async._internals`).

        Each reply is at least 4 bytes (``:0\r\n``): no more than ``4 * count`` bytes are read.

        :raises OSError: the connection broke (``ConnectionResetError`` for a closed one).
        """
        if not FAST.connection_streams:
            return 0
        stream = getattr(parser, "_stream", None)  # (another parser class may lack them)
        reader = getattr(parser, "_reader", None)
        if not isinstance(stream, asyncio.StreamReader) or reader is None or reader.has_data():
            return 0
        done = 0  # replies checked
        left = b""  # the start of a reply that has not arrived whole
        groups = 0  # reported to progress
        while done < count:
            chunk = await stream.read(4 * (count - done) - len(left))
            if not chunk:
                raise ConnectionResetError(
                    f"connection closed after {4 * done + len(left)} of {4 * count} reply bytes"
                )
            data = left + chunk if left else chunk
            n = len(data) >> 2
            whole = _bit_replies(data, n)
            done += whole
            if progress is not None and done // width > groups:
                groups = done // width
                progress(groups)
            if whole < n:  # another kind of reply: the reader takes it from its first byte
                reader.feed(data[4 * whole :])
                break
            left = data[4 * n :]
        return done


def _bit_replies(data: bytes, n: int) -> int:
    """How many of the first *n* 4-byte replies in *data* are ``:0``/``:1``, from the start."""
    end = 4 * n
    if (
        data[0:end:4] == b":" * n
        and data[2:end:4] == b"\r" * n
        and data[3:end:4] == b"\n" * n
        and not data[1:end:4].translate(None, b"01")
    ):
        return n
    for i in range(n):
        if data[4 * i : 4 * i + 4] not in (b":0\r\n", b":1\r\n"):
            return i
    return n  # pragma: no cover - the checks above found a difference


class IntReplies:
    """The sync twin of :class:`AsyncIntReplies`: no fast path."""

    @staticmethod
    def read(
        parser: Any, count: int, progress: Callable[[int], None] | None = None, width: int = 1
    ) -> int:
        return 0


class AsyncKeptConnections:
    """Connections of a redis-py asyncio pool that flushes keep between flushes, and the event
    loop that pool's connections belong to.

    Taking a connection from redis-py's pool and giving it back costs an ``asyncio.Lock``, a
    liveness check and connection-count bookkeeping each way: tens of microseconds per flush,
    which a busy batcher pays hundreds of times a second. A flush that went well keeps its
    connection here instead (up to :attr:`LIMIT`), still counted as in use by the pool; the
    next flush takes it back if it is still open and clean, and the others go back to the pool
    (as does any connection after an error). :meth:`release_all` hands them all back: the
    storage calls it when the batcher goes idle and when it closes, so kept connections hold
    pool slots only while writes are on their way.

    Given the *pool*, it also watches every connection taken from it (its ``get_connection``
    and ``release`` are wrapped) to move the pool to another event loop while nothing is on
    the wire, or refuse with :class:`~bitmapist_async.EventLoopConflictError` (see
    :mod:`bitmapist_async._loops`). Connections are kept only where ``connection_streams``
    (:mod:`bitmapist_async._internals`) can tell a clean one; else each goes back at once.
    """

    __slots__ = ("_connections", "_forks", "_loop", "_out")

    #: Connections kept at most (a batcher has ``max_in_flight`` flushes on the wire).
    LIMIT = 16

    def __init__(self, pool: Any = None) -> None:
        self._connections: list[Any] = []
        self._forks = _forks  # (no getpid() system call per flush)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._out: set[Any] = set()  # taken from the pool and not given back (kept included)
        if pool is not None:
            _watch(pool, self)

    def bind(self, pool: Any) -> None:
        """Bind *pool*'s connections to the running loop: if they belong to another loop and
        none is in use, drop them (see :mod:`bitmapist_async._loops`).

        :raises EventLoopConflictError: another loop has a connection of *pool* in use.
        """
        running = asyncio.get_running_loop()
        old = self._loop
        if running is old:
            return
        if old is not None:
            if self._busy():
                raise conflict("the client's Redis connection pool")
            self._move(pool, old)
        self._loop = running

    def _busy(self) -> bool:
        """Whether a connection is in use (other than those kept here)."""
        kept = self._connections
        return any(connection not in kept for connection in self._out)

    def _move(self, pool: Any, old: asyncio.AbstractEventLoop) -> None:
        connections = self._connections
        self._connections = []
        if FAST.pool_books:
            connections = [*pool._available_connections, *pool._in_use_connections]
        if self._forks != _forks:
            # A forked child: the sockets, and the epoll set of the parent's loop, are shared
            # with the parent; closing them here would cut the parent's connections. They are
            # kept, untouched (so their finalizers never run in this process either).
            _INHERITED.extend(connections)
            self._forks = _forks
        else:
            forget_connections(connections, old)
        self._out.clear()
        pool.reset()  # (the fallback: a socket not closed above is closed when collected)
        if FAST.pool_books:
            renew_locks(pool, "_lock", "_condition")

    async def take(self, pool: Any, args: tuple[str, ...]) -> Any:
        """A kept connection that is still usable, else one from *pool*."""
        self.bind(pool)
        connections = self._connections
        if self._forks != _forks:  # a forked child: the parent's sockets are not ours
            connections.clear()
            self._forks = _forks
        while connections:
            connection = connections.pop()
            if _usable(connection):
                return connection
            await self.discard(pool, connection)
        return await pool.get_connection(*args)

    async def give_back(self, pool: Any, connection: Any) -> None:
        """Keep *connection* after a flush that went well (or return it to *pool*)."""
        if (
            len(self._connections) < self.LIMIT
            and self._forks == _forks
            and FAST.connection_streams
        ):
            self._connections.append(connection)
        else:
            await pool.release(connection)

    @staticmethod
    async def discard(pool: Any, connection: Any) -> None:
        """Disconnect *connection* (after an error, or found closed) and return it to *pool*,
        even when disconnecting fails or is interrupted."""
        try:
            await connection.disconnect(nowait=True)
        finally:
            await pool.release(connection)

    async def release_all(self, pool: Any) -> None:
        """Bind *pool* to the running loop, then return every kept connection to it (before
        the pool closes, or when the batcher is idle)."""
        if not self._connections and self._busy() and asyncio.get_running_loop() is not self._loop:
            return  # nothing to give back, and another loop's calls hold the pool
        self.bind(pool)
        connections, self._connections = self._connections, []
        if self._forks == _forks:
            for connection in connections:
                await pool.release(connection)


def _watch(pool: Any, kept: AsyncKeptConnections) -> None:
    """Route *pool*'s ``get_connection`` and ``release`` through *kept*'s loop binding (for
    redis-py's own commands and pipelines as for the fast paths)."""
    get_connection, release = pool.get_connection, pool.release

    @functools.wraps(get_connection)
    async def watched_get_connection(*args: Any, **kwargs: Any) -> Any:
        kept.bind(pool)
        connection = await get_connection(*args, **kwargs)
        kept._out.add(connection)
        probe_connection(connection)
        return connection

    @functools.wraps(release)
    async def watched_release(connection: Any) -> None:
        kept._out.discard(connection)
        await release(connection)

    pool.get_connection = watched_get_connection
    pool.release = watched_release


#: Forks this process is removed from its first ancestor (bumped in each forked child).
_forks = 0

#: A forked child's inherited connections, kept alive and never closed (see ``_move``).
_INHERITED: list[Any] = []


def _forked() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forked)


def _usable(connection: Any) -> bool:
    """Whether a kept asyncio connection is open, with nothing unread (as redis-py's pool
    checks before it hands a connection out). Connections are kept only with
    ``connection_streams``, whose attributes this reads."""
    should_reconnect = getattr(connection, "should_reconnect", None)
    if should_reconnect is not None and should_reconnect():  # redis-py's maintenance events
        return False
    if getattr(connection, "_re_auth_token", None) is not None:  # the pool re-authenticates
        return False  # (redis-py >= 5.1; older ones have no re-authentication to wait for)
    writer = connection._writer
    parser = connection._parser
    stream = getattr(parser, "_stream", None)  # (per connection: the parser class is an option)
    reader = getattr(parser, "_reader", None)  # (hiredis's; redis-py's own parsers have none)
    return (
        writer is not None
        and not writer.is_closing()
        and isinstance(stream, asyncio.StreamReader)
        and not stream.at_eof()
        and not stream._buffer  # type: ignore[attr-defined]  # bytes nobody asked for
        and reader is not None
        and not reader.has_data()
    )


class KeptConnections:
    """The sync twin of :class:`AsyncKeptConnections`: every flush takes its connection from
    the pool and gives it back (a sync client may be shared by threads)."""

    __slots__ = ()

    def __init__(self, pool: Any = None) -> None:
        pass

    def bind(self, pool: Any) -> None:
        return None

    def take(self, pool: Any, args: tuple[str, ...]) -> Any:
        return pool.get_connection(*args)

    def give_back(self, pool: Any, connection: Any) -> None:
        pool.release(connection)

    @staticmethod
    def discard(pool: Any, connection: Any) -> None:
        try:
            connection.disconnect(nowait=True)
        finally:
            pool.release(connection)

    def release_all(self, pool: Any) -> None:
        return None
