"""bitmapist 3.x's event and bit-operation classes, on the library's I/O-free core.

Unlike the lazy expressions of :mod:`bitmapist_async`, these keep bitmapist's *eager* meaning:
building a bit operation (or a ``YearEvents``, the OR of twelve months) runs its ``BITOP`` at
once and stores the result at :attr:`redis_key`; queries then read that key, like bitmapist's.
Each query is one command; the system is looked up when it runs, as bitmapist does.

Deliberate differences: ``a & ~b`` is the exact set difference, result keys expire after
:data:`~bitmapist_async.compat._systems.BITOP_TTL`, and bad names, ids and periods raise
``TypeError``/``ValueError`` before any I/O.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timezone
from typing import Any, ClassVar, TypeVar

import redis
from redis.client import Pipeline

from .._core.decode import decode_ids
from .._core.periods import DayPeriod, HourPeriod, MonthPeriod, Period, WeekPeriod, YearPeriod
from .._core.plan import Leaf, Node, Op, Query, compile_plan, make_op
from .._core.validate import check_name, check_uid
from ._systems import (
    BITOP_TTL,
    OPTIONS,
    System,
    bitmapist_for,
    get_redis,
    reader_for,
    register_bitop_keys,
    runtime_bitop_keys,
    wall_clock,
)

__all__ = (
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
    "deferred_bitops",
)

_SCHEME = OPTIONS.scheme
_E = TypeVar("_E", bound="_Event")
_P = TypeVar("_P", bound="GenericPeriodEvents")
_OPS: dict[str, Op] = {"AND": "AND", "OR": "OR", "XOR": "XOR", "NOT": "NOT"}


#: While :func:`deferred_bitops` is active: the objects it had to store because they were read.
_DEFERRED: ContextVar[list[_Bitmap] | None] = ContextVar(
    "bitmapist_async_compat_deferred", default=None
)


@contextmanager
def deferred_bitops() -> Iterator[None]:
    """Inside the block, bit operations and ``YearEvents`` are built without running their
    ``BITOP``: their expression tree is all a caller such as ``compat.cohort`` needs, to compute
    it in its own batch. Reading one (``len``, ``in``, iteration) still works: it is stored
    first, as outside the block; what was stored that way is deleted when the block ends (and
    stored again if read later), so the block leaves no key behind.
    """
    stored: list[_Bitmap] = []
    token = _DEFERRED.set(stored)
    try:
        yield
    finally:
        _DEFERRED.reset(token)
        _unstore(stored)


def _unstore(objects: list[_Bitmap]) -> None:
    """Delete what *objects* stored (their keys leave the runtime registry) and mark them to be
    stored again on their next read."""
    by_system: dict[System, set[str]] = {}
    for obj in objects:
        obj._pending = True
        steps = compile_plan(obj._node, _SCHEME, at_key=True).steps
        by_system.setdefault(obj.system, set()).update(step.dest for step in steps)
    for system, keys in by_system.items():
        runtime_bitop_keys().get(system, set()).difference_update(keys)
        client = get_redis(system)
        if isinstance(client, Pipeline):
            client.delete(*sorted(keys))
        else:
            bitmapist_for(client).storage.delete(sorted(keys))


def materialize(node: Node, system: System) -> None:
    """Store *node*'s value at its key now (on a pipeline: queue the ``BITOP``s) and record
    every key written in this thread's runtime registry."""
    plan = compile_plan(node, _SCHEME, at_key=True)
    client = get_redis(system)
    if isinstance(client, Pipeline):
        for step in plan.steps:
            client.bitop(step.op, step.dest, *step.sources)
            client.expire(step.dest, BITOP_TTL)
    else:
        bitmapist_for(client).storage.evaluate(plan.steps, [])
    register_bitop_keys(system, [step.dest for step in plan.steps])


class _Bitmap:
    """What every compat event and bit operation offers: bitmapist's query methods."""

    system: System
    redis_key: str
    _node: Node
    #: Built inside :func:`deferred_bitops` and not stored yet.
    _pending: bool = False

    def _store(self) -> None:
        """Run the ``BITOP``s that store this object at :attr:`redis_key` (bitmapist's eager
        meaning), unless :func:`deferred_bitops` is active: then on the first read."""
        if _DEFERRED.get() is not None:
            self._pending = True
        else:
            materialize(self._node, self.system)

    def _ensure_stored(self) -> None:
        if self._pending:
            materialize(self._node, self.system)
            self._pending = False
            stored = _DEFERRED.get()
            if stored is not None:
                stored.append(self)

    def _read(self, query: Query, what: str) -> int | bytes | array[int]:
        self._ensure_stored()
        (result,) = reader_for(self.system, what).storage.evaluate((), [query])
        return result

    def get_count(self) -> int:
        """Number of ids in the bitmap (``BITCOUNT``)."""
        return int(self._read(Query("count", self.redis_key), "get_count()"))

    def __len__(self) -> int:
        return self.get_count()

    def __contains__(self, uuid: object) -> bool:
        offset = check_uid(uuid)
        return bool(self._read(Query("getbit", self.redis_key, offset), "`in`"))

    def has_events_marked(self) -> bool:
        """Whether any id is set (``BITCOUNT > 0``)."""
        return self.get_count() > 0

    def get_uuids(self) -> Iterator[int]:
        """The ids in the bitmap, ascending (one ``GET`` when iteration starts)."""
        bm = reader_for(self.system, "iteration")
        self._ensure_stored()
        (data,) = bm.storage.evaluate((), [Query("get", self.redis_key)])
        assert isinstance(data, bytes)
        yield from decode_ids(data, use_numpy=bm.use_numpy)

    def __iter__(self) -> Iterator[int]:
        return self.get_uuids()

    def delete(self) -> None:
        """Delete :attr:`redis_key` (on a pipeline system: queue the ``DEL``)."""
        client = get_redis(self.system)
        if isinstance(client, Pipeline):
            client.delete(self.redis_key)
        else:
            bitmapist_for(client).storage.delete([self.redis_key])

    def __eq__(self, other: object) -> bool:
        other_key = getattr(other, "redis_key", None)
        if other_key is None:
            return NotImplemented
        return bool(self.redis_key == other_key)

    def __hash__(self) -> int:
        return hash(self.redis_key)

    def __and__(self, other: object) -> BitOpAnd:
        if not isinstance(other, _Bitmap):
            return NotImplemented
        return BitOpAnd(self, other)

    def __or__(self, other: object) -> BitOpOr:
        if not isinstance(other, _Bitmap):
            return NotImplemented
        return BitOpOr(self, other)

    def __xor__(self, other: object) -> BitOpXor:
        if not isinstance(other, _Bitmap):
            return NotImplemented
        return BitOpXor(self, other)

    def __invert__(self) -> BitOpNot:
        return BitOpNot(self)


class _FromDate:
    """``from_date`` as bitmapist documents it, on the class and on an instance.

    ``MonthEvents.from_date("active", dt, system="x")`` is bitmapist's classmethod;
    ``MonthEvents("active").from_date(dt)`` (the form bitmapist's README shows) keeps the
    instance's event name and system. An instance call whose first argument is a name is the
    classmethod, as in bitmapist.
    """

    def __get__(self, obj: object, owner: type[_E]) -> Callable[..., _E]:
        if not isinstance(obj, owner):
            return owner._from_date
        event: _Event = obj

        def from_date(*args: Any, **kwargs: Any) -> _E:
            if (args and isinstance(args[0], str)) or "event_name" in kwargs:
                return owner._from_date(*args, **kwargs)
            kwargs.setdefault("system", event.system)
            return owner._from_date(event.event_name, *args, **kwargs)

        return from_date


class _Event(_Bitmap):
    event_name: str

    from_date = _FromDate()

    @classmethod
    def _from_date(
        cls: type[_E],
        event_name: str,
        dt: datetime | date | None = None,
        system: System = "default",
    ) -> _E:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


class UniqueEvents(_Event):
    """Ids flagged regardless of time (``mark_unique``): the key ``trackist_{name}_u``.

    Example::

        premium = UniqueEvents("premium")
        print(len(DayEvents("active") & premium))
    """

    def __init__(self, event_name: str, system: System = "default") -> None:
        self.event_name = check_name(event_name)
        self.system = system
        self._node = Leaf(_SCHEME.unique_key(self.event_name))
        self.redis_key = self._node.key

    @classmethod
    def _from_date(
        cls, event_name: str, dt: datetime | date | None = None, system: System = "default"
    ) -> UniqueEvents:
        return cls(event_name, system=system)

    def delta(self, value: int) -> UniqueEvents:
        return self

    def next(self) -> UniqueEvents:
        return self

    def prev(self) -> UniqueEvents:
        return self

    def __repr__(self) -> str:
        return f"UniqueEvents({self.event_name!r})"


def _fields(period: Period) -> dict[str, int]:
    """A period's fields in order (``year, month, ...``): bitmapist's positional arguments."""
    return {f.name: getattr(period, f.name) for f in dataclasses.fields(period)}  # type: ignore[arg-type]


def _now() -> datetime:
    return wall_clock(None)


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


class GenericPeriodEvents(_Event):
    """Events of one calendar period: the base of ``Year/Month/Week/Day/HourEvents``.

    Periods follow UTC, like bitmapist: ``period_start()``/``period_end()`` are aware UTC
    datetimes, and omitted fields mean the current period in UTC.
    """

    _PERIOD: ClassVar[type[Period]]
    _period: Period

    def _setup(self, event_name: str, period: Period, system: System) -> None:
        self.event_name = check_name(event_name)
        self.system = system
        self._period = period
        for name, value in _fields(period).items():
            setattr(self, name, value)
        self._node = self._make_node()
        self.redis_key = self._node.key

    def _make_node(self) -> Node:
        suffix: str = getattr(self._period, "suffix")  # noqa: B009 - every non-year period has one
        return Leaf(_SCHEME.event_key(self.event_name, suffix))

    @classmethod
    def _of(cls: type[_P], event_name: str, period: Period, system: System) -> _P:
        return cls(event_name, *_fields(period).values(), system=system)  # type: ignore[call-arg]

    @classmethod
    def _from_date(
        cls: type[_P],
        event_name: str,
        dt: datetime | date | None = None,
        system: System = "default",
    ) -> _P:
        period = cls._PERIOD.from_datetime(wall_clock(dt))  # type: ignore[attr-defined]
        return cls._of(event_name, period, system)

    def delta(self: _P, value: int) -> _P:
        """The same event *value* periods later (earlier when negative)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"delta value must be an int, got {value!r}")
        return type(self)._of(self.event_name, self._period.delta(value), self.system)

    def next(self: _P) -> _P:
        """The next period."""
        return self.delta(1)

    def prev(self: _P) -> _P:
        """The previous period."""
        return self.delta(-1)

    def period_start(self) -> datetime:
        """First instant of the period (aware, UTC)."""
        return self._period.start().replace(tzinfo=timezone.utc)

    def period_end(self) -> datetime:
        """Last microsecond of the period (aware, UTC)."""
        return self._period.end().replace(tzinfo=timezone.utc)

    def __repr__(self) -> str:
        fields = ", ".join(map(str, _fields(self._period).values()))
        return f"{type(self).__name__}({self.event_name!r}, {fields})"


class YearEvents(GenericPeriodEvents):
    """Events of a year: like bitmapist, the OR of the twelve month bitmaps, computed when
    the object is built (its :attr:`redis_key` is a ``trackist_bitop_OR_...`` key).

    Example::

        YearEvents("active", 2026)
    """

    _PERIOD = YearPeriod
    year: int

    def __init__(
        self, event_name: str, year: int | None = None, system: System = "default"
    ) -> None:
        self._setup(event_name, YearPeriod(_or(year, _now().year)), system)
        self._store()

    def _make_node(self) -> Node:
        assert isinstance(self._period, YearPeriod)
        months = [Leaf(_SCHEME.event_key(self.event_name, m.suffix)) for m in self._period.months()]
        return make_op(_SCHEME, "OR", months)


class MonthEvents(GenericPeriodEvents):
    """Events of a month.

    Example::

        MonthEvents("active", 2026, 11)
    """

    _PERIOD = MonthPeriod
    year: int
    month: int

    def __init__(
        self,
        event_name: str,
        year: int | None = None,
        month: int | None = None,
        system: System = "default",
    ) -> None:
        now = _now()
        self._setup(event_name, MonthPeriod(_or(year, now.year), _or(month, now.month)), system)


class WeekEvents(GenericPeriodEvents):
    """Events of an ISO 8601 week (``year`` is the ISO year).

    Example::

        WeekEvents("active", 2026, 48)
    """

    _PERIOD = WeekPeriod
    year: int
    week: int

    def __init__(
        self,
        event_name: str,
        year: int | None = None,
        week: int | None = None,
        system: System = "default",
    ) -> None:
        iso = _now().isocalendar()
        self._setup(event_name, WeekPeriod(_or(year, iso[0]), _or(week, iso[1])), system)


class DayEvents(GenericPeriodEvents):
    """Events of a day.

    Example::

        DayEvents("active", 2026, 11, 28)
    """

    _PERIOD = DayPeriod
    year: int
    month: int
    day: int

    def __init__(
        self,
        event_name: str,
        year: int | None = None,
        month: int | None = None,
        day: int | None = None,
        system: System = "default",
    ) -> None:
        now = _now()
        period = DayPeriod(_or(year, now.year), _or(month, now.month), _or(day, now.day))
        self._setup(event_name, period, system)


class HourEvents(GenericPeriodEvents):
    """Events of an hour (stored only by marks with ``track_hourly``).

    Example::

        HourEvents("active", 2026, 11, 28, 13)
    """

    _PERIOD = HourPeriod
    year: int
    month: int
    day: int
    hour: int

    def __init__(
        self,
        event_name: str,
        year: int | None = None,
        month: int | None = None,
        day: int | None = None,
        hour: int | None = None,
        system: System = "default",
    ) -> None:
        now = _now()
        period = HourPeriod(
            _or(year, now.year), _or(month, now.month), _or(day, now.day), _or(hour, now.hour)
        )
        self._setup(event_name, period, system)


def _same_system(a: System, b: System) -> bool:
    if a is b or (isinstance(a, str) and isinstance(b, str) and a == b):
        return True
    return get_redis(a) is get_redis(b)


def _check_operands(what: str, operands: tuple[object, ...]) -> tuple[_Bitmap, ...]:
    for operand in operands:
        if not isinstance(operand, _Bitmap):
            raise TypeError(
                f"{what} operands must be bitmapist_async.compat events or bit operations, "
                f"got {operand!r}"
            )
    return operands  # type: ignore[return-value]  # every item checked above


def _common_system(what: str, operands: tuple[_Bitmap, ...]) -> System:
    system = operands[0].system
    for operand in operands[1:]:
        if not _same_system(operand.system, system):
            raise ValueError(
                f"{what} operands come from different systems ({system!r} and "
                f"{operand.system!r}): name the system first, {what}(system, *events)"
            )
    return system


class BitOperation(_Bitmap):
    """A bit operation computed when it is built, bitmapist's way.

    The first argument is either the system to run on, or the first operand (then the operands'
    common system is used). The result is stored at once under
    ``trackist_bitop_{OP}_{operand keys}`` (the same expression always gives the same key),
    recorded for :func:`~bitmapist_async.compat.delete_runtime_bitop_keys`, and read by every
    query until :meth:`delete` removes it. Operations nest. Inside an AND, a NOT operand means
    the exact set difference (``a & ~b``), whatever the bitmaps' lengths.

    :raises TypeError: an operand that is not a compat event or bit operation, no operand, a
        NOT with more than one, or a bad system (before any I/O).
    :raises ValueError: operands from different systems and no system given (before any I/O).
    :raises KeyError: an unknown system name (before any I/O).
    """

    def __init__(self, op_name: str, system_or_event: object, *events: object) -> None:
        what = type(self).__name__
        op = _OPS.get(op_name.upper() if isinstance(op_name, str) else "")
        if op is None:
            raise ValueError(f"op_name must be one of AND, OR, XOR, NOT, got {op_name!r}")
        if isinstance(system_or_event, _Bitmap) or hasattr(system_or_event, "redis_key"):
            operands = _check_operands(what, (system_or_event, *events))
            system = _common_system(what, operands)
        elif isinstance(system_or_event, (str, redis.Redis)):
            operands = _check_operands(what, events)
            system = system_or_event
            get_redis(system)  # an unknown name fails here, before any I/O
        else:
            raise TypeError(
                f"{what} takes a system (name or redis.Redis) or an event first, got "
                f"{system_or_event!r}"
            )
        self.system = system
        self.operands = operands
        self._node = make_op(_SCHEME, op, [o._node for o in operands])
        self.redis_key = self._node.key
        self._store()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.operands))})"


class BitOpAnd(BitOperation):
    """Ids in every operand (``BITOP AND``); with ``~b`` operands, the exact difference."""

    def __init__(self, system_or_event: object, *events: object) -> None:
        super().__init__("AND", system_or_event, *events)


class BitOpOr(BitOperation):
    """Ids in any operand (``BITOP OR``)."""

    def __init__(self, system_or_event: object, *events: object) -> None:
        super().__init__("OR", system_or_event, *events)


class BitOpXor(BitOperation):
    """Ids in an odd number of operands (``BITOP XOR``)."""

    def __init__(self, system_or_event: object, *events: object) -> None:
        super().__init__("XOR", system_or_event, *events)


class BitOpNot(BitOperation):
    """Complement of one operand within its own bytes (``BITOP NOT``)."""

    def __init__(self, system_or_event: object, *events: object) -> None:
        super().__init__("NOT", system_or_event, *events)
