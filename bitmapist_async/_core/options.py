"""Client options and the I/O-free half of marking: which bits a mark sets.

Shared by the async client and its generated sync twin, the way psycopg shares ``*_base``
modules: everything here is computed before any I/O, so bad input fails at the call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from typing import overload

from .keys import KeyScheme
from .periods import DayPeriod, HourPeriod, MonthPeriod, WeekPeriod
from .shards import DEFAULT_SHARD_BITS, Layout, ShardLayout, check_layout, check_shard_bits
from .validate import check_name, check_prefix, check_uid, to_local

__all__ = ("ClientOptions", "MarkWrites", "Write")

#: ``(key, bit offset, value)``: one SETBIT.
Write = tuple[str, int, int]

_time = time.time

#: Names whose current keys :meth:`ClientOptions.mark_keys` remembers (then it starts over).
_MARK_KEYS_CACHE = 4096
#: (name, hour, tracking) entries of the keys of marks with an explicit time or tracking, and
#: names of ``mark_unique`` calls, remembered before starting over.
_PERIOD_KEYS_CACHE = 16384


class MarkWrites(Sequence[Write]):
    """The writes of one mark: the same bit offset and value in each of *keys*.

    A sequence of :data:`Write` like any other, kept in this shape because marks are the hot
    path: concurrent marks of one event in one period share one *keys* tuple, so the write
    batcher can queue them as bare offsets and the storage can format each one once.
    """

    __slots__ = ("keys", "offset", "value")

    def __init__(self, keys: tuple[str, ...], offset: int, value: int) -> None:
        self.keys = keys
        self.offset = offset
        self.value = value

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Write: ...

    @overload
    def __getitem__(self, index: slice) -> list[Write]: ...

    def __getitem__(self, index: int | slice) -> Write | list[Write]:
        if isinstance(index, slice):
            return [(key, self.offset, self.value) for key in self.keys[index]]
        return (self.keys[index], self.offset, self.value)

    def __iter__(self) -> Iterator[Write]:
        offset, value = self.offset, self.value
        for key in self.keys:
            yield (key, offset, value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MarkWrites):
            return (self.keys, self.offset, self.value) == (other.keys, other.offset, other.value)
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like list: compares by content

    def __repr__(self) -> str:
        return f"MarkWrites({self.keys!r}, {self.offset!r}, {self.value!r})"


@lru_cache(maxsize=4096)
def period_suffixes(year: int, month: int, day: int, hour: int) -> tuple[str, str, str, str]:
    """Key suffixes of the month, ISO week, day and hour holding this local hour (cached: a
    mark computes them for every call, and calls cluster around the current hour)."""
    local = datetime(year, month, day, hour)
    return (
        MonthPeriod.from_datetime(local).suffix,
        WeekPeriod.from_datetime(local).suffix,
        DayPeriod.from_datetime(local).suffix,
        HourPeriod.from_datetime(local).suffix,
    )


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """What a client needs to name keys and place events in time."""

    key_prefix: str = "trackist_"
    track_hourly: bool = False
    track_unique: bool = False
    tz: tzinfo = timezone.utc
    bitop_ttl: int = 60
    layout: Layout = "classic"
    shard_bits: int = DEFAULT_SHARD_BITS
    scheme: KeyScheme = field(init=False)
    # [(epoch second, suffixes of its local hour)]: "now" changes hour at most once a second.
    _clock: list[tuple[int, tuple[str, str, str, str]]] = field(
        init=False, repr=False, compare=False, default_factory=lambda: [(-1, ("", "", "", ""))]
    )
    # event name -> (start, end of its current second, its keys for a mark "now" with the
    # default tracking)
    _mark_keys: dict[str, tuple[float, float, tuple[str, ...]]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    # (event name, period suffixes, track_hourly, track_unique) -> keys, for other marks
    _period_keys: dict[
        tuple[str, tuple[str, str, str, str], bool | None, bool | None], tuple[str, ...]
    ] = field(init=False, repr=False, compare=False, default_factory=dict)
    # event name -> (its unique key,)
    _unique_keys: dict[str, tuple[str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        check_prefix(self.key_prefix)
        _check_flag("track_hourly", self.track_hourly)
        _check_flag("track_unique", self.track_unique)
        if not isinstance(self.tz, tzinfo):
            raise TypeError(f"tz must be a datetime.tzinfo, got {self.tz!r}")
        if isinstance(self.bitop_ttl, bool) or not isinstance(self.bitop_ttl, int):
            raise TypeError(f"bitop_ttl must be an int, got {self.bitop_ttl!r}")
        if self.bitop_ttl < 1:
            raise ValueError(f"bitop_ttl must be at least 1 second, got {self.bitop_ttl!r}")
        object.__setattr__(self, "scheme", KeyScheme(self.key_prefix))
        check_layout(self.layout)
        check_shard_bits(self.shard_bits)
        if self.layout == "sharded":
            ShardLayout(self.key_prefix, self.shard_bits)  # validates the prefix

    def shard_layout(self) -> ShardLayout:
        """The sharded layout's key names and id arithmetic for these options."""
        return ShardLayout(self.key_prefix, self.shard_bits)

    def now_local(self) -> datetime:
        """The current time on the wall clock of :attr:`tz` (naive)."""
        return datetime.now(self.tz).replace(tzinfo=None)

    def local(self, dt: object | None) -> datetime:
        """*dt* (or now) on the wall clock of :attr:`tz`."""
        return self.now_local() if dt is None else to_local(dt, self.tz)

    def aware(self, local: datetime) -> datetime:
        """Attach :attr:`tz` to a wall-clock datetime."""
        return local.replace(tzinfo=self.tz)

    def tracking(self, track_hourly: bool | None, track_unique: bool | None) -> tuple[bool, bool]:
        """Whether hour and unique bitmaps are marked, given per-call overrides (``None``: the
        client's default)."""
        hourly = (
            self.track_hourly if track_hourly is None else _check_flag("track_hourly", track_hourly)
        )
        unique = (
            self.track_unique if track_unique is None else _check_flag("track_unique", track_unique)
        )
        return hourly, unique

    def event_writes(
        self,
        event_name: object,
        uid: object,
        now: object | None,
        value: int,
        *,
        track_hourly: bool | None,
        track_unique: bool | None,
    ) -> MarkWrites:
        """The SETBITs of one ``mark_event``/``unmark_event`` call (validated): month, ISO
        week and day, then hour and unique when tracked."""
        offset = check_uid(uid)
        return MarkWrites(
            self.mark_keys(event_name, now, track_hourly, track_unique), offset, value
        )

    def mark_keys(
        self,
        event_name: object,
        now: object | None,
        track_hourly: bool | None,
        track_unique: bool | None,
    ) -> tuple[str, ...]:
        """The keys one ``mark_event`` call sets (validated): month, ISO week and day, then
        hour and unique when tracked.

        Marks "now" with the default tracking get the same tuple for a name while the current
        period lasts: the write batcher queues such marks as bare offsets.
        """
        if now is None and track_hourly is None and track_unique is None:
            # The hot path: the current period's keys of a name are built once a second, and
            # the same tuple is handed out while they do not change.
            # (Float bounds: comparing an int second with the float time costs twice as much.)
            moment = _time()
            cached: tuple[float, float, tuple[str, ...]] | None
            try:
                cached = self._mark_keys.get(event_name)  # type: ignore[call-overload]
            except TypeError:  # unhashable: _event_keys below says what is wrong with it
                cached = None
            if cached is not None and cached[0] <= moment < cached[1]:
                return cached[2]
            second = int(moment)
            keys = self._event_keys(event_name, self._now_suffixes(second), None, None)
            if cached is not None and cached[2] == keys:
                keys = cached[2]
            elif len(self._mark_keys) >= _MARK_KEYS_CACHE:
                self._mark_keys.clear()
            assert isinstance(event_name, str)  # _event_keys validated it
            self._mark_keys[event_name] = (float(second), float(second + 1), keys)
            return keys
        if track_hourly is not None and type(track_hourly) is not bool:
            _check_flag("track_hourly", track_hourly)
        if track_unique is not None and type(track_unique) is not bool:
            _check_flag("track_unique", track_unique)
        if now is None:
            suffixes = self._now_suffixes()
        else:
            local = to_local(now, self.tz)
            suffixes = period_suffixes(local.year, local.month, local.day, local.hour)
        # Any other mark: the keys of a (name, hour, tracking) are built and validated once,
        # and the same tuple is handed out after, so that the batcher can group such marks as
        # it groups marks "now" (a replay or a client's event queue gives explicit times).
        # The flags were checked above: 1 == True would otherwise find True's entry.
        cache = self._period_keys
        entry = (event_name, suffixes, track_hourly, track_unique)
        found: tuple[str, ...] | None
        try:
            found = cache.get(entry)  # type: ignore[arg-type]
        except TypeError:  # an unhashable name: _event_keys says what is wrong with it
            found = None
        if found is not None:
            return found
        keys = self._event_keys(event_name, suffixes, track_hourly, track_unique)
        if len(cache) >= _PERIOD_KEYS_CACHE:
            cache.clear()
        cache[entry] = keys  # type: ignore[index]  # _event_keys checked the name
        return keys

    def unique_keys(self, event_name: object) -> tuple[str]:
        """The one key of a ``mark_unique`` call (validated; the same tuple for a name while
        it stays cached, for the batcher's grouping)."""
        found: tuple[str] | None
        try:
            found = self._unique_keys.get(event_name)  # type: ignore[call-overload]
        except TypeError:  # unhashable: check_name says what is wrong with it
            found = None
        if found is not None:
            return found
        name = check_name(event_name)
        keys = (self.scheme.unique_key(name),)
        if len(self._unique_keys) >= _PERIOD_KEYS_CACHE:
            self._unique_keys.clear()
        self._unique_keys[name] = keys
        return keys

    def _event_keys(
        self,
        event_name: object,
        suffixes: tuple[str, str, str, str],
        track_hourly: bool | None,
        track_unique: bool | None,
    ) -> tuple[str, ...]:
        name = check_name(event_name)
        hourly, unique = self.tracking(track_hourly, track_unique)
        month, week, day, hour = suffixes
        base = f"{self.key_prefix}{name}_"
        keys = [base + month, base + week, base + day]
        if hourly:
            keys.append(base + hour)
        if unique:
            keys.append(self.scheme.unique_key(name))
        return tuple(keys)

    def _now_suffixes(self, second: int | None = None) -> tuple[str, str, str, str]:
        # Time-zone offsets change on whole seconds, so one epoch second has one local hour.
        if second is None:
            second = int(time.time())
        cached_second, suffixes = self._clock[0]
        if cached_second != second:
            local = datetime.fromtimestamp(second, self.tz)
            suffixes = period_suffixes(local.year, local.month, local.day, local.hour)
            self._clock[0] = (second, suffixes)  # one store: safe between threads
        return suffixes

    def unique_writes(self, event_name: object, uid: object, value: int) -> MarkWrites:
        """The SETBIT of one ``mark_unique``/``unmark_unique`` call (validated)."""
        return MarkWrites(self.unique_keys(event_name), check_uid(uid), value)
