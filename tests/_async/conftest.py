from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bitmapist_async import Bitmapist

from ..conftest import LayoutTarget


@pytest.fixture
async def bm(layout_target: LayoutTarget) -> AsyncIterator[Bitmapist]:
    """A client on each layout target (see ``LAYOUT_TARGETS``; narrow with
    ``@pytest.mark.layouts(...)``)."""
    async with Bitmapist(layout_target.url, **layout_target.options) as client:
        yield client
