"""Every example of bitmapist's README (``/work/shared/seed/bitmapist-README.txt``), unchanged
apart from the import lines, against ``bitmapist_async.compat``.

The README's own slips are fixed where they would not run at all, each with a comment: names it
never imports or defines (``UniqueEvents``, ``mark_unique``, ``dt``, ``cache``,
``add_extra_karma``), ``MonthEvent``/``DailyEvents`` for ``MonthEvents``/``DayEvents``, and
``active`` for ``active_today``. Lines marked "(setup)" put the data in place that the README's
assertions assume; plain asserts after a ``print`` check what it printed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import redis

import bitmapist_async.compat as bitmapist

# README slip: UniqueEvents, mark_unique and unmark_unique are used but missing from its import.
from bitmapist_async.compat import (
    BitOpAnd,
    BitOpOr,
    DayEvents,
    HourEvents,
    MonthEvents,
    UniqueEvents,
    WeekEvents,
    delete_all_events,
    mark_event,
    mark_unique,
    setup_redis,
    unmark_unique,
)


class Cache:
    """README slip: ``cache`` is never defined; a dict with ``set`` stands in."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def set(self, key: str, value: int) -> None:
        self.values[key] = value


def test_readme_examples(admin: redis.Redis, capsys: pytest.CaptureFixture[str]) -> None:
    assert setup_redis is bitmapist.setup_redis  # the README imports it; the fixture called it
    assert delete_all_events is bitmapist.delete_all_events

    # Setting things up:
    now = datetime.now(tz=timezone.utc)
    last_month = now - timedelta(days=30)
    if (last_month.year, last_month.month) == (now.year, now.month):  # (setup) on the 31st
        last_month -= timedelta(days=1)

    # Mark user 123 as active and has played a song:
    mark_event("active", 123)
    mark_event("song:played", 123)

    # Answer if user 123 has been active this month:
    assert 123 in MonthEvents("active", now.year, now.month)
    assert 123 in MonthEvents("song:played", now.year, now.month)
    assert MonthEvents("active", now.year, now.month).has_events_marked() == True  # noqa: E712

    # How many users have been active this week?:
    print(len(WeekEvents("active", now.year, now.isocalendar()[1])))
    iso_year, iso_week, _ = now.isocalendar()
    assert len(WeekEvents("active", iso_year, iso_week)) == 1

    # Iterate over all users active this week:
    for uid in WeekEvents("active"):
        print(uid)
    assert list(WeekEvents("active")) == [123]

    # These two calls are equivalent:
    assert MonthEvents("active") == MonthEvents("active", now.year, now.month)
    # ... and from_date (bitmapist itself reads this line's `now` as an event name and answers
    # False; here from_date on an instance keeps its event name, as the README means):
    assert MonthEvents("active").from_date(now) == MonthEvents("active", now.year, now.month)

    # Get the list of these users (user ids):
    print(list(WeekEvents("active", now.year, now.isocalendar()[1])))
    assert list(WeekEvents("active", iso_year, iso_week)) == [123]

    # prev / next / delta:
    current_month = MonthEvents("active")  # README slip: MonthEvents() (no event name)
    prev_month = current_month.prev()
    next_month = current_month.next()
    year_ago = current_month.delta(-12)
    assert (prev_month.next(), next_month.prev()) == (current_month, current_month)
    assert (year_ago.year, year_ago.month) == (now.year - 1, now.month)

    # period_start / period_end:
    dt = last_month  # README slip: `dt` is never defined
    cache = Cache()
    ev = MonthEvents.from_date("active", dt)  # README slip: MonthEvent('active', dt)
    if ev.period_end() < now:
        cache.set("active_users_<...>", len(ev))
    assert cache.values == {"active_users_<...>": 0}

    # Tracking hourly, as the default:
    bitmapist.TRACK_HOURLY = True
    mark_event("active", 123, track_hourly=False)
    assert 123 not in HourEvents("active", now.year, now.month, now.day, now.hour)
    mark_event("active", 124)  # (setup) the module flag is read at every call
    assert 124 in HourEvents("active", now.year, now.month, now.day, now.hour)
    bitmapist.TRACK_HOURLY = False

    # A/B testing example:
    mark_unique("signup_form:classic", 123)  # (setup)
    mark_unique("signup_form:new", 124)  # (setup)
    active_today = DayEvents("active")  # README slip: DailyEvents
    a = UniqueEvents("signup_form:classic")
    b = UniqueEvents("signup_form:new")
    active = active_today  # README slip: `active` is never defined
    print("Active users, signed up with classic form", len(active & a))
    print("Active users, signed up with new form", len(active & b))
    assert (len(active & a), len(active & b)) == (1, 1)

    # Generic filter example
    def premium_up(uid: int) -> None:
        # called when user promoted to premium
        ...
        mark_unique("premium", uid)

    def premium_down(uid: int) -> None:
        # called when user loses the premium status
        ...
        unmark_unique("premium", uid)

    karma: list[int] = []

    def add_extra_karma(uid: int) -> None:  # README slip: never defined
        karma.append(uid)

    premium_up(123)  # (setup)
    premium_up(124)  # (setup)
    premium_down(124)  # (setup)
    premium_up(999)  # (setup) premium, but not active today

    active_today = DayEvents("active")  # README slip: DailyEvents
    premium = UniqueEvents("premium")
    # Add extra Karma for all premium users active today,
    # just because today is a special day
    for uid in premium & active_today:
        add_extra_karma(uid)
    assert karma == [123]

    # Mark unique event and regular bitmapist events at the same time:
    def premium_up(uid: int) -> None:  # type: ignore[no-redef]
        # called when user promoted to premium
        ...
        mark_event("premium", uid, track_unique=True)

    premium_up(125)  # (setup)
    assert 125 in UniqueEvents("premium")
    assert 125 in DayEvents("premium")

    # How many users that have been active last month are still active this month?
    mark_event("active", 123, now=last_month)  # (setup)
    mark_event("active", 126, now=last_month)  # (setup)
    active_2_months = BitOpAnd(
        MonthEvents("active", last_month.year, last_month.month),
        MonthEvents("active", now.year, now.month),
    )
    print(len(active_2_months))
    assert len(active_2_months) == 1
    # Is 123 active for 2 months?
    assert 123 in active_2_months

    # Standard Python syntax for bitwise operations:
    last_month_event = MonthEvents("active", last_month.year, last_month.month)
    this_month_event = MonthEvents("active", now.year, now.month)
    active_two_months = last_month_event & this_month_event
    assert list(active_two_months) == [123]
    assert list(last_month_event | this_month_event) == [123, 124, 126]
    assert list(last_month_event ^ this_month_event) == [124, 126]
    assert list(this_month_event & ~last_month_event) == [124]

    # Nested bit operations:
    active_2_months = BitOpAnd(
        BitOpAnd(
            MonthEvents("active", last_month.year, last_month.month),
            MonthEvents("active", now.year, now.month),
        ),
        MonthEvents("active", now.year, now.month),
    )
    print(len(active_2_months))
    assert 123 in active_2_months
    assert admin.exists(active_2_months.redis_key)
    # Delete the temporary AND operation
    active_2_months.delete()
    assert not admin.exists(active_2_months.redis_key)
    assert len(BitOpOr(last_month_event, this_month_event)) == 3

    # Remove marked events for a time period:
    last_month_event = MonthEvents("active", last_month.year, last_month.month)
    last_month_event.delete()
    assert len(MonthEvents("active", last_month.year, last_month.month)) == 0

    # Remove all bitmapist events:
    bitmapist.delete_all_events()
    assert admin.keys("trackist_*") == []

    # Deleting the results of bit operations:
    mark_event("active", 123, now=last_month)  # (setup)
    mark_event("active", 123)  # (setup)
    active_2_months = BitOpAnd(
        MonthEvents("active", last_month.year, last_month.month),
        MonthEvents("active", now.year, now.month),
    )
    # Delete the temporary AND operation
    active_2_months.delete()
    assert not admin.exists(active_2_months.redis_key)

    active_2_months = BitOpAnd(  # (setup) another result, for the next line to delete
        MonthEvents("active", last_month.year, last_month.month),
        MonthEvents("active", now.year, now.month),
    )
    assert admin.exists(active_2_months.redis_key)
    # delete all bit operations created in runtime up to this point
    bitmapist.delete_runtime_bitop_keys()
    assert admin.keys("trackist_bitop_*") == []

    BitOpOr(this_month_event, last_month_event)  # (setup)
    assert admin.keys("trackist_bitop_*") != []
    # delete all bit operations (slow if you have many millions of keys in Redis)
    bitmapist.delete_temporary_bitop_keys()
    assert admin.keys("trackist_bitop_*") == []

    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == "123"  # the loop over this week's users
    assert "Active users, signed up with classic form 1" in printed
    assert "Active users, signed up with new form 1" in printed


def test_readme_cohort_example() -> None:
    """The cohort example (``from bitmapist import cohort``); runs once ``compat.cohort``
    exists."""
    cohort: Any = pytest.importorskip("bitmapist_async.compat.cohort")
    mark_event("user:active", 1)  # (setup)
    mark_event("task:complete", 1)  # (setup)

    html_form = cohort.render_html_form(
        action_url="/_Cohort",
        selections1=[
            ("Are Active", "user:active"),
        ],
        selections2=[
            ("Task completed", "task:complete"),
        ],
    )
    print(html_form)

    dates_data = cohort.get_dates_data(
        select1="user:active", select2="task:complete", time_group="days"
    )

    html_data = cohort.render_html_data(dates_data, time_group="days")
    print(html_data)

    assert "user:active" in html_form
    assert "Task completed" in html_form
    assert dates_data[-1][1:3] == [1, 100.0]  # today's cohort: one user, all did the task
    assert "100" in html_data
