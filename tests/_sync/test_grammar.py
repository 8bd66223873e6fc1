# This file is generated from tests/_async/test_grammar.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Every command the public API sends is in bitmapist-server's grammar."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bitmapist_async.sync import Bitmapist

from ..conftest import CommandLog
from ..grammar import violation

pytestmark = pytest.mark.layouts("classic")  # the sharded twin is in test_sharded.py


def test_public_api_stays_in_grammar(bm: Bitmapist, command_log: CommandLog) -> None:
    start = command_log.mark()
    when = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
    bm.ping()
    bm.mark_event("a", 1, when, track_hourly=True, track_unique=True)
    bm.unmark_event("a", 1, when)
    bm.mark_unique("u", 2)
    bm.unmark_unique("u", 2)
    month, unique = bm.MonthEvents("a", 2026, 11), bm.UniqueEvents("u")
    for expr in (month, bm.YearEvents("a", 2026), month & ~unique, ~unique, month ^ unique):
        expr.count()
        expr.contains(1)
        expr.ids()
        expr.has_events_marked()
        expr.store()
        expr.delete()
    bm.counts([month, month | unique])
    bm.get_event_names()
    bm.delete_temporary_bitop_keys()
    bm.delete_all_events()
    bm.UniqueEvents("end-marker").contains(7)
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
