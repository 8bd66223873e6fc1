"""Deadlines of query calls: the async timer and its sync twin (outside the generated path).

The async client bounds each query call with a loop timer (:class:`AsyncDeadline`): a server
that accepts and never answers, or a stopped one, ends the call with a timeout instead of a
hang, whatever the connection's ``socket_timeout``. The sync client cannot interrupt a
blocking call from outside, so :class:`Deadline` sets the connection's socket timeouts instead
(each blocking read and connect is bounded by the deadline).
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ("DEFAULT_TIMEOUT", "AsyncDeadline", "Deadline", "check_timeout")

_T = TypeVar("_T")

#: Seconds a query call may take when the client is given no ``timeout``.
DEFAULT_TIMEOUT = 10.0


def check_timeout(timeout: object) -> float | None:
    """*timeout* if it is a positive number of seconds or ``None`` (no deadline).

    :raises TypeError: not a number.
    :raises ValueError: zero, negative, NaN or infinite.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    return float(timeout)


class AsyncDeadline:
    """Runs a coroutine under a deadline (an edge-triggered loop timer: the code below may
    still await its own clean-up, such as discarding a half-read connection)."""

    @staticmethod
    def pool_options(timeout: float | None) -> dict[str, Any]:
        """redis-py options that bound what the deadline cannot see: the connect of a pooled
        connection outside any query (a mark's flush has its ``attempt_timeout``)."""
        return {} if timeout is None else {"socket_connect_timeout": timeout}

    @staticmethod
    async def run(timeout: float | None, call: Coroutine[Any, Any, _T]) -> _T:
        """Await *call*; after *timeout* seconds cancel it and raise :class:`TimeoutError`."""
        if timeout is None:
            return await call
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(timeout):
                return await call
        return await asyncio.wait_for(call, timeout)  # pragma: no cover - Python 3.10


class Deadline:
    """The sync twin: a blocking call cannot be interrupted from outside, so the deadline is
    set as the connection's socket timeouts (:meth:`pool_options`), and :meth:`run` returns
    the value computed by the call."""

    @staticmethod
    def pool_options(timeout: float | None) -> dict[str, Any]:
        if timeout is None:
            return {}
        return {"socket_connect_timeout": timeout, "socket_timeout": timeout}

    @staticmethod
    def run(timeout: float | None, call: _T) -> _T:
        return call
