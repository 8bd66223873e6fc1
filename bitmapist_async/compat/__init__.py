"""A drop-in for bitmapist 3.x's module-level API, on :mod:`bitmapist_async.sync`.

Change the import line and keep the program::

    import bitmapist_async.compat as bitmapist
    from bitmapist_async.compat import mark_event, MonthEvents, BitOpAnd

    bitmapist.setup_redis("default", "localhost", 6379)
    mark_event("active", 123)
    assert 123 in MonthEvents("active")
    print(len(BitOpAnd(MonthEvents("active"), MonthEvents("active").prev())))

Same keys as bitmapist (``trackist_`` prefix, UTC calendar, ``trackist_bitop_AND_k1-k2``), same
signatures, same eager bit operations. Only commands bitmapist-server understands are sent: no
``MULTI``/``EXEC`` (bitmapist's marks used a transaction), unless you pass your own pipeline.
Differences, all deliberate, are listed in the migration guide (``docs/migration.md``): exact
``a & ~b``, bit-operation results that expire after a day, ``TypeError``/``ValueError`` for bad
input before any I/O, RESP2 connections without ``CLIENT SETINFO``.
"""

from __future__ import annotations

from datetime import date as _date
from datetime import datetime as _datetime

from redis.client import Pipeline as _Pipeline

from ._events import BitOpAnd as BitOpAnd
from ._events import BitOperation as BitOperation
from ._events import BitOpNot as BitOpNot
from ._events import BitOpOr as BitOpOr
from ._events import BitOpXor as BitOpXor
from ._events import DayEvents as DayEvents
from ._events import GenericPeriodEvents as GenericPeriodEvents
from ._events import HourEvents as HourEvents
from ._events import MonthEvents as MonthEvents
from ._events import UniqueEvents as UniqueEvents
from ._events import WeekEvents as WeekEvents
from ._events import YearEvents as YearEvents
from ._systems import OPTIONS as _OPTIONS
from ._systems import SYSTEMS as SYSTEMS
from ._systems import System as _System
from ._systems import bitmapist_for as _bitmapist_for
from ._systems import get_redis as get_redis
from ._systems import legacy_errors as _legacy_errors
from ._systems import reader_for as _reader_for
from ._systems import runtime_bitop_keys as _runtime_bitop_keys
from ._systems import setup_redis as setup_redis
from ._systems import wall_clock as _wall_clock

__all__ = (
    "SYSTEMS",
    "TRACK_HOURLY",
    "TRACK_UNIQUE",
    "BitOpAnd",
    "BitOpNot",
    "BitOpOr",
    "BitOpXor",
    "BitOperation",
    "DayEvents",
    "GenericPeriodEvents",
    "HourEvents",
    "MonthEvents",
    "UniqueEvents",
    "WeekEvents",
    "YearEvents",
    "delete_all_events",
    "delete_runtime_bitop_keys",
    "delete_temporary_bitop_keys",
    "get_event_names",
    "get_redis",
    "mark_event",
    "mark_unique",
    "setup_redis",
    "unmark_event",
    "unmark_unique",
)

#: Mark hour bitmaps too when ``track_hourly`` is not given (read at every call).
TRACK_HOURLY = False

#: Mark the unique (dateless) bitmap too when ``track_unique`` is not given (read at every call).
TRACK_UNIQUE = False


# -- marking -----------------------------------------------------------------------------------


def mark_event(
    event_name: str,
    uuid: int,
    system: _System = "default",
    now: _datetime | _date | None = None,
    track_hourly: bool | None = None,
    track_unique: bool | None = None,
    use_pipeline: bool = True,
) -> None:
    """Mark *uuid* in the month, ISO week and day bitmaps of *event_name* (and the hour and
    unique ones when tracked), in one round trip.

    :param event_name: the event, for example ``"active"``.
    :param uuid: the id, in ``[0, 2**32)``.
    :param system: a system name, a ``redis.Redis`` client, or a pipeline.
    :param now: when it happened (default: now, UTC). The key is named after the datetime's own
        fields, like bitmapist (an aware datetime is not converted to UTC).
    :param track_hourly: also mark the hour bitmap (default: :data:`TRACK_HOURLY`).
    :param track_unique: also mark the unique bitmap (default: :data:`TRACK_UNIQUE`).
    :param use_pipeline: with a pipeline *system*, ``False`` queues the ``SETBIT``s on it for
        you to execute; ``True`` sends them at once on its connection pool (bitmapist's
        behaviour). With any other system the bits always go in one pipelined round trip.
    :raises TypeError: a name, id or datetime of the wrong type (before any I/O).
    :raises ValueError: an empty name or an id outside ``[0, 2**32)`` (before any I/O).

    Example::

        mark_event("active", 1)
        mark_event("tasks:completed", 252, track_hourly=True)
    """
    _mark(event_name, uuid, system, now, track_hourly, track_unique, use_pipeline, 1)


def unmark_event(
    event_name: str,
    uuid: int,
    system: _System = "default",
    now: _datetime | _date | None = None,
    track_hourly: bool | None = None,
    track_unique: bool | None = None,
    use_pipeline: bool = True,
) -> None:
    """Clear the bits :func:`mark_event` would set (same parameters)."""
    _mark(event_name, uuid, system, now, track_hourly, track_unique, use_pipeline, 0)


def _mark(
    event_name: str,
    uuid: int,
    system: _System,
    now: _datetime | _date | None,
    track_hourly: bool | None,
    track_unique: bool | None,
    use_pipeline: bool,
    value: int,
) -> None:
    hourly = bool(TRACK_HOURLY if track_hourly is None else track_hourly)
    unique = bool(TRACK_UNIQUE if track_unique is None else track_unique)
    when = _wall_clock(now)
    client = get_redis(system)
    if isinstance(client, _Pipeline) and not use_pipeline:
        writes = _OPTIONS.event_writes(
            event_name, uuid, when, value, track_hourly=hourly, track_unique=unique
        )
        for key, offset, bit in writes:
            client.setbit(key, offset, bit)
        return
    bm = _bitmapist_for(client)
    with _legacy_errors():
        if value:
            bm.mark_event(event_name, uuid, when, track_hourly=hourly, track_unique=unique)
        else:
            bm.unmark_event(event_name, uuid, when, track_hourly=hourly, track_unique=unique)


def mark_unique(event_name: str, uuid: int, system: _System = "default") -> None:
    """Flag *uuid* in the dateless bitmap of *event_name* (read with ``UniqueEvents``).

    With a pipeline *system* the ``SETBIT`` is queued on it, as in bitmapist.

    Example::

        mark_unique("premium", 42)
    """
    _mark_unique(event_name, uuid, system, 1)


def unmark_unique(event_name: str, uuid: int, system: _System = "default") -> None:
    """Clear *uuid* in the dateless bitmap of *event_name*."""
    _mark_unique(event_name, uuid, system, 0)


def _mark_unique(event_name: str, uuid: int, system: _System, value: int) -> None:
    client = get_redis(system)
    if isinstance(client, _Pipeline):
        for key, offset, bit in _OPTIONS.unique_writes(event_name, uuid, value):
            client.setbit(key, offset, bit)
    elif value:
        with _legacy_errors():
            _bitmapist_for(client).mark_unique(event_name, uuid)
    else:
        with _legacy_errors():
            _bitmapist_for(client).unmark_unique(event_name, uuid)


# -- keyspace ----------------------------------------------------------------------------------


def get_event_names(system: _System = "default", prefix: str = "", batch: int = 10000) -> list[str]:
    """Names of every event stored, whose name starts with *prefix* (sorted; bit-operation
    results left out).

    :param batch: accepted for compatibility (bitmapist's ``SCAN`` count hint); the scan uses
        the library's own page size, which gives the same names.
    :raises TypeError: *prefix* is not a ``str`` or *batch* not an ``int`` (before any I/O).
    :raises ValueError: *batch* is below 1 (before any I/O).
    """
    if isinstance(batch, bool) or not isinstance(batch, int):
        raise TypeError(f"batch must be an int, got {batch!r}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch!r}")
    return _reader_for(system, "get_event_names()").get_event_names(prefix)


def delete_all_events(system: _System = "default") -> None:
    """Delete every ``trackist_*`` key of *system* (events and bit-operation results)."""
    _reader_for(system, "delete_all_events()").delete_all_events()


def delete_temporary_bitop_keys(system: _System = "default") -> None:
    """Delete every ``trackist_bitop_*`` key of *system*, whoever created it."""
    _reader_for(system, "delete_temporary_bitop_keys()").delete_temporary_bitop_keys()


def delete_runtime_bitop_keys() -> None:
    """Delete every bit-operation result this thread has created (bit operations and
    ``YearEvents``), on every system, and forget them."""
    registry = _runtime_bitop_keys()
    for system, keys in registry.items():
        if keys:
            _bitmapist_for(system).storage.delete(sorted(keys))
    registry.clear()
