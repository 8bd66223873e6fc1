"""Client options and the I/O-free half of marking: which bits a mark sets.

Shared by the async client and its generated sync twin, the way psycopg shares ``*_base``
modules: everything here is computed before any I/O, so bad input fails at the call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from functools import lru_cache

from .keys import KeyScheme
from .periods import DayPeriod, HourPeriod, MonthPeriod, WeekPeriod
from .shards import DEFAULT_SHARD_BITS, Layout, ShardLayout, check_layout, check_shard_bits
from .validate import check_name, check_prefix, check_uid, to_local

__all__ = ("ClientOptions", "Write")

#: ``(key, bit offset, value)``: one SETBIT.
Write = tuple[str, int, int]


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
    ) -> list[Write]:
        """The SETBITs of one ``mark_event``/``unmark_event`` call (validated)."""
        name = check_name(event_name)
        offset = check_uid(uid)
        hourly, unique = self.tracking(track_hourly, track_unique)
        if now is None:
            month, week, day, hour = self._now_suffixes()
        else:
            local = to_local(now, self.tz)
            month, week, day, hour = period_suffixes(local.year, local.month, local.day, local.hour)
        base = f"{self.key_prefix}{name}_"
        writes: list[Write] = [
            (base + month, offset, value),
            (base + week, offset, value),
            (base + day, offset, value),
        ]
        if hourly:
            writes.append((base + hour, offset, value))
        if unique:
            writes.append((self.scheme.unique_key(name), offset, value))
        return writes

    def _now_suffixes(self) -> tuple[str, str, str, str]:
        # Time-zone offsets change on whole seconds, so one epoch second has one local hour.
        second = int(time.time())
        cached_second, suffixes = self._clock[0]
        if cached_second != second:
            local = datetime.fromtimestamp(second, self.tz)
            suffixes = period_suffixes(local.year, local.month, local.day, local.hour)
            self._clock[0] = (second, suffixes)  # one store: safe between threads
        return suffixes

    def unique_writes(self, event_name: object, uid: object, value: int) -> list[Write]:
        """The SETBIT of one ``mark_unique``/``unmark_unique`` call (validated)."""
        return [(self.scheme.unique_key(check_name(event_name)), check_uid(uid), value)]
