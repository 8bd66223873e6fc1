# This file is generated from tests/_async/conftest.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
from __future__ import annotations

from collections.abc import Iterator

import pytest

from bitmapist_async.sync import Bitmapist


@pytest.fixture
def bm(redis_url: str) -> Iterator[Bitmapist]:
    with Bitmapist(redis_url) as client:
        yield client
