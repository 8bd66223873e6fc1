"""Run coroutines from synchronous test code (hypothesis state machines).

``AsyncPortal`` runs an event loop in a helper thread; ``Portal`` (what the generated sync tests
use) just calls the function. ``scripts/unasync.py`` maps one name onto the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

__all__ = ("AsyncPortal", "Portal")

T = TypeVar("T")


class AsyncPortal:
    def __init__(self) -> None:
        self._cm: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._cm.__enter__()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self._portal.call(fn, *args)

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


class Portal:
    def call(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)

    def close(self) -> None:
        pass
