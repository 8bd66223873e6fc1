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
    "AsyncWriteBatch",
    "AsyncWriter",
    "BlockingRunner",
    "Checkpoint",
    "ExpressionMixin",
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
