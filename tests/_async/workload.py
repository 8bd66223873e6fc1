"""One pass over every public call that reaches storage, for the wire-grammar tests."""

from __future__ import annotations

from datetime import datetime, timezone

from bitmapist_async import Bitmapist

WHEN = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)


async def exercise_public_api(bm: Bitmapist) -> None:
    """Mark, unmark, merge, query every kind of expression, count, list names, delete; end
    with ``GETBIT <end-marker_u> 7`` so a test can wait for it on MONITOR."""
    await bm.ping()
    await bm.mark_event("a", 1, WHEN, track_hourly=True, track_unique=True)
    await bm.mark_event("a", 3000, WHEN)
    await bm.unmark_event("a", 1, WHEN)
    await bm.mark_unique("u", 2)
    await bm.unmark_unique("u", 700)
    key = bm.UniqueEvents("u").redis_key
    prefix = bm.options.scheme.bitop_prefix
    await bm.storage.merge_bitmaps([(key, b"\x80" * 70)], temp_prefix=prefix)
    await bm.storage.merge_bitmaps([(key, b"\x01" * 90)], temp_prefix=prefix, unmark=True)
    await bm.mark_unique("page/view?[*]\\\u00e9", 5)
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
        await expr.count()
        await expr.contains(1)
        await expr.ids()
        await expr.bitmap()
        await expr.has_events_marked()
        await expr.store()
        await expr.delete()
    await bm.counts([month, month | unique])
    await bm.get_event_names()
    await bm.get_event_names("page/")
    await bm.delete_temporary_bitop_keys()
    await bm.delete_all_events()
    await bm.UniqueEvents("end-marker").contains(7)
