"""bitmapist's *systems*: named Redis clients, and the sync client that serves each one.

A system is what bitmapist 3.x calls the ``system`` argument: a name registered in
:data:`SYSTEMS` (by :func:`setup_redis` or by assignment), a ``redis.Redis`` client, or a
``redis`` pipeline that the caller executes. :data:`SYSTEMS` holds plain redis-py clients, as in
bitmapist, so code that stores its own client there keeps working.

Every Redis client gets one :class:`bitmapist_async.sync.Bitmapist` (cached on the client
object itself, so it lives exactly as long as the client); compat functions do their I/O
through it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from typing import Any, TypeAlias

import redis
from redis.client import Pipeline

from .._core.errors import StorageError
from .._core.options import ClientOptions
from .._core.write_options import WriteOptions
from .._sync.client import Bitmapist
from .._sync.redis_storage import redis_connect_kwargs

__all__ = (
    "BITOP_TTL",
    "OPTIONS",
    "SYSTEMS",
    "System",
    "bitmapist_for",
    "get_redis",
    "reader_for",
    "register_bitop_keys",
    "runtime_bitop_keys",
    "setup_redis",
    "wall_clock",
)

#: A system name, a ``redis.Redis`` client, or a ``redis`` pipeline (a ``Redis`` subclass).
System: TypeAlias = "str | redis.Redis"

#: Seconds a compat bit-operation result lives. bitmapist keeps its results until they are
#: deleted; here they also expire after a day, so keys that nobody deletes do not pile up.
BITOP_TTL = 24 * 60 * 60

#: Key naming and the calendar of bitmapist 3.x: prefix ``trackist_``, UTC.
OPTIONS = ClientOptions(key_prefix="trackist_", bitop_ttl=BITOP_TTL)

_CACHE_ATTRIBUTE = "_bitmapist_async_compat"

#: Named Redis clients. ``"default"`` is ``localhost:6379``, like bitmapist's; creating the
#: client does no I/O (redis-py connects on the first command).
SYSTEMS: dict[str, redis.Redis] = {
    "default": redis.Redis(host="localhost", port=6379, **redis_connect_kwargs())
}


def _handshake_options(kw: dict[str, Any]) -> dict[str, Any]:
    """Connection options that keep redis-py inside bitmapist-server's grammar (RESP2, no
    ``CLIENT SETINFO``), minus the ones the caller chose."""
    options = redis_connect_kwargs()
    if {"lib_name", "lib_version", "driver_info"} & kw.keys():
        for name in ("lib_name", "lib_version", "driver_info"):
            options.pop(name, None)
    return options


def setup_redis(name: str, host: str, port: int, **kw: Any) -> None:
    """Register the system *name*: a Redis client for *host*:*port*.

    :param name: the system name, used as ``system=name`` elsewhere.
    :param host: host of the Redis server.
    :param port: its port.
    :param kw: passed to the client class; ``redis_client=`` picks that class (default
        ``redis.Redis``). For ``redis.Redis`` and its subclasses, RESP2 and no
        ``CLIENT SETINFO`` are the defaults, so that bitmapist-server understands the handshake.
    :raises TypeError: *name* or *host* is not a ``str``, or *port* not an ``int`` (before any
        I/O; a string of digits is taken, as redis-py takes it).
    :raises ValueError: an empty *host*, or a *port* outside 1 to 65535 (before any I/O).

    Example::

        setup_redis("stats", "localhost", 6380)
        mark_event("active", 1, system="stats")
    """
    if not isinstance(name, str):
        raise TypeError(f"system name must be a str, got {name!r} ({type(name).__name__})")
    if not kw.get("unix_socket_path"):  # a socket file needs neither
        port = _check_port(port)
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, got {host!r} ({type(host).__name__})")
        if not host:
            raise ValueError("host must not be empty, got ''")
    factory = kw.pop("redis_client", redis.Redis)
    if isinstance(factory, type) and issubclass(factory, redis.Redis):
        kw = {**_handshake_options(kw), **kw}
    SYSTEMS[name] = factory(host=host, port=port, **kw)


def _check_port(port: object) -> int:
    if isinstance(port, str) and port.isascii() and port.isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, got {port!r} ({type(port).__name__})")
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be from 1 to 65535, got {port!r}")
    return port


def get_redis(system: System = "default") -> redis.Redis:
    """The redis-py client (or pipeline) behind *system*.

    :param system: a name registered in :data:`SYSTEMS`, or a client or pipeline (returned as
        is).
    :raises KeyError: no system of that name.
    :raises TypeError: *system* is neither a name nor a ``redis.Redis``.
    """
    if isinstance(system, redis.Redis):
        return system
    if isinstance(system, str):
        try:
            return SYSTEMS[system]
        except KeyError:
            known = ", ".join(sorted(map(repr, SYSTEMS))) or "none"
            raise KeyError(
                f"unknown bitmapist system {system!r}: register it with "
                f"setup_redis({system!r}, host, port) first (known: {known})"
            ) from None
    raise TypeError(
        f"system must be a name, a redis.Redis client or a pipeline, got {system!r} "
        f"({type(system).__name__})"
    )


#: bitmapist raised ``redis.ConnectionError`` at once when Redis was down; the compat clients
#: retry a failed write for a second (a reconnect), not the sync client's default 30 s.
WRITE_OPTIONS = WriteOptions(retry_deadline=1.0, attempt_timeout=5.0)


@contextlib.contextmanager
def legacy_errors() -> Iterator[None]:
    """Raise what redis-py raised (``redis.ConnectionError``, ...), as bitmapist did, instead
    of :class:`~bitmapist_async.WriteFailedError` or another
    :class:`~bitmapist_async.StorageError` wrapping it."""
    try:
        yield
    except StorageError as exc:
        cause: BaseException | None = exc.__cause__
        while isinstance(cause, StorageError):
            cause = cause.__cause__
        if isinstance(cause, Exception):
            raise cause from exc
        raise


def bitmapist_for(system: System) -> Bitmapist:
    """The sync client doing *system*'s I/O (one per Redis client, created without I/O).

    For a pipeline it is a client on the pipeline's connection pool: it runs at once, beside
    the commands queued on the pipeline.
    """
    client = get_redis(system)
    pipeline = isinstance(client, Pipeline)
    owner: object = client.connection_pool if pipeline else client
    cached = getattr(owner, _CACHE_ATTRIBUTE, None)
    if isinstance(cached, Bitmapist):
        return cached
    target = redis.Redis(connection_pool=client.connection_pool) if pipeline else client
    bm = Bitmapist(
        target, key_prefix=OPTIONS.key_prefix, bitop_ttl=BITOP_TTL, write_options=WRITE_OPTIONS
    )
    with contextlib.suppress(AttributeError):  # a client class with __slots__: no cache
        setattr(owner, _CACHE_ATTRIBUTE, bm)
    return bm


def reader_for(system: System, what: str) -> Bitmapist:
    """:func:`bitmapist_for` for an operation that reads, which a pipeline cannot answer.

    :raises TypeError: *system* is a pipeline.
    """
    if isinstance(get_redis(system), Pipeline):
        raise TypeError(
            f"{what} reads from Redis and a pipeline cannot answer it: pass a system name or "
            "a redis.Redis client (a pipeline system only queues writes)"
        )
    return bitmapist_for(system)


def wall_clock(dt: object | None) -> datetime:
    """*dt* (default: now in UTC) as the naive wall-clock time whose fields name the keys.

    Like bitmapist, an aware datetime keeps its own year/month/day/hour (it is not converted to
    UTC); a ``date`` means its midnight.

    :raises TypeError: *dt* is neither a ``datetime`` nor a ``date``.
    """
    if dt is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if isinstance(dt, datetime):
        return dt.replace(tzinfo=None)
    if isinstance(dt, date):
        return datetime(dt.year, dt.month, dt.day)
    raise TypeError(f"expected a datetime or date, got {dt!r} ({type(dt).__name__})")


# -- keys created by bit operations in this thread (bitmapist's runtime registry) ----------

_LOCAL = threading.local()


def runtime_bitop_keys() -> dict[System, set[str]]:
    """Bit-operation keys this thread created, per system."""
    keys: dict[System, set[str]] | None = getattr(_LOCAL, "bitop_keys", None)
    if keys is None:
        keys = {}
        _LOCAL.bitop_keys = keys
    return keys


def register_bitop_keys(system: System, keys: Iterable[str]) -> None:
    runtime_bitop_keys().setdefault(system, set()).update(keys)
