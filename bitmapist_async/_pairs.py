"""Named async/sync pairs for the code generator (the httpcore ``_synchronization`` idea).

``scripts/unasync.py`` rewrites ``AsyncFoo`` to ``Foo``; this module holds the few places where
the two sides really differ, written by hand once each.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ("AsyncCheckpoint", "AsyncExpressionMixin", "Checkpoint", "ExpressionMixin")


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
