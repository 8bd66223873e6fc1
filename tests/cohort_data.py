"""Deterministic event data for the cohort tests, written in one pipeline, with its set model."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

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
