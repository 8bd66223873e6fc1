"""The same bitmapist program, run by bitmapist 3.119 and by ``bitmapist_async.compat``, leaves
the same keys with the same bitmaps and gets the same answers.

Each script is run twice on an empty keyspace: once by bitmapist 3.119 in its own virtualenv
(its MULTI/EXEC left out of the grammar check), once in this process with ``import bitmapist``
resolving to ``bitmapist_async.compat`` (grammar-checked like every other test).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
import redis

import bitmapist_async.compat as compat

Runner = Callable[[str], Any]

PROGRAM = """
from datetime import datetime, timedelta, timezone
import bitmapist
from bitmapist import (
    BitOpAnd, BitOpNot, BitOpOr, BitOpXor, DayEvents, HourEvents, MonthEvents, UniqueEvents,
    WeekEvents, YearEvents, get_event_names, mark_event, mark_unique, unmark_event,
    unmark_unique,
)

when = datetime(2026, 11, 28, 13, 30, tzinfo=timezone.utc)
# Wall clock 1 December in UTC+1, still 30 November in UTC: keys follow the wall clock.
east = datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
naive = datetime(2026, 12, 31, 23, 59)

for uid in (1, 17, 300, 4096):
    mark_event("active", uid, now=when, track_hourly=True)
mark_event("active", 2, now=east)
mark_event("active", 9, now=naive)
mark_event("song:played", 17, now=when, track_unique=True)
bitmapist.TRACK_HOURLY = True
mark_event("song:played", 300, now=when)
bitmapist.TRACK_HOURLY = False
bitmapist.TRACK_UNIQUE = True
mark_event("song:played", 1, now=when)
bitmapist.TRACK_UNIQUE = False
unmark_event("active", 4096, now=when)
mark_unique("premium", 17)
mark_unique("premium", 1)
unmark_unique("premium", 1)

# Pipelines passed as the system; the caller executes them.
pipe = bitmapist.get_redis("default").pipeline(transaction=False)
mark_event("piped", 5, system=pipe, now=when, use_pipeline=False)
mark_unique("piped", 6, system=pipe)
queued = [5 in MonthEvents("piped", 2026, 11), 6 in UniqueEvents("piped")]
pipe.execute()
executed = [5 in MonthEvents("piped", 2026, 11), 6 in UniqueEvents("piped")]
mark_event("at-once", 7, system=pipe, now=when)
at_once = 7 in DayEvents("at-once", 2026, 11, 28)

nov, dec = MonthEvents("active", 2026, 11), MonthEvents("active", 2026, 12)
ops = {
    "and": BitOpAnd(nov, UniqueEvents("premium")),
    "or": nov | dec,
    "xor": BitOpXor(nov, UniqueEvents("song:played")),
    "not": ~UniqueEvents("premium"),
    "not2": BitOpNot("default", dec),
    "nested": BitOpAnd(BitOpOr(nov, dec), UniqueEvents("song:played")),
    "system-first": BitOpOr("default", nov, dec, UniqueEvents("premium")),
    "year": YearEvents("active", 2026),
    "year-empty": YearEvents("active", 2025),
}
periods = [
    YearEvents("x", 2024), MonthEvents("x", 2024, 2), WeekEvents("x", 2026, 1),
    DayEvents("x", 2026, 3, 1), HourEvents("x", 2026, 3, 29, 23),
]
result = {
    "events": {
        ev.redis_key: [list(ev), len(ev), ev.get_count(), ev.has_events_marked(), 17 in ev]
        for ev in [
            nov, dec, DayEvents("active", 2026, 12, 1), DayEvents("active", 2026, 11, 30),
            DayEvents("active", 2026, 12, 31), WeekEvents("active", 2026, 53),
            HourEvents("active", 2026, 11, 28, 13), HourEvents("song:played", 2026, 11, 28, 13),
            WeekEvents("active", 2026, 48), UniqueEvents("premium"),
            UniqueEvents("song:played"), MonthEvents("nothing", 2026, 11),
        ]
    },
    "ops": {
        name: [op.redis_key, list(op), len(op), op.has_events_marked(), 17 in op]
        for name, op in ops.items()
    },
    "same-key": (nov & dec).redis_key == BitOpAnd(nov, dec).redis_key,
    "names": sorted(get_event_names()),
    "names-s": sorted(get_event_names(prefix="s", batch=2)),
    "periods": [
        [str(p.period_start()), str(p.period_end()), p.prev().redis_key, p.next().redis_key,
         p.delta(-3).redis_key]
        for p in periods
    ],
    "from_date": [
        cls.from_date("x", when).redis_key
        for cls in (YearEvents, MonthEvents, WeekEvents, DayEvents, HourEvents, UniqueEvents)
    ],
    "equal": [
        MonthEvents("x", 2026, 1) == MonthEvents.from_date("x", datetime(2026, 1, 5)),
        YearEvents("x", 2026) == YearEvents("x", 2026),
        DayEvents("x", 2026, 1, 1) == DayEvents("x", 2026, 1, 2),
        len({WeekEvents("x", 2026, 2), WeekEvents("x", 2026, 2).next().prev()}),
    ],
    "pipes": [queued, executed, at_once],
}
ops["and"].delete()
result["deleted"] = [len(ops["and"]), len(BitOpAnd(nov, UniqueEvents("premium")))]
"""

DIFFERENCE = """
from datetime import datetime, timezone
from bitmapist import MonthEvents, mark_event
when = datetime(2026, 11, 28, tzinfo=timezone.utc)
for uid in (1, 17, 300):
    mark_event("a", uid, now=when)
mark_event("b", 2, now=when)
a, b = MonthEvents("a", 2026, 11), MonthEvents("b", 2026, 11)
result = {"a-not-b": list(a & ~b), "not-b": list(~b)}
"""


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> Runner:
    """Run a bitmapist script here, with ``bitmapist`` meaning ``bitmapist_async.compat``."""

    def run(script: str) -> Any:
        monkeypatch.setitem(sys.modules, "bitmapist", compat)
        namespace: dict[str, Any] = {"params": {}}
        exec(script, namespace)
        return json.loads(json.dumps(namespace["result"]))  # the legacy side's JSON round trip

    return run


def keyspace(admin: redis.Redis) -> dict[str, Any]:
    """Every key and its value; then empty the keyspace."""
    keys = admin.keys("*")
    values = {(k.decode() if isinstance(k, bytes) else k): admin.get(k) for k in keys}
    if keys:
        admin.delete(*keys)
    return {k: v for k, v in values.items() if v is not None}


def test_same_keys_and_answers(legacy: Runner, ours: Runner, admin: redis.Redis) -> None:
    expected = legacy(PROGRAM)
    expected_keys = keyspace(admin)
    got = ours(PROGRAM)
    got_keys = keyspace(admin)

    assert got == expected
    assert got_keys == expected_keys
    # The program is not vacuous:
    assert expected["ops"]["and"][1:] == [[17], 1, True, True]
    assert expected["ops"]["xor"][1] == [300]
    assert expected["events"]["trackist_active_2026-12-1"][0] == [2]
    assert expected["pipes"] == [[False, False], [True, True], True]
    assert expected["deleted"] == [0, 1]
    assert "trackist_bitop_OR_trackist_active_2026-1-trackist_active_2026-2" in str(expected_keys)


def test_exact_difference_is_a_deliberate_difference(legacy: Runner, ours: Runner) -> None:
    expected = legacy(DIFFERENCE)
    got = ours(DIFFERENCE)
    # bitmapist's AND pads ~b (one byte) with zeros, dropping the ids of a beyond it.
    assert expected == {"a-not-b": [1], "not-b": [0, 1, 3, 4, 5, 6, 7]}
    assert got == {"a-not-b": [1, 17, 300], "not-b": [0, 1, 3, 4, 5, 6, 7]}
