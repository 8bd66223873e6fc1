"""What bitmapist 3.x's own test suite checks, run against ``bitmapist_async.compat``.

Ported from bitmapist's ``test_bitmapist.py``, ``test_from_date.py``, ``test_period_start_end.py``,
``test_delta_methods.py``, ``test_equality.py`` and ``test_unique_events.py`` (rewritten, same
behaviours), plus the eager meaning of bit operations those tests rely on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import pytest
import redis

import bitmapist_async.compat as bitmapist
from bitmapist_async.compat import (
    BitOpAnd,
    BitOpNot,
    BitOpOr,
    BitOpXor,
    DayEvents,
    GenericPeriodEvents,
    HourEvents,
    MonthEvents,
    UniqueEvents,
    WeekEvents,
    YearEvents,
    get_event_names,
    mark_event,
    mark_unique,
    unmark_event,
)

from ..servers import RedisProcess, redis_server_binary


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def month_back(now: datetime) -> datetime:
    """30 days back, moved into the previous month when that is still this month (the 31st)."""
    last = now - timedelta(days=30)
    return last - timedelta(days=1) if last.month == now.month else last


@pytest.fixture(scope="module")
def second_server() -> Iterator[RedisProcess]:
    """Another private redis-server, to tell systems apart (bitmapist's tests use db=1)."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server not found")
    server = RedisProcess(binary).start()
    yield server
    server.stop()


# -- marking and reading ------------------------------------------------------------------------


def test_mark_with_diff_days() -> None:
    mark_event("active", 123, track_hourly=True)
    now = utcnow()
    iso_year, iso_week, _ = now.isocalendar()
    hour_ago = now - timedelta(hours=1)

    assert 123 in MonthEvents("active", now.year, now.month)
    assert 124 not in MonthEvents("active", now.year, now.month)
    assert 123 in WeekEvents("active", iso_year, iso_week)
    assert 124 not in WeekEvents("active", iso_year, iso_week)
    assert 123 in DayEvents("active", now.year, now.month, now.day)
    assert 124 not in DayEvents("active", now.year, now.month, now.day)
    assert 123 in HourEvents("active", now.year, now.month, now.day, now.hour)
    assert 124 not in HourEvents("active", now.year, now.month, now.day, now.hour)
    assert 123 not in HourEvents.from_date("active", hour_ago)


def test_mark_unmark() -> None:
    now = utcnow()
    mark_event("active", 125)
    assert 125 in MonthEvents("active", now.year, now.month)
    unmark_event("active", 125)
    assert 125 not in MonthEvents("active", now.year, now.month)


def test_mark_counts() -> None:
    now = utcnow()
    assert MonthEvents("active", now.year, now.month).get_count() == 0
    mark_event("active", 123)
    mark_event("active", 23232)
    assert len(MonthEvents("active", now.year, now.month)) == 2


def test_mark_iter() -> None:
    now = utcnow()
    ev = MonthEvents("active", now.year, now.month)
    assert list(ev) == []
    for uid in (5, 55, 555, 5555):
        mark_event("active", uid)
    assert list(ev) == [5, 55, 555, 5555]
    assert list(ev.get_uuids()) == [5, 55, 555, 5555]


def test_different_dates() -> None:
    now = utcnow()
    yesterday = now - timedelta(days=1)
    mark_event("active", 123, now=now)
    mark_event("active", 23232, now=yesterday)
    assert DayEvents("active", now.year, now.month, now.day).get_count() == 1
    assert DayEvents("active", yesterday.year, yesterday.month, yesterday.day).get_count() == 1


def test_different_buckets() -> None:
    now = utcnow()
    mark_event("active", 123)
    mark_event("tasks:completed", 23232)
    assert MonthEvents("active", now.year, now.month).get_count() == 1
    assert MonthEvents("tasks:completed", now.year, now.month).get_count() == 1


def test_events_marked() -> None:
    now = utcnow()
    assert MonthEvents("active", now.year, now.month).get_count() == 0
    assert MonthEvents("active", now.year, now.month).has_events_marked() is False
    mark_event("active", 123, now=now)
    assert MonthEvents("active", now.year, now.month).get_count() == 1
    assert MonthEvents("active", now.year, now.month).has_events_marked() is True


def test_module_flags_are_read_at_call_time() -> None:
    when = datetime(2026, 11, 28, 13, tzinfo=timezone.utc)
    mark_event("a", 1, now=when)
    bitmapist.TRACK_HOURLY = True
    bitmapist.TRACK_UNIQUE = True
    mark_event("a", 2, now=when)
    mark_event("a", 3, now=when, track_hourly=False, track_unique=False)
    bitmapist.TRACK_HOURLY = False
    bitmapist.TRACK_UNIQUE = False
    mark_event("a", 4, now=when)
    assert list(DayEvents("a", 2026, 11, 28)) == [1, 2, 3, 4]
    assert list(HourEvents("a", 2026, 11, 28, 13)) == [2]
    assert list(UniqueEvents("a")) == [2]


# -- bit operations ------------------------------------------------------------------------------


def test_bit_operations(compat_default: str) -> None:
    url = urlparse(compat_default)
    assert url.hostname is not None
    assert url.port is not None
    bitmapist.setup_redis("default_copy", url.hostname, url.port)
    now = utcnow()
    last_month = month_back(now)
    mark_event("active", 123, now=now)
    mark_event("active", 123, now=last_month)
    mark_event("active", 224, now=last_month)

    assert MonthEvents("active", last_month.year, last_month.month).get_count() == 2
    assert MonthEvents("active", now.year, now.month).get_count() == 1

    active_2_months = BitOpAnd(
        MonthEvents("active", last_month.year, last_month.month),
        MonthEvents("active", now.year, now.month),
    )
    assert active_2_months.get_count() == 1
    assert 123 in active_2_months
    assert 224 not in active_2_months
    active_2_months.delete()

    assert (
        BitOpOr(
            MonthEvents("active", last_month.year, last_month.month),
            MonthEvents("active", now.year, now.month),
        ).get_count()
        == 2
    )

    # A different system, named first.
    active_2_months = BitOpAnd(
        "default_copy",
        MonthEvents("active", last_month.year, last_month.month),
        MonthEvents("active", now.year, now.month),
    )
    assert active_2_months.get_count() == 1
    assert active_2_months.system == "default_copy"
    active_2_months.delete()

    # Nested operations.
    active_2_months = BitOpAnd(
        BitOpAnd(
            MonthEvents("active", last_month.year, last_month.month),
            MonthEvents("active", now.year, now.month),
        ),
        MonthEvents("active", now.year, now.month),
    )
    assert 123 in active_2_months
    assert 224 not in active_2_months
    active_2_months.delete()


def test_bit_operations_complex() -> None:
    now = utcnow()
    tomorrow = now + timedelta(days=1)
    for task in ("task1", "task2"):
        for uid in (111, 222):
            mark_event(task, uid, now=now)
            mark_event(task, uid, now=tomorrow)
    now_events = BitOpAnd(DayEvents.from_date("task1", now), DayEvents.from_date("task2", now))
    tom_events = BitOpAnd(
        DayEvents.from_date("task1", tomorrow), DayEvents.from_date("task2", tomorrow)
    )
    both_events = BitOpAnd(now_events, tom_events)
    assert len(now_events) == len(tom_events) == len(both_events) == 2


def test_bitop_key_sharing(admin: redis.Redis) -> None:
    today = utcnow()
    for task in ("task1", "task2"):
        for uid in (111, 222):
            mark_event(task, uid, now=today)
    ev1_both = BitOpAnd(DayEvents.from_date("task1", today), DayEvents.from_date("task2", today))
    ev2_both = BitOpAnd(DayEvents.from_date("task1", today), DayEvents.from_date("task2", today))
    assert ev1_both.redis_key == ev2_both.redis_key
    assert len(ev1_both) == len(ev2_both) == 2
    ev1_both.delete()
    assert not admin.exists(ev1_both.redis_key)
    assert len(ev1_both) == len(ev2_both) == 0  # reads the stored result, as bitmapist does


def test_bit_operations_magic() -> None:
    mark_event("foo", 1)
    mark_event("foo", 2)
    mark_event("bar", 2)
    mark_event("bar", 3)
    foo = DayEvents("foo")
    bar = DayEvents("bar")
    assert list(foo & bar) == [2]
    assert list(foo | bar) == [1, 2, 3]
    assert list(foo ^ bar) == [1, 3]
    assert list(~foo & bar) == [3]
    assert list(~foo) == [0, 3, 4, 5, 6, 7]  # NOT within foo's own byte, like Redis
    assert list(BitOpNot(foo)) == [0, 3, 4, 5, 6, 7]
    assert list(BitOpXor(foo, bar, DayEvents("nothing"))) == [1, 3]


def test_bit_operations_are_eager_and_named_like_bitmapist(admin: redis.Redis) -> None:
    when = datetime(2026, 11, 28, tzinfo=timezone.utc)
    mark_event("a", 1, now=when)
    mark_event("b", 1, now=when)
    a, b = DayEvents.from_date("a", when), DayEvents.from_date("b", when)
    both = a & b
    assert both.redis_key == "trackist_bitop_AND_trackist_a_2026-11-28-trackist_b_2026-11-28"
    assert admin.get(both.redis_key) == b"\x40"  # stored at construction
    nested = BitOpOr(both, ~a)
    assert nested.redis_key == (
        f"trackist_bitop_OR_{both.redis_key}-trackist_bitop_NOT_trackist_a_2026-11-28"
    )
    assert admin.exists(nested.redis_key)
    # A snapshot, like bitmapist's: later marks show once the operation is built again.
    mark_event("a", 2, now=when)
    mark_event("b", 2, now=when)
    assert list(both) == [1]
    assert list(a & b) == [1, 2]
    assert list(both) == [1, 2]  # same key: rebuilt


def test_different_systems_need_a_system_first(second_server: RedisProcess) -> None:
    bitmapist.setup_redis("other", "127.0.0.1", second_server.port)
    try:
        with pytest.raises(ValueError, match="different systems"):
            BitOpAnd(DayEvents("a"), DayEvents("a", system="other"))
        mark_event("a", 7, system="other")
        both = BitOpOr("other", DayEvents("a"), DayEvents("b"))
        assert both.system == "other"
        assert list(both) == [7]
        assert list(DayEvents("a", system="other") | DayEvents("b", system="other")) == [7]
    finally:
        bitmapist.delete_all_events("other")


def test_year_events(second_server: RedisProcess) -> None:
    bitmapist.setup_redis("db1", "127.0.0.1", second_server.port)
    try:
        mark_event("foo", 1, system="db1")
        assert 1 in YearEvents("foo", system="db1")
        assert 1 not in YearEvents("foo")
        now = utcnow()
        mark_event("foo", 2, now=datetime(now.year, 1, 31, tzinfo=timezone.utc))
        mark_event("foo", 3, now=datetime(now.year, 12, 1, tzinfo=timezone.utc))
        mark_event("foo", 4, now=datetime(now.year + 1, 1, 1, tzinfo=timezone.utc))
        year = YearEvents("foo")
        assert list(year) == [2, 3]
        assert year.redis_key.startswith(f"trackist_bitop_OR_trackist_foo_{now.year}-1-")
        assert list(year.next()) == [4]
    finally:
        bitmapist.delete_all_events("db1")


# -- event names -------------------------------------------------------------------------------


def test_get_event_names() -> None:
    event_names = {"foo", "bar", "baz", "spam", "egg"}
    for e in event_names:
        mark_event(e, 1)
    BitOpAnd(DayEvents("foo"), DayEvents("bar"))
    assert set(get_event_names(batch=2)) == event_names


def test_get_event_names_prefix() -> None:
    event_names = {"foo", "bar", "baz", "spam", "egg"}
    for e in event_names:
        mark_event(e, 1)
    BitOpAnd(DayEvents("foo"), DayEvents("bar"))
    assert set(get_event_names(prefix="b", batch=2)) == {"bar", "baz"}


# -- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (YearEvents, (2014,)),
        (MonthEvents, (2014, 1)),
        (WeekEvents, (2014, 1)),
        (DayEvents, (2014, 1, 1)),
        (HourEvents, (2014, 1, 1, 1)),
    ],
)
def test_from_date(cls: type[GenericPeriodEvents], fields: tuple[int, ...]) -> None:
    ev1 = cls.from_date("foo", datetime(2014, 1, 1, 1))
    ev2 = cls("foo", *fields)  # type: ignore[call-arg]
    assert ev1 == ev2
    assert ev1.from_date(datetime(2014, 1, 1, 1)) == ev2  # on an instance: same event name


@pytest.mark.parametrize("cls", [HourEvents, DayEvents, WeekEvents, MonthEvents, YearEvents])
def test_period_start_end(cls: type[GenericPeriodEvents]) -> None:
    dt = datetime(2014, 1, 1, 8, 30, tzinfo=timezone.utc)
    ev = cls.from_date("foo", dt)
    assert ev.period_start() <= dt <= ev.period_end()
    assert ev.period_start().tzinfo is timezone.utc
    assert ev.next().period_start() - ev.period_end() == timedelta(microseconds=1)


def test_period_bounds() -> None:
    assert WeekEvents("foo", 2014, 1).period_start() == datetime(2013, 12, 30, tzinfo=timezone.utc)
    assert MonthEvents("foo", 2024, 2).period_end() == datetime(
        2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone.utc
    )


def test_delta() -> None:
    hour = HourEvents("foo", 2014, 1, 1, 0)
    assert (hour.next().year, hour.next().month, hour.next().day, hour.next().hour) == (
        2014,
        1,
        1,
        1,
    )
    assert (hour.prev().year, hour.prev().month, hour.prev().day, hour.prev().hour) == (
        2013,
        12,
        31,
        23,
    )
    day = DayEvents("foo", 2014, 1, 1)
    assert (day.next().year, day.next().month, day.next().day) == (2014, 1, 2)
    assert (day.prev().year, day.prev().month, day.prev().day) == (2013, 12, 31)
    week = WeekEvents("foo", 2014, 1)
    assert (week.next().year, week.next().week) == (2014, 2)
    assert (week.prev().year, week.prev().week) == (2013, 52)
    month = MonthEvents("foo", 2014, 1)
    assert (month.next().year, month.next().month) == (2014, 2)
    assert (month.prev().year, month.prev().month) == (2013, 12)
    assert (month.delta(-13).year, month.delta(-13).month) == (2012, 12)
    year = YearEvents("foo", 2014)
    assert year.next().year == 2015
    assert year.prev().year == 2013


def test_constructors_keep_the_system_positional() -> None:
    # bitmapist's cohort module builds events as cls(name, *fields, system).
    assert MonthEvents("foo", 2014, 1, "default").system == "default"
    assert DayEvents("foo", 2014, 1, 2, "default").next().system == "default"
    assert UniqueEvents("foo", "default").system == "default"


# -- equality --------------------------------------------------------------------------------------


def test_equality() -> None:
    ev1 = YearEvents("foo", 2014)
    ev2 = YearEvents("foo", 2014)
    ev3 = YearEvents("foo", 2015)
    assert ev1 == ev2
    assert ev1 != ev3
    assert len({ev1, ev2, ev3}) == 2
    assert MonthEvents("foo", 2014, 1) == MonthEvents.from_date("foo", datetime(2014, 1, 31))
    assert MonthEvents("foo", 2014, 1) != DayEvents("foo", 2014, 1, 1)
    assert MonthEvents("foo", 2014, 1) != "trackist_foo_2014-1"


# -- unique events -------------------------------------------------------------------------------


def test_unique_mark_unmark() -> None:
    ev = UniqueEvents("foo")
    mark_unique("foo", 1)
    assert 1 in ev
    assert 2 not in ev
    bitmapist.unmark_unique("foo", 1)
    assert 1 not in ev
    assert ev.next() is ev
    assert ev.prev() is ev
    assert UniqueEvents.from_date("foo", utcnow()) == ev


def test_unique_ops() -> None:
    for uid in (1, 2):
        mark_unique("foo", uid)
    for uid in (2, 3):
        mark_unique("bar", uid)
    foo, bar = UniqueEvents("foo"), UniqueEvents("bar")
    assert list(foo & bar) == [2]
    assert list(foo | bar) == [1, 2, 3]


def test_unique_ops_with_dates() -> None:
    mark_event("active", 1)
    mark_event("active", 2)
    mark_unique("foo", 2)
    mark_unique("foo", 3)
    foo = UniqueEvents("foo")
    active = DayEvents("active")
    assert list(foo & active) == [2]
    assert list(foo | active) == [1, 2, 3]
    assert list(foo & active.prev()) == []
    assert list(foo | active.prev()) == [2, 3]


def test_track_unique() -> None:
    mark_event("foo", 1, track_unique=True)
    mark_event("foo", 2, track_unique=False)
    assert list(DayEvents("foo")) == [1, 2]
    assert list(UniqueEvents("foo")) == [1]
