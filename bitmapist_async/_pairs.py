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
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import anyio.to_thread

from ._batcher import AsyncWriteBatch as AsyncWriteBatch
from ._batcher import WriteBatcher as AsyncWriter
from ._direct import DirectWriter as Writer
from ._direct import WriteBatch as WriteBatch

__all__ = (
    "AsyncBlockingRunner",
    "AsyncCheckpoint",
    "AsyncExpressionMixin",
    "AsyncIntReplies",
    "AsyncWriteBatch",
    "AsyncWriter",
    "BlockingRunner",
    "Checkpoint",
    "ExpressionMixin",
    "IntReplies",
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


class AsyncIntReplies:
    """Reads a flush's ``SETBIT`` replies in one go when they are all ``:0`` or ``:1``."""

    @staticmethod
    async def read(parser: Any, count: int) -> bool:
        """Read *count* replies from the socket behind redis-py's hiredis *parser*.

        Each reply is at least 4 bytes (``:0\r\n``), so exactly ``4 * count`` bytes are read.
        Returns ``True`` when they are *count* integer replies 0 or 1 (all consumed); otherwise
        feeds the bytes to the parser's reader and returns ``False``, and the caller reads the
        replies one by one as usual.

        :raises OSError: the connection broke (``EOFError`` for a closed one).
        """
        stream = getattr(parser, "_stream", None)
        reader = getattr(parser, "_reader", None)
        if not isinstance(stream, asyncio.StreamReader) or reader is None or reader.has_data():
            return False
        try:
            data = await stream.readexactly(4 * count)
        except asyncio.IncompleteReadError as exc:
            raise ConnectionResetError(
                f"connection closed after {len(exc.partial)} of {4 * count} reply bytes"
            ) from exc
        if (
            data[0::4] == b":" * count
            and data[2::4] == b"\r" * count
            and data[3::4] == b"\n" * count
            and not data[1::4].translate(None, b"01")
        ):
            return True
        reader.feed(data)
        return False


class IntReplies:
    """The sync twin of :class:`AsyncIntReplies`: no fast path."""

    @staticmethod
    def read(parser: Any, count: int) -> bool:
        return False
