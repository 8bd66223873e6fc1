# This file is generated from tests/_async/test_seed_readme.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Every documented call of bitmapist's README, in its async form."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import redis

from bitmapist_async.sync import Bitmapist, BitOpAnd, BitOpOr

pytestmark = pytest.mark.layouts("redis")  # inspects classic key names


def test_readme_walkthrough(bm: Bitmapist, admin: redis.Redis) -> None:
    now = datetime.now(tz=timezone.utc)
    last_month = now - timedelta(days=30)

    # Mark user 123 as active and has played a song
    bm.mark_event("active", 123)
    bm.mark_event("song:played", 123)

    # Answer if user 123 has been active this month
    assert bm.MonthEvents("active", now.year, now.month).contains(123)
    assert bm.MonthEvents("song:played", now.year, now.month).contains(123)
    assert bm.MonthEvents("active", now.year, now.month).has_events_marked() is True

    # How many users have been active this week?
    iso_year, iso_week, _ = now.isocalendar()
    assert bm.WeekEvents("active", iso_year, iso_week).count() == 1

    # Iterate over all users active this week
    assert [uid for uid in bm.WeekEvents("active")] == [123]

    # Current events: omitted fields are the current period
    assert bm.MonthEvents("active") == bm.MonthEvents("active", now.year, now.month)
    assert bm.MonthEvents.from_date("active", now) == bm.MonthEvents("active", now.year, now.month)

    # Get the list of these users
    assert bm.WeekEvents("active", iso_year, iso_week).ids() == [123]

    # prev / next / delta
    current_month = bm.MonthEvents("active")
    assert current_month.prev().next() == current_month
    assert current_month.delta(-12) == bm.MonthEvents("active", now.year - 1, now.month)

    # period_start / period_end for caching decisions
    ev = bm.MonthEvents.from_date("active", last_month)
    assert ev.period_end() < now or ev.period_start() <= now

    # Hourly tracking: off by default, on per call or per client
    bm.mark_event("active", 124, track_hourly=False)
    assert not bm.HourEvents("active").contains(124)
    bm.mark_event("active", 125, track_hourly=True)
    assert bm.HourEvents("active").contains(125)

    # Unique events, A/B testing
    bm.mark_unique("signup_form:classic", 123)
    bm.mark_unique("signup_form:new", 124)
    active = bm.DayEvents("active")
    a = bm.UniqueEvents("signup_form:classic")
    b = bm.UniqueEvents("signup_form:new")
    assert (active & a).count() == 1
    assert (active & b).count() == 1

    # Generic filter: premium_up / premium_down
    bm.mark_unique("premium", 123)
    bm.mark_unique("premium", 125)
    bm.unmark_unique("premium", 125)
    premium = bm.UniqueEvents("premium")
    assert [uid for uid in premium & bm.DayEvents("active")] == [123]

    # Mark unique and regular events at once
    bm.mark_event("premium", 126, track_unique=True)
    assert premium.contains(126)
    assert bm.DayEvents("premium").contains(126)

    # Retention: active last month and this month
    bm.mark_event("active", 123, last_month)
    active_2_months = BitOpAnd(
        bm.MonthEvents("active", last_month.year, last_month.month),
        bm.MonthEvents("active", now.year, now.month),
    )
    assert active_2_months.count() == 1
    assert active_2_months.contains(123)

    last_month_event = bm.MonthEvents("active", last_month.year, last_month.month)
    this_month_event = bm.MonthEvents("active", now.year, now.month)
    active_two_months = last_month_event & this_month_event
    assert active_two_months.ids() == [123]
    assert (last_month_event | this_month_event).count() == 3
    assert (last_month_event ^ this_month_event).count() == 2
    assert (this_month_event & ~last_month_event).ids() == [124, 125]

    # Nested bit operations
    nested = BitOpAnd(
        BitOpAnd(
            bm.MonthEvents("active", last_month.year, last_month.month),
            bm.MonthEvents("active", now.year, now.month),
        ),
        bm.MonthEvents("active", now.year, now.month),
    )
    assert nested.count() == 1
    assert nested.contains(123)
    nested.delete()
    assert not admin.exists(nested.redis_key)
    assert BitOpOr(last_month_event, this_month_event).count() == 3

    # Delete a period's events
    last_month_event.delete()
    assert last_month_event.count() == 0

    # Temporary bit-op keys, then everything
    active_2_months.store()
    bm.delete_temporary_bitop_keys()
    assert admin.keys("trackist_bitop_*") == []
    bm.delete_all_events()
    assert admin.keys("trackist_*") == []
