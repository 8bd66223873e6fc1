"""Every command the public API sends is in bitmapist-server's grammar."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bitmapist_async import Bitmapist

from ..conftest import CommandLog
from ..grammar import violation

pytestmark = pytest.mark.layouts("classic")  # the sharded twin is in test_sharded.py


async def test_public_api_stays_in_grammar(bm: Bitmapist, command_log: CommandLog) -> None:
    start = command_log.mark()
    when = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
    await bm.ping()
    await bm.mark_event("a", 1, when, track_hourly=True, track_unique=True)
    await bm.unmark_event("a", 1, when)
    await bm.mark_unique("u", 2)
    await bm.unmark_unique("u", 2)
    month, unique = bm.MonthEvents("a", 2026, 11), bm.UniqueEvents("u")
    for expr in (month, bm.YearEvents("a", 2026), month & ~unique, ~unique, month ^ unique):
        await expr.count()
        await expr.contains(1)
        await expr.ids()
        await expr.has_events_marked()
        await expr.store()
        await expr.delete()
    await bm.counts([month, month | unique])
    await bm.get_event_names()
    await bm.delete_temporary_bitop_keys()
    await bm.delete_all_events()
    await bm.UniqueEvents("end-marker").contains(7)
    sent = command_log.wait_for(["GETBIT", "trackist_end-marker_u", "7"], start)
    names = {c[0] for c in sent}
    assert {
        "SETBIT",
        "GETBIT",
        "BITCOUNT",
        "BITOP",
        "EXPIRE",
        "GET",
        "DEL",
        "SCAN",
        "PING",
    } <= names
    assert [v for c in sent if (v := violation(c))] == []
