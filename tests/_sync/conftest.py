# This file is generated from tests/_async/conftest.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
from __future__ import annotations

from collections.abc import Iterator

import pytest

from bitmapist_async.sync import Bitmapist

from ..conftest import LayoutTarget


@pytest.fixture
def bm(layout_target: LayoutTarget) -> Iterator[Bitmapist]:
    """A client on each layout target (see ``LAYOUT_TARGETS``; narrow with
    ``@pytest.mark.layouts(...)``)."""
    with Bitmapist(layout_target.url, **layout_target.options) as client:
        yield client
