"""Bad input fails at the call with a typed error naming the value, before any I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bitmapist_async import Bitmapist

from ..conftest import CommandLog

# Validation happens before any I/O, whatever the layout.
pytestmark = pytest.mark.layouts("redis")


@pytest.mark.parametrize(
    ("uid", "error", "shown"),
    [
        (True, TypeError, "True"),
        (1.0, TypeError, "1.0"),
        ("12", TypeError, "'12'"),
        (None, TypeError, "None"),
        (-1, ValueError, "-1"),
        (2**32, ValueError, "4294967296"),
    ],
)
async def test_bad_user_ids(bm: Bitmapist, uid: Any, error: type[Exception], shown: str) -> None:
    with pytest.raises(error, match=shown):
        await bm.mark_event("active", uid)
    with pytest.raises(error, match=shown):
        await bm.mark_unique("active", uid)
    with pytest.raises(error, match=shown):
        await bm.UniqueEvents("active").contains(uid)


@pytest.mark.parametrize(
    ("name", "error", "shown"),
    [
        ("", ValueError, "''"),
        (None, TypeError, "None"),
        (b"active", TypeError, "b'active'"),
        (7, TypeError, "7"),
        ("bitop_x", ValueError, "'bitop_x'"),
        ("bad\ud800", ValueError, "lone surrogate"),
        ("\udcff", ValueError, "'\\\\udcff'"),
    ],
)
async def test_bad_event_names(
    bm: Bitmapist, name: Any, error: type[Exception], shown: str
) -> None:
    with pytest.raises(error, match=shown):
        await bm.mark_event(name, 1)
    with pytest.raises(error, match=shown):
        bm.MonthEvents(name, 2026, 1)
    with pytest.raises(error, match=shown):
        bm.UniqueEvents(name)
    with pytest.raises(error, match=shown):
        await bm.mark_unique(name, 1)
    with pytest.raises(error, match=shown):
        await bm.unmark_event(name, 1, datetime(2026, 12, 1, tzinfo=timezone.utc))
    with pytest.raises(error, match=shown):
        async with bm.batch():
            await bm.mark_event(name, 1)


async def test_an_unencodable_prefix_is_refused(bm: Bitmapist, redis_url: str) -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        await bm.get_event_names("x\ud800")
    with pytest.raises(ValueError, match="lone surrogate"):
        Bitmapist(redis_url, key_prefix="t\ud800_")


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda bm: bm.DayEvents("a", 9999, 12, 31).next(), "DayPeriod\\(year=9999, month=12"),
        (lambda bm: bm.DayEvents("a", 1, 1, 1).prev(), "DayPeriod\\(year=1, month=1, day=1\\)"),
        (lambda bm: bm.HourEvents("a", 9999, 12, 31, 23).delta(1), "hour=23\\) shifted by \\+1"),
        (lambda bm: bm.WeekEvents("a", 9999, 52).next(), "WeekPeriod\\(year=9999, week=52\\)"),
        (lambda bm: bm.MonthEvents("a", 9999, 12).delta(1), "MonthPeriod\\(year=9999, month=12"),
        (lambda bm: bm.YearEvents("a", 1).prev(), "YearPeriod\\(year=1\\)"),
        (lambda bm: bm.DayEvents("a", 2026, 1, 1).delta(10**9), "shifted by \\+1000000000"),
    ],
)
async def test_shifts_past_the_calendar(bm: Bitmapist, make: Any, shown: str) -> None:
    with pytest.raises(ValueError, match=shown):
        make(bm)


async def test_instants_past_the_calendar_in_the_clients_zone(bm: Bitmapist) -> None:
    early = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))
    late = datetime.max.replace(tzinfo=timezone(timedelta(hours=-5)))
    for moment in (early, late):
        with pytest.raises(ValueError, match="outside the calendar"):
            await bm.mark_event("a", 1, moment)
        with pytest.raises(ValueError, match="outside the calendar"):
            bm.DayEvents.from_date("a", moment)
    assert bm.WeekEvents("a", 9999, 52).period_end().year == 9999


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda bm: bm.MonthEvents("a", 2026, 13), "month month must be in \\[1, 12\\], got 13"),
        (lambda bm: bm.MonthEvents("a", 2026, 0), "got 0"),
        (lambda bm: bm.WeekEvents("a", 2026, 54), "week week must be in \\[1, 53\\], got 54"),
        (lambda bm: bm.WeekEvents("a", 2025, 53), "week week must be in \\[1, 52\\], got 53"),
        (lambda bm: bm.DayEvents("a", 2026, 2, 29), "got 29"),
        (lambda bm: bm.HourEvents("a", 2026, 1, 1, 24), "hour hour must be in \\[0, 23\\], got 24"),
        (lambda bm: bm.YearEvents("a", 0), "got 0"),
        (lambda bm: bm.MonthEvents("a", "2026", 1), "'2026'"),
        (lambda bm: bm.DayEvents("a", 2026, 1, True), "True"),
        (lambda bm: bm.MonthEvents("a", 2026, 1).delta(1.5), "1.5"),
    ],
)
async def test_impossible_periods(bm: Bitmapist, make: Any, shown: str) -> None:
    with pytest.raises((TypeError, ValueError), match=shown):
        make(bm)


async def test_bad_datetimes(bm: Bitmapist) -> None:
    with pytest.raises(TypeError, match="'2026-01-01'"):
        await bm.mark_event("a", 1, "2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="1700000000"):
        bm.DayEvents.from_date("a", 1700000000)  # type: ignore[arg-type]


async def test_bad_flags_and_options(bm: Bitmapist, redis_url: str) -> None:
    with pytest.raises(TypeError, match="track_hourly must be a bool, got 1"):
        await bm.mark_event("a", 1, track_hourly=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tz"):
        Bitmapist(redis_url, tz="UTC")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key_prefix"):
        Bitmapist(redis_url, key_prefix="")
    with pytest.raises(ValueError, match="bitop_ttl"):
        Bitmapist(redis_url, bitop_ttl=0)


async def test_bad_input_sends_nothing(bm: Bitmapist, command_log: CommandLog) -> None:
    start = command_log.mark()
    for bad in (-1, True, "x"):
        with pytest.raises((TypeError, ValueError)):
            await bm.mark_event("a", bad, datetime(2026, 1, 1, tzinfo=timezone.utc))  # type: ignore[arg-type]
    await bm.mark_unique("marker", 1)
    await bm.flush()
    await bm.UniqueEvents("end-marker").contains(0)
    sent = command_log.wait_for(["GETBIT", "trackist_end-marker_u", "0"], start)
    assert sent == [["SETBIT", "trackist_marker_u", "1", "1"]]


async def test_closed_client_refuses_writes(redis_url: str) -> None:
    from bitmapist_async import ClientClosedError

    bm = Bitmapist(redis_url)
    await bm.aclose()
    await bm.aclose()
    assert bm.closed
    with pytest.raises(ClientClosedError):
        await bm.mark_event("a", 1)
    # Queries too, on every backend: a closed Redis client used to reopen connections for
    # them, which no later aclose() closed.
    for query in (bm.DayEvents("a").count, bm.get_event_names, bm.delete_all_events, bm.ping):
        with pytest.raises(ClientClosedError):
            await query()
