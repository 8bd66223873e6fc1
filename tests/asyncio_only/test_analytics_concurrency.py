"""Analytics calls at once on one client: each uses temporary keys of its own, so none reads
or deletes another's intermediate results."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from bitmapist_async import Bitmapist, Expression


def _a_or_b(cls: type[Expression], *args: int) -> Expression:
    return cls("a", *args) | cls("b", *args)  # type: ignore[call-arg]


async def test_concurrent_calls_do_not_share_temporary_keys(bm: Bitmapist) -> None:
    first = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    rows = [
        (name, uid, first + timedelta(days=d))
        for d in range(40)
        for name, step in (("a", 3), ("b", 5), ("c", 7))
        for uid in range(d % step, 3000, step + d % 4)
    ]
    await bm.import_events(rows)
    start, end = date(2026, 3, 8), date(2026, 4, 8)

    def calls() -> list[object]:
        return [
            bm.rolling(_a_or_b, 7, "days", start, end),
            bm.rolling("c", 10, "days", start, end),
            bm.funnel(["a", _a_or_b, "c"], "days", start, end, 3),
            bm.trend(_a_or_b, "days", start, end),
        ]

    expected = [await call for call in calls()]  # type: ignore[misc]
    for _ in range(5):
        together = await asyncio.gather(*(c for _ in range(4) for c in calls()))  # type: ignore[call-overload]
        assert list(together) == expected * 4
    assert await bm._queries.scan(f"{bm.options.scheme.bitop_prefix}analytics_*") == []
