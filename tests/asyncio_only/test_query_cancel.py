"""A query whose caller is cancelled mid-read leaves no half-read connection behind: the next
query on the same client gets its own answer, not the reply the cancelled one was owed."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bitmapist_async import Bitmapist

from ..servers import RedisProcess


@pytest.mark.parametrize("layout", ["classic", "sharded"])
async def test_a_cancelled_query_does_not_leave_its_reply_to_the_next(
    private_server: RedisProcess, layout: str
) -> None:
    assert private_server.process is not None
    pid = private_server.process.pid
    options = {"layout": "sharded", "shard_bits": 8} if layout == "sharded" else {}
    async with Bitmapist(private_server.url, **options) as bm:  # type: ignore[arg-type]
        await bm.delete_all_events()
        day = bm.DayEvents("owed", 2026, 12, 1)
        other = bm.DayEvents("other", 2026, 12, 1)
        for uid in (1, 2, 3):
            await bm.mark_event("owed", uid, day.period_start())
        await bm.mark_event("other", 9, day.period_start())
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(TimeoutError):  # wait_for cancels the query, then says so
                await asyncio.wait_for(day.ids(), 0.3)
            task = asyncio.ensure_future(day.count())
            done, _ = await asyncio.wait([task], timeout=0.3)
            assert not done
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            os.kill(pid, signal.SIGCONT)
        assert await other.ids() == [9]
        assert await other.count() == 1
        assert await day.count() == 3
        await bm.delete_all_events()
