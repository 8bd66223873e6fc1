# This file is generated from bitmapist_async/_async/events.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Events and bit operations: lazy expressions with query coroutines.

Building an event or a bit operation does no I/O. A query coroutine (:meth:`Expression.count`,
:meth:`Expression.contains`, :meth:`Expression.ids`, ...) compiles the expression into ``BITOP``
steps and runs them plus the query in one pipelined round trip.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from .._core.decode import decode_segment_ids
from .._core.periods import (
    DayPeriod,
    HourPeriod,
    MonthPeriod,
    Period,
    WeekPeriod,
    YearPeriod,
    period_fields,
)
from .._core.plan import Leaf, Node, Op, Plan, Query, QueryKind, compile_plan, make_op
from .._core.validate import check_name, check_uid
from .._pairs import ExpressionMixin
from .evaluate import resolve_steps, run_plan
from .storage import SegmentedStorage, QueryResult

if TYPE_CHECKING:
    from .client import Bitmapist

__all__ = (
    "BitOpAnd",
    "BitOpNot",
    "BitOpOr",
    "BitOpXor",
    "BitOperation",
    "DayEvents",
    "Expression",
    "HourEvents",
    "MonthEvents",
    "PeriodEvents",
    "UniqueEvents",
    "WeekEvents",
    "YearEvents",
)

_E = TypeVar("_E", bound="Expression")
_P = TypeVar("_P", bound="PeriodEvents")


class Expression(ExpressionMixin):
    """Anything that can be queried: an event bitmap or a bit operation over them.

    Operators build new lazy expressions: ``a & b``, ``a | b``, ``a ^ b``, ``~a``.
    """

    __slots__ = ("_bm", "_node")

    _bm: Bitmapist
    _node: Node

    @property
    def redis_key(self) -> str:
        """The key holding this expression's bitmap (a temporary key for bit operations)."""
        return self._node.key

    @property
    def node(self) -> Node:
        """The expression tree (I/O-free), for plans and custom backends."""
        return self._node

    @property
    def bitmapist(self) -> Bitmapist:
        """The client this expression reads from."""
        return self._bm

    def plan(self) -> Plan:
        """The ``BITOP`` steps that materialise this expression at :attr:`redis_key`."""
        return compile_plan(self._node, self._bm.options.scheme)

    def _query(self, kind: QueryKind, offset: int = 0) -> QueryResult:
        plan = self.plan()
        storage = self._bm._queries
        query = Query(kind, plan.result, offset)
        (result,) = run_plan(storage, self._bm.options.scheme, plan.steps, [query])
        return result

    def count(self) -> int:
        """Number of ids in the bitmap.

        Example::

            n = bm.MonthEvents("active", 2026, 11).count()
        """
        return int(self._query("count"))

    def contains(self, uid: int) -> bool:
        """Whether *uid* is in the bitmap.

        :raises TypeError: *uid* is not an ``int`` (before any I/O).
        :raises ValueError: *uid* is outside ``[0, 2**32)`` (before any I/O).
        """
        offset = check_uid(uid)
        return bool(self._query("getbit", offset))

    def has_events_marked(self) -> bool:
        """Whether any id is set (bitmapist's ``BITCOUNT > 0``)."""
        return self.count() > 0

    def bitmap(self) -> bytes:
        """The raw bitmap (``GET``: most significant bit first), up to the byte of its largest
        id: the same bytes on every backend (Redis may store trailing zero bytes, which are
        left out; ``b""`` when empty)."""
        result = self._query("get")
        assert isinstance(result, bytes)
        return result.rstrip(b"\0") if result[-1:] == b"\0" else result

    def ids(self) -> list[int]:
        """Every id in the bitmap, sorted.

        Example::

            for uid in (bm.DayEvents("active") & bm.UniqueEvents("premium")).ids():
                ...
        """
        return (self.id_array()).tolist()

    def _segments(self) -> list[tuple[int, bytes]] | None:
        """The bitmap in pieces when the storage keeps it so (sharded layout), else ``None``."""
        queries = self._bm._queries
        if not isinstance(queries, SegmentedStorage):
            return None
        plan = self.plan()
        steps = resolve_steps(queries, self._bm.options.scheme, plan.steps)
        return queries.evaluate_segments(steps, plan.result)

    def id_array(self) -> array[int]:
        """Every id, sorted, as a compact ``array('I')`` (4 bytes per id, no ``int`` objects
        until you read them): the fastest way to move millions of ids into numpy or a file.

        Example::

            ids = bm.MonthEvents("active").id_array()
            numpy.frombuffer(ids, dtype=numpy.uint32)
        """
        segments = self._segments()
        if segments is not None:
            return decode_segment_ids(segments, use_numpy=self._bm.use_numpy)
        result = self._query("ids")
        assert isinstance(result, array)
        return result

    def __iter__(self) -> Iterator[int]:
        return self._iter_ids()

    def _iter_ids(self) -> Iterator[int]:
        for uid in self.ids():
            yield uid

    def delete(self) -> None:
        """Delete :attr:`redis_key` (for a bit operation, its temporary result only)."""
        self._bm._queries.delete([self.redis_key])

    def store(self) -> str:
        """Materialise the expression at :attr:`redis_key` now and return that key.

        Only useful to hand the key to other tools: queries evaluate on their own.
        """
        plan = compile_plan(self._node, self._bm.options.scheme, at_key=True)
        run_plan(self._bm._queries, self._bm.options.scheme, plan.steps, [])
        return plan.result

    def __and__(self, other: Expression) -> BitOpAnd:
        return BitOpAnd(self, other)

    def __or__(self, other: Expression) -> BitOpOr:
        return BitOpOr(self, other)

    def __xor__(self, other: Expression) -> BitOpXor:
        return BitOpXor(self, other)

    def __invert__(self) -> BitOpNot:
        return BitOpNot(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return self.redis_key == other.redis_key

    def __hash__(self) -> int:
        return hash(self.redis_key)


class _Event(Expression):
    __slots__ = ("event_name",)

    #: Set on the per-client subclasses that ``Bitmapist`` creates (``bm.MonthEvents``).
    _bitmapist: ClassVar[Bitmapist | None] = None

    event_name: str

    @classmethod
    def _client(cls) -> Bitmapist:
        bm = cls._bitmapist
        if bm is None:
            raise TypeError(
                f"{cls.__name__} is not bound to a client: create it as "
                f"bm.{cls.__name__}(...) where bm is a Bitmapist"
            )
        return bm

    @classmethod
    def _bind(cls: type[_E], bm: Bitmapist) -> type[_E]:
        namespace = {
            "__slots__": (),
            "_bitmapist": bm,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        }
        return cast("type[_E]", type(cls.__name__, (cls,), namespace))


class UniqueEvents(_Event):
    """Ids flagged regardless of time (``mark_unique``): one key per event name.

    Example::

        premium = bm.UniqueEvents("premium")
        (bm.DayEvents("active") & premium).count()
    """

    __slots__ = ()

    def __init__(self, event_name: str) -> None:
        bm = self._client()
        self._bm = bm
        self.event_name = check_name(event_name)
        self._node = Leaf(bm.options.scheme.unique_key(self.event_name))

    @classmethod
    def from_date(cls, event_name: str, dt: datetime | date | None = None) -> UniqueEvents:
        """The same as ``UniqueEvents(event_name)``: *dt* is ignored."""
        return cls(event_name)

    def delta(self, steps: int) -> UniqueEvents:
        return self

    def next(self) -> UniqueEvents:
        return self

    def prev(self) -> UniqueEvents:
        return self

    def __repr__(self) -> str:
        return f"UniqueEvents({self.event_name!r})"


class PeriodEvents(_Event):
    """Events of one calendar period: the base of ``Year/Month/Week/Day/HourEvents``."""

    __slots__ = ("period",)

    period: Period
    #: The period class: ``MonthPeriod`` for ``MonthEvents`` and so on.
    _period_type: ClassVar[Any]

    def _init(self, event_name: str, given: tuple[int | None, ...]) -> None:
        bm = self._client()
        now = period_fields(self._period_type.from_datetime(bm.options.now_local()))
        self._setup(bm, check_name(event_name), self._period_type(*_fill(given, now)))

    @classmethod
    def from_date(cls: type[_P], event_name: str, dt: datetime | date | None = None) -> _P:
        """The event of the period containing *dt* (default: now).

        Aware datetimes are converted to the client's time zone; naive ones are taken as
        already in it; a ``date`` means its midnight.
        """
        bm = cls._client()
        period = cls._period_type.from_datetime(bm.options.local(dt))
        return cls._from_period(bm, check_name(event_name), period)

    def _setup(self, bm: Bitmapist, event_name: str, period: Period) -> None:
        self._bm = bm
        self.event_name = event_name
        self.period = period
        self._node = self._make_node(bm, event_name, period)

    @staticmethod
    def _make_node(bm: Bitmapist, event_name: str, period: Period) -> Node:
        scheme = bm.options.scheme
        if isinstance(period, YearPeriod):
            months = [Leaf(scheme.event_key(event_name, m.suffix)) for m in period.months()]
            return make_op(scheme, "OR", months)
        suffix = cast("MonthPeriod", period).suffix
        return Leaf(scheme.event_key(event_name, suffix))

    @classmethod
    def _from_period(cls: type[_P], bm: Bitmapist, event_name: str, period: Period) -> _P:
        obj = cls.__new__(cls)
        obj._setup(bm, event_name, period)
        return obj

    def delta(self: _P, steps: int) -> _P:
        """The same event *steps* periods later (earlier when negative)."""
        if isinstance(steps, bool) or not isinstance(steps, int):
            raise TypeError(f"delta steps must be an int, got {steps!r}")
        return type(self)._from_period(self._bm, self.event_name, self.period.delta(steps))

    def next(self: _P) -> _P:
        return self.delta(1)

    def prev(self: _P) -> _P:
        return self.delta(-1)

    def period_start(self) -> datetime:
        """First instant of the period, aware, in the client's time zone."""
        return self._bm.options.aware(self.period.start())

    def period_end(self) -> datetime:
        """Last microsecond of the period, aware, in the client's time zone."""
        return self._bm.options.aware(self.period.end())

    def __repr__(self) -> str:
        fields = ", ".join(str(v) for v in period_fields(self.period))
        return f"{type(self).__name__}({self.event_name!r}, {fields})"


def _fill(given: tuple[int | None, ...], now: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n if g is None else g for g, n in zip(given, now, strict=True))


class _PeriodField:
    """A read-only attribute of an event's period (``ev.year``, ``ev.month``, ...)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: PeriodEvents, owner: type | None = None) -> int:
        value: int = getattr(obj.period, self.name)
        return value


class YearEvents(PeriodEvents):
    """Events of a calendar year: the OR of its twelve month bitmaps.

    Example::

        bm.YearEvents("active", 2026).count()
    """

    __slots__ = ()
    _period_type = YearPeriod
    year = _PeriodField("year")

    def __init__(self, event_name: str, year: int | None = None) -> None:
        self._init(event_name, (year,))


class MonthEvents(PeriodEvents):
    """Events of a calendar month. Omitted fields mean the current month.

    Example::

        ev = bm.MonthEvents("active", 2026, 11)
        ev.count(), ev.prev().count()
    """

    __slots__ = ()
    _period_type = MonthPeriod
    year = _PeriodField("year")
    month = _PeriodField("month")

    def __init__(self, event_name: str, year: int | None = None, month: int | None = None) -> None:
        self._init(event_name, (year, month))


class WeekEvents(PeriodEvents):
    """Events of an ISO 8601 week (``year`` is the ISO year). Omitted fields mean this week.

    Example::

        bm.WeekEvents("active", 2026, 48).count()
    """

    __slots__ = ()
    _period_type = WeekPeriod
    year = _PeriodField("year")
    week = _PeriodField("week")

    def __init__(self, event_name: str, year: int | None = None, week: int | None = None) -> None:
        self._init(event_name, (year, week))


class DayEvents(PeriodEvents):
    """Events of a day. Omitted fields mean today (in the client's time zone).

    Example::

        bm.DayEvents("active", 2026, 11, 28).contains(123)
    """

    __slots__ = ()
    _period_type = DayPeriod
    year = _PeriodField("year")
    month = _PeriodField("month")
    day = _PeriodField("day")

    def __init__(
        self,
        event_name: str,
        year: int | None = None,
        month: int | None = None,
        day: int | None = None,
    ) -> None:
        self._init(event_name, (year, month, day))


class HourEvents(PeriodEvents):
    """Events of an hour (only stored when marks use ``track_hourly``).

    Example::

        bm.HourEvents("active", 2026, 11, 28, 13).count()
    """

    __slots__ = ()
    _period_type = HourPeriod
    year = _PeriodField("year")
    month = _PeriodField("month")
    day = _PeriodField("day")
    hour = _PeriodField("hour")

    def __init__(
        self,
        event_name: str,
        year: int | None = None,
        month: int | None = None,
        day: int | None = None,
        hour: int | None = None,
    ) -> None:
        self._init(event_name, (year, month, day, hour))


class BitOperation(Expression):
    """A lazy bit operation over expressions. Nothing is computed until a query runs.

    All operands must come from the same client.
    """

    __slots__ = ("operands",)

    _op: ClassVar[Op]
    operands: tuple[Expression, ...]

    def __init__(self, *operands: Expression) -> None:
        for operand in operands:
            if not isinstance(operand, Expression):
                raise TypeError(
                    f"{type(self).__name__} operands must be events or bit operations, "
                    f"got {operand!r}"
                )
        if not operands:
            raise TypeError(f"{type(self).__name__} needs at least one operand, got none")
        bm = operands[0]._bm
        for operand in operands[1:]:
            if operand._bm is not bm:
                raise ValueError(
                    f"{type(self).__name__} operands come from different clients: "
                    f"{operands[0]!r} and {operand!r}"
                )
        self._bm = bm
        self.operands = operands
        self._node = make_op(bm.options.scheme, self._op, [o._node for o in operands])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.operands))})"


class BitOpAnd(BitOperation):
    """Ids in every operand. With ``~b`` operands it is the exact set difference."""

    __slots__ = ()
    _op = "AND"


class BitOpOr(BitOperation):
    """Ids in any operand."""

    __slots__ = ()
    _op = "OR"


class BitOpXor(BitOperation):
    """Ids in an odd number of operands."""

    __slots__ = ()
    _op = "XOR"


class BitOpNot(BitOperation):
    """Complement of one operand within the ids up to the end of the byte that holds its
    largest id (empty for an empty operand): the same answer on every backend.

    Inside an AND (``a & ~b``) it means exact set difference instead.
    """

    __slots__ = ()
    _op = "NOT"
