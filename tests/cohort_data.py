"""Deterministic event data for the cohort tests, written in one pipeline, with its set model."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

__all__ = ("EventModel", "Mark", "synthetic_marks")

EVENTS = ("active", "web", "ios", "song:play", "country:US")


@dataclass(frozen=True)
class Mark:
    event: str
    uid: int
    day: date


def synthetic_marks(
    first: date, days: int, users: int, seed: int = 86, events: Iterable[str] = EVENTS
) -> list[Mark]:
    """Every user does each event on a given day with a probability of its own."""
    rng = random.Random(seed)
    names = tuple(events)
    odds = {name: rng.uniform(0.05, 0.35) for name in names}
    marks = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for uid in range(users):
            for name in names:
                if rng.random() < odds[name]:
                    marks.append(Mark(name, uid, day))
    return marks


def when(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


@dataclass
class EventModel:
    """Who did what on which day, as Python sets."""

    days: dict[tuple[str, date], set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, marks: Iterable[Mark]) -> EventModel:
        for mark in marks:
            self.days[mark.event, mark.day].add(mark.uid)
        return self

    def users(self, event: str, start: date, end: date) -> set[int]:
        """Users who did *event* on a day in ``[start, end)``."""
        found: set[int] = set()
        day = start
        while day < end:
            found |= self.days.get((event, day), set())
            day += timedelta(days=1)
        return found


#: First day of the synthetic data: up to 2026-04, across months and the 2025/2026 ISO
#: week turn.
FIRST_DAY = date(2025, 9, 20)

#: ``get_dates_data`` keyword arguments, one table each, compared with bitmapist 3.119's
#: tables by the native and the compat tests: every time group, with and without
#: ``start_date``, b-selections and the ``active_web_ios`` handler.
BITMAPIST_CASES: list[dict[str, Any]] = [
    {"select1": "active", "select2": "song:play", "num_results": 20, "start_date": "2025-12-20"},
    {
        "select1": "active",
        "select1b": "country:US",
        "select2": "active",
        "time_group": "weeks",
        "as_percent": False,
        "num_results": 10,
        "num_of_rows": 6,
        "start_date": "2025-12-01",
    },
    {
        "select1": "web",
        "select2": "active",
        "select2b": "ios",
        "time_group": "months",
        "num_results": 5,
        "num_of_rows": 3,
        "start_date": "2025-10-31",
    },
    {
        "select1": "active",
        "select2": "web",
        "time_group": "years",
        "num_results": 31,
        "num_of_rows": 2,
        "start_date": "2025-06-01",
    },
    {
        "select1": "active_web_ios",
        "select2": "song:play",
        "num_results": 7,
        "num_of_rows": 5,
        "start_date": "2026-01-03",
        "as_percent": False,
    },
    {"select1": "country:US", "select2": "ios", "time_group": "weeks", "num_results": 4},
    {"select1": "recent", "select2": "recent"},
    {"select1": "recent", "select2": "recent", "time_group": "weeks", "num_results": 6},
    {"select1": "recent", "select2": "recent", "time_group": "months", "num_results": 3},
    {"select1": "recent", "select2": "recent", "time_group": "years", "as_percent": False},
]
