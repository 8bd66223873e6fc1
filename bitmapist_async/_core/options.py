"""Client options and the I/O-free half of marking: which bits a mark sets.

Shared by the async client and its generated sync twin, the way psycopg shares ``*_base``
modules: everything here is computed before any I/O, so bad input fails at the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

from .keys import KeyScheme
from .periods import DayPeriod, HourPeriod, MonthPeriod, WeekPeriod
from .validate import check_name, check_prefix, check_uid, to_local

__all__ = ("ClientOptions", "Write")

#: ``(key, bit offset, value)``: one SETBIT.
Write = tuple[str, int, int]


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
    scheme: KeyScheme = field(init=False)

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
        local = self.local(now)
        scheme = self.scheme
        writes: list[Write] = [
            (scheme.event_key(name, MonthPeriod.from_datetime(local).suffix), offset, value),
            (scheme.event_key(name, WeekPeriod.from_datetime(local).suffix), offset, value),
            (scheme.event_key(name, DayPeriod.from_datetime(local).suffix), offset, value),
        ]
        if hourly:
            writes.append(
                (scheme.event_key(name, HourPeriod.from_datetime(local).suffix), offset, value)
            )
        if unique:
            writes.append((scheme.unique_key(name), offset, value))
        return writes

    def unique_writes(self, event_name: object, uid: object, value: int) -> list[Write]:
        """The SETBIT of one ``mark_unique``/``unmark_unique`` call (validated)."""
        return [(self.scheme.unique_key(check_name(event_name)), check_uid(uid), value)]
