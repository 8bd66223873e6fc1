# This file is generated from tests/_async/workload.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""One pass over every public call that reaches storage, for the wire-grammar tests."""

from __future__ import annotations

from datetime import datetime, timezone

from bitmapist_async.sync import Bitmapist

WHEN = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)


def exercise_public_api(bm: Bitmapist) -> None:
    """Mark, unmark, merge, query every kind of expression, count, list names, delete; end
    with ``GETBIT <end-marker_u> 7`` so a test can wait for it on MONITOR."""
    bm.ping()
    bm.mark_event("a", 1, WHEN, track_hourly=True, track_unique=True)
    bm.mark_event("a", 3000, WHEN)
    bm.unmark_event("a", 1, WHEN)
    bm.mark_unique("u", 2)
    bm.unmark_unique("u", 700)
    key = bm.UniqueEvents("u").redis_key
    prefix = bm.options.scheme.bitop_prefix
    bm.storage.merge_bitmaps([(key, b"\x80" * 70)], temp_prefix=prefix)
    bm.storage.merge_bitmaps([(key, b"\x01" * 90)], temp_prefix=prefix, unmark=True)
    bm.mark_unique("page/view?[*]\\\u00e9", 5)
    month, unique = bm.MonthEvents("a", 2026, 11), bm.UniqueEvents("u")
    single = (bm.BitOpAnd(month), bm.BitOpOr(unique), bm.BitOpXor(~unique))
    for expr in (
        month,
        bm.YearEvents("a", 2026),
        month & ~unique,
        ~unique,
        month ^ unique,
        *single,
    ):
        expr.count()
        expr.contains(1)
        expr.ids()
        expr.bitmap()
        expr.has_events_marked()
        expr.store()
        expr.delete()
    bm.counts([month, month | unique])
    bm.get_event_names()
    bm.get_event_names("page/")
    bm.delete_temporary_bitop_keys()
    bm.delete_all_events()
    bm.UniqueEvents("end-marker").contains(7)
