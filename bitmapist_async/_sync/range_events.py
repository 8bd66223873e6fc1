# This file is generated from bitmapist_async/_async/range_events.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""``RangeEvents``: everyone who did an event on any day (or hour) of an arbitrary range.

A lazy expression like the period events: building one does no I/O, and it composes with
``&``, ``|``, ``^`` and ``~``. Which keys it reads is decided in ``_core/ranges.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from .._core.periods import Period
from .._core.plan import Leaf, Node, make_op
from .._core.ranges import cover_days, cover_hours
from .._core.validate import check_name
from .events import _Event

__all__ = ("RangeEvents",)


class RangeEvents(_Event):
    """Ids that did *event_name* on any day from *start* to *end* (inclusive): the OR of those
    days' bitmaps. With datetimes, any hour from the one containing *start* to the one
    containing *end* (hour bitmaps exist only for marks that track hours).

    :param start: a ``date`` (or a ``datetime``: then *end* must be one too).
    :param end: the last day (or instant), not before *start*.
    :param covers: also read month and ISO week keys (and, for datetimes, day keys) for the
        months, weeks (and days) that lie wholly inside the range: fewer keys, and the same
        answer as long as every mark set the day, week and month bitmaps together (as
        ``mark_event`` and ``import_events`` do) and nothing since cleared or deleted one of
        them alone (``unmark_event`` of one day clears the whole month's bit; see the
        analytics page for the rule).
    :raises TypeError: *start* and *end* of different kinds, or not dates.
    :raises ValueError: *end* before *start*, or more than ``MAX_PERIODS`` days (hours).

    Example::

        q4 = bm.RangeEvents("active", date(2026, 10, 1), date(2026, 12, 31))
        (q4 & ~bm.RangeEvents("active", date(2027, 1, 1), date(2027, 3, 31))).count()
    """

    __slots__ = ("covers", "end", "periods", "start")

    start: date
    end: date
    covers: bool
    periods: tuple[Period, ...]

    def __init__(self, event_name: str, start: date, end: date, *, covers: bool = False) -> None:
        bm = self._client()
        name = check_name(event_name)
        if not isinstance(covers, bool):
            raise TypeError(f"covers must be a bool, got {covers!r}")
        hourly = isinstance(start, datetime)
        if (
            hourly != isinstance(end, datetime)
            or not isinstance(start, date)
            or not isinstance(end, date)
        ):
            raise TypeError(
                f"start and end must both be dates or both be datetimes, got {start!r} and {end!r}"
            )
        if hourly:
            periods = cover_hours(bm.options.local(start), bm.options.local(end), covers)
        else:
            periods = cover_days(start, end, covers)
        self._bm = bm
        self.event_name = name
        self.start, self.end, self.covers = start, end, covers
        self.periods = tuple(periods)
        self._node = self._make_node(name, self.periods)

    def _make_node(self, name: str, periods: tuple[Period, ...]) -> Node:
        scheme = self._bm.options.scheme
        leaves = [Leaf(scheme.event_key(name, p.suffix)) for p in periods]  # type: ignore[attr-defined]
        return leaves[0] if len(leaves) == 1 else make_op(scheme, "OR", leaves)

    def __repr__(self) -> str:
        covers = ", covers=True" if self.covers else ""
        return f"RangeEvents({self.event_name!r}, {self.start!r}, {self.end!r}{covers})"
