"""Data written by bitmapist 3.119 is read by bitmapist-async, and the other way round."""

from __future__ import annotations

from datetime import datetime, timezone

from bitmapist_async.sync import Bitmapist

from .conftest import LegacyRunner

WHEN = datetime(2026, 11, 28, 13, 30, tzinfo=timezone.utc)


def test_bitmapist_reads_our_marks(redis_url: str, legacy: LegacyRunner) -> None:
    with Bitmapist(redis_url) as bm:
        for uid in (1, 17, 300):
            bm.mark_event("active", uid, WHEN, track_hourly=True, track_unique=True)
        bm.mark_event("active", 2, datetime(2026, 10, 1, tzinfo=timezone.utc))
    script = """
from datetime import datetime, timezone
from bitmapist import (MonthEvents, WeekEvents, DayEvents, HourEvents, UniqueEvents, YearEvents,
                       get_event_names)
result = {
    "month": list(MonthEvents("active", 2026, 11)),
    "week": list(WeekEvents("active", 2026, 48)),
    "day": list(DayEvents("active", 2026, 11, 28)),
    "hour": list(HourEvents("active", 2026, 11, 28, 13)),
    "unique": list(UniqueEvents("active")),
    "year": len(YearEvents("active", 2026)),
    "contains": 17 in MonthEvents("active", 2026, 11),
    "names": sorted(get_event_names()),
}
"""
    result = legacy(script)
    assert result == {
        "month": [1, 17, 300],
        "week": [1, 17, 300],
        "day": [1, 17, 300],
        "hour": [1, 17, 300],
        "unique": [1, 17, 300],
        "year": 4,
        "contains": True,
        "names": ["active"],
    }


def test_we_read_bitmapist_marks(redis_url: str, legacy: LegacyRunner) -> None:
    script = """
from datetime import datetime, timezone
from bitmapist import mark_event, mark_unique, BitOpAnd, MonthEvents, UniqueEvents
when = datetime(2026, 11, 28, 13, 30, tzinfo=timezone.utc)
for uid in (5, 6, 1000):
    mark_event("song:played", uid, now=when, track_hourly=True)
mark_unique("premium", 6)
op = BitOpAnd(MonthEvents("song:played", 2026, 11), UniqueEvents("premium"))
result = {"key": op.redis_key, "count": len(op)}
"""
    legacy_result = legacy(script)
    with Bitmapist(redis_url) as bm:
        assert bm.MonthEvents("song:played", 2026, 11).ids() == [5, 6, 1000]
        assert list(bm.WeekEvents("song:played", 2026, 48)) == [5, 6, 1000]
        assert 1000 in bm.HourEvents("song:played", 2026, 11, 28, 13)
        both = bm.MonthEvents("song:played", 2026, 11) & bm.UniqueEvents("premium")
        assert both.redis_key == legacy_result["key"]
        assert len(both) == legacy_result["count"] == 1
        assert bm.get_event_names() == ["premium", "song:played"]
