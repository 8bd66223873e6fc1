"""Tables computed at the same time on one client never see each other's temporary keys."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import redis

from bitmapist_async import Bitmapist

from .cohort_data import synthetic_marks, when


async def test_concurrent_tables_do_not_interfere(redis_url: str, admin: redis.Redis) -> None:
    first = date(2026, 1, 5)
    async with Bitmapist(redis_url) as bm:
        writes: list[tuple[str, int, int]] = []
        for m in synthetic_marks(first, 30, 30, seed=3):
            writes += bm.options.event_writes(
                m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
            )
        await bm.storage.write_bits(writes)
        kwargs: dict[str, Any] = {
            "num_results": 14,
            "num_of_rows": 7,
            "start_date": first + timedelta(days=2),
        }
        alone = [
            await bm.cohort("active", "web", **kwargs),
            await bm.cohort("active", "web", retention="unbounded", **kwargs),
        ]
        together = await asyncio.gather(
            *[
                bm.cohort("active", "web", retention=retention, **kwargs)
                for _ in range(4)
                for retention in ("classic", "unbounded")
            ]
        )
    assert [t.rows for t in together] == [t.rows for t in alone] * 4
    assert admin.keys("trackist_bitop_*") == []
