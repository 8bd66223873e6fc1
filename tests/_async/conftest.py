from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bitmapist_async import Bitmapist


@pytest.fixture
async def bm(redis_url: str) -> AsyncIterator[Bitmapist]:
    async with Bitmapist(redis_url) as client:
        yield client
