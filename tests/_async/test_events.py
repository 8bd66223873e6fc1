"""Marking and querying single events on a real Redis."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import redis

from bitmapist_async import Bitmapist, MonthEvents

from ..conftest import LayoutTarget

NOV28 = datetime(2026, 11, 28, 13, 45, tzinfo=timezone.utc)


@pytest.mark.layouts("redis")  # inspects classic key names
async def test_mark_sets_month_week_day_and_optional_hour_unique(
    bm: Bitmapist, admin: redis.Redis
) -> None:
    await bm.mark_event("active", 123, NOV28)
    assert sorted(admin.keys("*")) == [
        b"trackist_active_2026-11",
        b"trackist_active_2026-11-28",
        b"trackist_active_W2026-48",
    ]
    await bm.mark_event("song:played", 7, NOV28, track_hourly=True, track_unique=True)
    assert admin.getbit("trackist_song:played_2026-11-28-13", 7) == 1
    assert admin.getbit("trackist_song:played_u", 7) == 1


async def test_client_defaults_for_hourly_and_unique(redis_url: str, admin: redis.Redis) -> None:
    async with Bitmapist(redis_url, track_hourly=True, track_unique=True) as bm:
        await bm.mark_event("a", 1, NOV28)
        await bm.mark_event("b", 1, NOV28, track_hourly=False, track_unique=False)
    assert admin.exists("trackist_a_2026-11-28-13")
    assert admin.exists("trackist_a_u")
    assert not admin.exists("trackist_b_2026-11-28-13")
    assert not admin.exists("trackist_b_u")


async def test_queries_on_every_period(bm: Bitmapist) -> None:
    for uid in (1, 5, 1000):
        await bm.mark_event("active", uid, NOV28, track_hourly=True)
    await bm.mark_event("active", 9, NOV28 - timedelta(days=40))
    for ev in (
        bm.HourEvents("active", 2026, 11, 28, 13),
        bm.DayEvents("active", 2026, 11, 28),
        bm.WeekEvents("active", 2026, 48),
        bm.MonthEvents("active", 2026, 11),
    ):
        assert await ev.count() == 3
        assert await ev.ids() == [1, 5, 1000]
        assert await ev.contains(5)
        assert not await ev.contains(6)
        assert await ev.has_events_marked()
        assert [uid async for uid in ev] == [1, 5, 1000]
        assert (await ev.id_array()).tolist() == [1, 5, 1000]
    year = bm.YearEvents("active", 2026)
    assert await year.ids() == [1, 5, 9, 1000]
    assert await bm.YearEvents("active", 2025).count() == 0


async def test_empty_events(bm: Bitmapist) -> None:
    ev = bm.DayEvents("nothing", 2026, 1, 1)
    assert await ev.count() == 0
    assert await ev.ids() == []
    assert not await ev.has_events_marked()
    assert not await ev.contains(0)


async def test_unmark(bm: Bitmapist) -> None:
    await bm.mark_event("active", 3, NOV28)
    await bm.mark_event("active", 4, NOV28)
    await bm.unmark_event("active", 3, NOV28)
    assert await bm.DayEvents.from_date("active", NOV28).ids() == [4]
    assert await bm.WeekEvents.from_date("active", NOV28).ids() == [4]


async def test_mark_unique(bm: Bitmapist) -> None:
    await bm.mark_unique("premium", 42)
    await bm.mark_unique("premium", 43)
    await bm.unmark_unique("premium", 43)
    premium = bm.UniqueEvents("premium")
    assert await premium.ids() == [42]
    assert premium.next() is premium
    assert premium.prev() is premium
    assert bm.UniqueEvents.from_date("premium", NOV28) == premium


async def test_delete(bm: Bitmapist) -> None:
    await bm.mark_event("active", 1, NOV28)
    ev = bm.MonthEvents("active", 2026, 11)
    await ev.delete()
    assert await ev.count() == 0
    assert await bm.DayEvents("active", 2026, 11, 28).count() == 1


async def test_now_defaults_to_current_period(bm: Bitmapist) -> None:
    before = datetime.now(timezone.utc)
    await bm.mark_event("active", 11)
    after = datetime.now(timezone.utc)
    candidates = {bm.DayEvents.from_date("active", before), bm.DayEvents.from_date("active", after)}
    assert bm.DayEvents("active") in candidates
    assert any([await ev.contains(11) for ev in candidates])
    assert bm.MonthEvents("active") in {
        bm.MonthEvents.from_date("active", before),
        bm.MonthEvents.from_date("active", after),
    }


async def test_navigation_and_period_bounds(bm: Bitmapist) -> None:
    ev = bm.MonthEvents("active", 2026, 1)
    assert ev.prev() == bm.MonthEvents("active", 2025, 12)
    assert ev.next().next() == bm.MonthEvents("active", 2026, 3)
    assert ev.delta(-12) == bm.MonthEvents("active", 2025, 1)
    assert ev.period_start() == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert ev.period_end() == datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    week = bm.WeekEvents("active", 2026, 53)
    assert week.next() == bm.WeekEvents("active", 2027, 1)
    assert week.period_start() == datetime(2026, 12, 28, tzinfo=timezone.utc)
    hour = bm.HourEvents("active", 2026, 12, 31, 23)
    assert hour.next() == bm.HourEvents("active", 2027, 1, 1, 0)
    assert bm.DayEvents("active", 2024, 2, 28).next() == bm.DayEvents("active", 2024, 2, 29)
    assert bm.YearEvents("active", 2026).delta(3).year == 2029


@pytest.mark.layouts("redis")  # inspects classic key names
async def test_iso_week_at_year_boundary(bm: Bitmapist, admin: redis.Redis) -> None:
    await bm.mark_event("active", 1, datetime(2024, 12, 30, tzinfo=timezone.utc))
    assert admin.getbit("trackist_active_W2025-1", 1) == 1
    assert await bm.WeekEvents("active", 2025, 1).ids() == [1]
    assert await bm.WeekEvents.from_date("active", date(2024, 12, 30)).ids() == [1]


async def test_time_zone_defines_the_calendar(redis_url: str, admin: redis.Redis) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    async with Bitmapist(redis_url, tz=tokyo) as bm:
        # 20:00 UTC on Nov 30 is Dec 1 in Tokyo.
        await bm.mark_event("active", 1, datetime(2026, 11, 30, 20, tzinfo=timezone.utc))
        # Naive datetimes are taken as Tokyo wall-clock time.
        await bm.mark_event("active", 2, datetime(2026, 11, 30, 20))
        assert await bm.DayEvents("active", 2026, 12, 1).ids() == [1]
        assert await bm.DayEvents("active", 2026, 11, 30).ids() == [2]
        start = bm.DayEvents("active", 2026, 12, 1).period_start()
        assert start == datetime(2026, 12, 1, tzinfo=tokyo)
        assert start.utcoffset() == timedelta(hours=9)
    assert admin.getbit("trackist_active_2026-12", 1) == 1


async def test_equality_and_hash_by_key(bm: Bitmapist, redis_url: str) -> None:
    a = bm.MonthEvents("active", 2026, 11)
    b = bm.MonthEvents.from_date("active", NOV28)
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, bm.MonthEvents("active", 2026, 10)}) == 2
    assert a != bm.WeekEvents("active", 2026, 48)
    assert a.redis_key == "trackist_active_2026-11"
    assert (a == "trackist_active_2026-11") is False
    async with Bitmapist(redis_url) as other:
        assert other.MonthEvents("active", 2026, 11) == a


async def test_reprs_hide_nothing_secret(bm: Bitmapist, layout_target: LayoutTarget) -> None:
    assert repr(bm.DayEvents("active", 2026, 11, 28)) == "DayEvents('active', 2026, 11, 28)"
    assert repr(bm.UniqueEvents("p")) == "UniqueEvents('p')"
    assert repr(bm.WeekEvents("a", 2026, 3) & bm.UniqueEvents("p")) == (
        "BitOpAnd(WeekEvents('a', 2026, 3), UniqueEvents('p'))"
    )
    assert repr(bm).startswith("Bitmapist(")
    assert bm.storage.describe() in repr(bm)
    host = "127.0.0.1" if layout_target.name != "embedded" else "events.db"
    assert host in repr(bm)


async def test_event_classes_need_a_client() -> None:
    with pytest.raises(TypeError, match=r"bm\.MonthEvents"):
        MonthEvents("active", 2026, 11)


async def test_key_prefix_isolates_clients(redis_url: str, admin: redis.Redis) -> None:
    async with Bitmapist(redis_url, key_prefix="app1:") as one, Bitmapist(redis_url) as two:
        await one.mark_event("active", 1, NOV28)
        await two.mark_event("active", 2, NOV28)
        assert await one.MonthEvents("active", 2026, 11).ids() == [1]
        assert await one.get_event_names() == ["active"]
        await one.delete_all_events()
        assert await two.MonthEvents("active", 2026, 11).ids() == [2]
    assert not admin.keys("app1:*")


async def test_get_event_names(bm: Bitmapist, admin: redis.Redis) -> None:
    for name in ("active", "song:played", "song_skipped", "weird*[name]?\\"):
        await bm.mark_event(name, 1, NOV28, track_unique=True, track_hourly=True)
    await (bm.MonthEvents("active", 2026, 11) & bm.MonthEvents("song:played", 2026, 11)).count()
    admin.set("unrelated", "x")
    admin.set("trackist_not-an-event", "x")
    assert await bm.get_event_names() == [
        "active",
        "song:played",
        "song_skipped",
        "weird*[name]?\\",
    ]
    assert await bm.get_event_names(prefix="song") == ["song:played", "song_skipped"]
    assert await bm.get_event_names(prefix="weird*") == ["weird*[name]?\\"]
    assert await bm.get_event_names(prefix="w*") == []


NAMES_WITH_ANY_CHARACTER = (
    "page/view",
    "a/b/c/d",
    "/leading",
    "trailing/",
    "q?mark",
    "star*",
    "[bracket",
    "back\\slash",
    "caf\u00e9/\u65e5\u672c",
    "plain",
)


async def test_names_with_any_character(bm: Bitmapist, layout_target: LayoutTarget) -> None:
    """Listing, prefix filters and deletes find names with glob characters, ``/`` (which
    bitmapist-server's matcher never lets ``*`` cross) and non-ASCII, on every backend."""
    for name in NAMES_WITH_ANY_CHARACTER:
        await bm.mark_event(name, 1, NOV28, track_unique=True)
    await (bm.MonthEvents("a/b/c/d", 2026, 11) | bm.UniqueEvents("page/view")).store()
    assert await bm.get_event_names() == sorted(NAMES_WITH_ANY_CHARACTER)
    assert await bm.get_event_names("page/") == ["page/view"]
    assert await bm.get_event_names("a/b/") == ["a/b/c/d"]
    assert await bm.get_event_names("/") == ["/leading"]
    assert await bm.get_event_names("caf\u00e9/") == ["caf\u00e9/\u65e5\u672c"]
    assert await bm.get_event_names("[") == ["[bracket"]
    assert await bm.get_event_names("star*") == ["star*"]
    assert await bm.DayEvents("a/b/c/d", 2026, 11, 28).ids() == [1]
    await bm.delete_temporary_bitop_keys()
    assert await bm.storage.scan("trackist_bitop_*") == []
    await bm.delete_all_events()
    assert await bm.get_event_names() == []
    assert await bm.storage.scan("trackist_*") == []
    # Physically too (the sharded layout keeps only its shard index and layout record).
    assert {
        k for k in layout_target.physical_keys() if not k.startswith(b"trackist_{shards}")
    } == set()


@pytest.mark.layouts("redis")  # inspects classic key names
async def test_delete_all_events_keeps_foreign_keys(bm: Bitmapist, admin: redis.Redis) -> None:
    admin.set("unrelated", "x")
    admin.set("trackistX", "x")
    await bm.mark_event("active", 1, NOV28)
    await bm.delete_all_events()
    assert sorted(admin.keys("*")) == [b"trackistX", b"unrelated"]


async def test_glob_characters_in_prefix_are_escaped(redis_url: str, admin: redis.Redis) -> None:
    admin.set("abc_x_u", "\x80")
    async with Bitmapist(redis_url, key_prefix="a?c_") as bm:
        await bm.mark_unique("x", 0)
        assert await bm.get_event_names() == ["x"]
        await bm.delete_all_events()
    assert admin.keys("*") == [b"abc_x_u"]


async def test_large_ids(bm: Bitmapist) -> None:
    top = 2**32 - 1
    await bm.mark_unique("big", top)
    await bm.mark_unique("big", 0)
    ev = bm.UniqueEvents("big")
    assert await ev.contains(top)
    assert await ev.count() == 2
    await ev.delete()
