# This file is generated from tests/_async/test_cohort_auto.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""``compute="auto"``, the default of cohorts: local while the stored bitmaps a table reads are
small, in storage when they are a few hundred MB, with the same table either way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
import redis

from bitmapist_async.sync import Bitmapist
from bitmapist_async._core.plan import BitOpStep, Query

from ..conftest import CommandLog

DAY0 = date(2026, 11, 2)
BIG_ID = 8 * 300 * 2**20  # a bitmap of about 300 MB


class Recording:
    """Which compute the table used: the local plan fetches bitmaps (``get``), the storage
    plan counts cells (``count``)."""

    def __init__(self, bm: Bitmapist) -> None:
        self.kinds: list[str] = []
        storage: Any = bm.storage
        evaluate = storage.evaluate

        def recorded(steps: Sequence[BitOpStep], queries: Sequence[Query]) -> Any:
            self.kinds.extend(q.kind for q in queries)
            return evaluate(steps, queries)

        storage.evaluate = recorded

    def used(self) -> str:
        if "get" in self.kinds:
            return "local"
        assert "count" in self.kinds
        return "storage"


def _table(bm: Bitmapist, compute: str) -> list[Any]:
    options: dict[str, Any] = {} if compute == "default" else {"compute": compute}
    table = bm.cohort(
        "signup", "active", num_results=3, num_of_rows=2, start_date=DAY0, **options
    )
    return table.rows


def _marks(bm: Bitmapist, big: bool) -> None:
    for d in range(3):
        day = bm.DayEvents("signup", DAY0.year, DAY0.month, DAY0.day + d).period_start()
        for uid in (1, 2, 3 + d):
            bm.mark_event("signup", uid, day)
        bm.mark_event("active", 1 + d, day + timedelta(days=1))
    if big:
        bm.mark_event("active", BIG_ID, bm.DayEvents("a", 2026, 11, 3).period_start())


@pytest.mark.layouts("redis", "embedded")
def test_small_bitmaps_are_counted_here(bm: Bitmapist) -> None:
    bm.delete_all_events()
    _marks(bm, big=False)
    recording = Recording(bm)
    rows = _table(bm, "default")
    assert recording.used() == "local"
    assert rows == _table(bm, "storage")
    assert [row[1] for row in rows] == [3, 3, 3]
    bm.delete_all_events()


@pytest.mark.layouts("redis", "embedded")
def test_bitmaps_of_hundreds_of_megabytes_are_counted_in_storage(bm: Bitmapist) -> None:
    bm.delete_all_events()
    _marks(bm, big=True)
    recording = Recording(bm)
    rows = _table(bm, "auto")
    assert recording.used() == "storage"
    assert rows == _table(bm, "storage")
    assert [row[1] for row in rows] == [3, 3, 3]
    bm.delete_all_events()


@pytest.mark.layouts("bitmapist-server", "sharded-redis")
def test_a_backend_that_cannot_size_its_bitmaps_counts_in_storage(bm: Bitmapist) -> None:
    bm.delete_all_events()
    _marks(bm, big=False)
    recording = Recording(bm)
    rows = _table(bm, "default")
    assert recording.used() == "storage"
    assert rows == _table(bm, "local")
    bm.delete_all_events()


@pytest.mark.layouts("redis")
def test_the_probe_is_one_strlen_per_stored_bitmap(
    bm: Bitmapist, admin: redis.Redis, command_log: CommandLog
) -> None:
    bm.delete_all_events()
    _marks(bm, big=False)
    admin.echo("probe-start")
    command_log.wait_for(["ECHO", "probe-start"])
    start = command_log.mark()
    _table(bm, "auto")
    bm.ping()
    sent = command_log.wait_for(["PING"], start)
    probes = [c for c in sent if c[0].upper() == "STRLEN"]
    assert probes
    assert len(probes) == len({c[1] for c in probes})
    bm.delete_all_events()
