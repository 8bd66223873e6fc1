"""Which private attributes of asyncio and redis-py the fast paths may use, probed once.

The write and query fast paths read a few internals of their dependencies. Each is checked
here once (at import, or at first use where it needs a running loop or a connected socket),
the result is kept in :data:`FAST`, and the code that uses an internal asks :data:`FAST` and
takes the public-API path when the probe failed:

- ``loop_thread_id``: ``BaseEventLoop._thread_id`` is the running thread's id (the batcher's
  "is my loop the running one" test; fallback ``asyncio.get_running_loop()``).
- ``future_callbacks``: ``asyncio.Future._callbacks`` is a list (one loop callback wakes a
  whole flush's callers; fallback ``set_result`` on each future).
- ``connection_streams``: a connected redis-py asyncio connection has ``_writer`` (a
  ``StreamWriter``) and ``_parser`` with ``_stream`` (a ``StreamReader`` whose ``_buffer`` is
  a ``bytearray``) and, with the hiredis parser, ``_reader``; used to write packed commands,
  read ``SETBIT`` replies, check kept connections and reset a dead loop's connections (fallbacks:
  ``send_packed_command``, ``read_response``, no connections kept between flushes,
  ``disconnect()``).
- ``hiredis_replies``: redis-py's ``_AsyncHiredisParser.read_from_socket`` (replies read
  straight from the hiredis reader; fallback ``read_response``).
- ``pool_books``: ``ConnectionPool._available_connections``, ``_in_use_connections`` and,
  where present, ``_lock`` (close a dead loop's pooled sockets, renew the pool's lock;
  fallback ``pool.reset()``, which leaves the sockets to the garbage collector).
- ``cluster_books``: a ``RedisCluster`` node keeps its connections in ``_connections`` (reset
  a dead loop's; fallback: a client made from a URL is replaced, its sockets left to the
  garbage collector).
- ``transport_close``: a selector transport's ``_call_connection_lost`` (close a socket of a
  closed loop at once; fallback ``abort()`` and ``shutdown()``, the descriptor then closes when
  the transport is collected).

Tests run the same behaviour with every fast path and with :func:`forced_fallbacks`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = (
    "FAST",
    "FastPaths",
    "forced_fallbacks",
    "probe_connection",
    "probe_loop",
    "probe_transport",
)


class FastPaths:
    """Which internals were found (``None``: not probed yet, ``False``: use the fallback)."""

    __slots__ = (
        "cluster_books",
        "connection_streams",
        "forced",
        "future_callbacks",
        "hiredis_replies",
        "loop_thread_id",
        "pool_books",
        "transport_close",
    )

    def __init__(self) -> None:
        self.forced = False
        self.loop_thread_id: bool | None = None
        self.future_callbacks: bool | None = None
        self.connection_streams: bool | None = None
        self.transport_close: bool | None = None
        self.cluster_books: bool | None = None
        self.hiredis_replies = _probe_hiredis()
        self.pool_books = _probe_pool()

    def snapshot(self) -> dict[str, bool | None]:
        return {name: getattr(self, name) for name in self.__slots__}


def _probe_hiredis() -> bool:
    try:
        from redis._parsers.hiredis import _AsyncHiredisParser
    except ImportError:
        return False
    return callable(getattr(_AsyncHiredisParser, "read_from_socket", None))


def _probe_pool() -> bool:
    from redis.asyncio import ConnectionPool

    pool: Any = ConnectionPool()  # no I/O: connections are made on first use
    return isinstance(getattr(pool, "_available_connections", None), list) and hasattr(
        getattr(pool, "_in_use_connections", None), "__iter__"
    )  # (``_lock`` came with redis-py 5.1; renewed where present)


#: The one record of what was found (module-level so the hot paths read it cheaply).
FAST = FastPaths()


def probe_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Probe the loop internals on *loop*, running in this thread (once)."""
    if FAST.loop_thread_id is None:
        FAST.loop_thread_id = getattr(loop, "_thread_id", None) == threading.get_ident()
    if FAST.future_callbacks is None:
        probe = loop.create_future()
        try:
            FAST.future_callbacks = type(probe) is asyncio.Future and isinstance(
                getattr(probe, "_callbacks", None), (list, type(None))
            )
        finally:
            probe.cancel()


def probe_connection(connection: Any) -> bool:
    """Probe the stream internals on a connected redis-py *connection* (once); return the
    result."""
    found = FAST.connection_streams
    if found is None:
        parser = getattr(connection, "_parser", None)
        stream = getattr(parser, "_stream", None)
        found = FAST.connection_streams = (
            isinstance(getattr(connection, "_writer", None), asyncio.StreamWriter)
            and hasattr(connection, "_reader")
            and isinstance(stream, asyncio.StreamReader)
            and isinstance(getattr(stream, "_buffer", None), bytearray)
        )  # (the parser's hiredis ``_reader`` depends on the parser class: checked per use)
    return found


def probe_transport(transport: Any) -> bool:
    """Probe the transport internals on *transport* (once); return the result."""
    found = FAST.transport_close
    if found is None:
        found = FAST.transport_close = callable(
            getattr(transport, "_call_connection_lost", None)
        ) and hasattr(transport, "_sock")
    return found


@contextmanager
def forced_fallbacks(forced: bool = True) -> Iterator[FastPaths]:
    """Within the block every fast path reports absent (with *forced*), so the public-API
    fallbacks run; clients made inside the block keep what they saw. For tests."""
    saved = FAST.snapshot()
    if forced:
        for name in FastPaths.__slots__:
            setattr(FAST, name, False)
        FAST.forced = True
    try:
        yield FAST
    finally:
        for name, value in saved.items():
            setattr(FAST, name, value)
