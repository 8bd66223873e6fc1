"""One caller's bad input fails that caller only: concurrent marks of other callers are
stored, on Redis and on the embedded store, whether the input is refused at the call (a name
no storage can encode) or only by the storage (a key the client's ``encoding`` cannot encode)."""

from __future__ import annotations

import asyncio

import pytest
import redis

from bitmapist_async import Bitmapist, WriteFailedError

from ..causes import caused_by

GOOD = range(200)


@pytest.mark.parametrize("target", ["redis", "memory"])
async def test_a_lone_surrogate_fails_its_own_call_only(target: str, redis_url: str) -> None:
    url = redis_url if target == "redis" else "memory://"
    async with Bitmapist(url) as bm:
        await bm.delete_all_events()
        calls = [bm.mark_event("fine", uid) for uid in GOOD]
        calls.insert(100, bm.mark_event("bad\ud800", 7))
        results = await asyncio.gather(*calls, return_exceptions=True)
        errors = [r for r in results if r is not None]
        assert len(errors) == 1
        assert isinstance(errors[0], ValueError)
        assert "bad\\ud800" in str(errors[0])
        assert await bm.DayEvents("fine").ids() == list(GOOD)
        await bm.delete_all_events()


async def test_a_key_the_clients_encoding_cannot_take_is_refused_alone(
    redis_url: str, admin: redis.Redis
) -> None:
    """``encoding="ascii"``: "ünï" is a valid name, but this client cannot send it. Its
    writes are refused; the 200 marks flushed with it are stored."""
    async with Bitmapist(redis_url, encoding="ascii") as bm:
        await bm.delete_all_events()
        calls = [bm.mark_unique("fine", uid) for uid in GOOD]
        calls.insert(50, bm.mark_unique("ünï", 7))
        calls.insert(150, bm.mark_event("ünï", 8))
        results = await asyncio.gather(*calls, return_exceptions=True)
        errors = [r for r in results if r is not None]
        assert len(errors) == 2
        assert all(isinstance(e, WriteFailedError) for e in errors)
        assert all(caused_by(e, UnicodeEncodeError) for e in errors)
        assert await bm.UniqueEvents("fine").ids() == list(GOOD)
        await bm.delete_all_events()
    assert admin.bitcount("trackist_fine_u") == 0
