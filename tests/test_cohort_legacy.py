"""Cohort tables equal bitmapist 3.119's ``get_dates_data`` on the same data, cell for cell
(types included: ``""``, ``0.0``, percentages, counts), for every time group, with and
without ``start_date``, with the optional AND selections and with a custom handler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis

from bitmapist_async._core.cohort import CohortQuery, bitmapist_layout, period_of
from bitmapist_async._sync.cohort import cohort_table
from bitmapist_async.sync import Bitmapist, Expression, PeriodEvents

from .cohort_data import BITMAPIST_CASES, FIRST_DAY, synthetic_marks, when
from .conftest import CommandLog, RedisTarget
from .legacy import run_legacy

CASES = BITMAPIST_CASES

LEGACY_SCRIPT = """
from bitmapist import BitOpOr
from bitmapist.cohort import get_dates_data, set_custom_handler

def active_web_ios(key, cls, cls_args):
    return cls("active", *cls_args) & BitOpOr(cls("web", *cls_args), cls("ios", *cls_args))

set_custom_handler("active_web_ios", active_web_ios)

def encode(rows):
    return [[row[0].isoformat(), *row[1:]] for row in rows]

result = [encode(get_dates_data(**case)) for case in params["cases"]]
"""


def active_web_ios(
    name: str, cls: Callable[..., PeriodEvents], args: tuple[int, ...]
) -> Expression:
    return cls("active", *args) & (cls("web", *args) | cls("ios", *args))


HANDLERS = {"active_web_ios": active_web_ios}


@pytest.fixture
def bm(redis_url: str) -> Iterator[Bitmapist]:
    with Bitmapist(redis_url) as client:
        marks = synthetic_marks(FIRST_DAY, 215, 40)
        today = datetime.now(timezone.utc).date()
        marks += synthetic_marks(today - timedelta(days=800), 801, 12, seed=7, events=["recent"])
        writes: list[tuple[str, int, int]] = []
        for m in marks:
            writes += client.options.event_writes(
                m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
            )
        client.storage.write_bits(writes)
        yield client


def _query(case: dict[str, Any]) -> CohortQuery:
    return CohortQuery(**{k: v for k, v in case.items() if k != "start_date"})


def _encode(rows: list[list[Any]]) -> list[list[Any]]:
    return [[row[0].isoformat(), *row[1:]] for row in rows]


def _typed(rows: list[list[Any]]) -> list[list[tuple[str, Any]]]:
    """Cells with their types: ``0.0`` is not ``0``, a count is not a percentage."""
    return [[(type(cell).__name__, cell) for cell in row] for row in rows]


def test_same_tables_as_bitmapist(
    bm: Bitmapist,
    legacy_python_path: Path,
    redis_target: RedisTarget,
    command_log: CommandLog,
    admin: redis.Redis,
) -> None:
    port = redis_target.require_private().port
    with command_log.exempted(admin):
        expected = run_legacy(legacy_python_path, port, LEGACY_SCRIPT, cases=CASES)
    assert any(cell not in ("", 0.0) for table in expected for row in table for cell in row[2:])
    for case, legacy_rows in zip(CASES, expected, strict=True):
        start = case.get("start_date")
        # Without start_date bitmapist used its own clock: take it back from its labels.
        now = datetime.now(timezone.utc) if start else _legacy_now(case, legacy_rows)
        query = _query(case)
        layout = bitmapist_layout(query.time_group, query.num_results, start, now)
        for compute in ("storage", "local"):
            ours = cohort_table(bm, query, handlers=HANDLERS, layout=layout, compute=compute)
            assert _typed(_encode(ours.rows)) == _typed(legacy_rows), (case, compute)

        # The native layout (rows from the period of start_date) gives the same cells when it
        # starts at bitmapist's first period; labels are period starts.
        first = datetime.fromisoformat(legacy_rows[0][0])
        native = bm.cohort(
            **{k: v for k, v in case.items() if k not in ("start_date", "num_results")},
            num_results=len(legacy_rows),
            start_date=first.date(),
            handlers=HANDLERS,
        )
        assert _typed([r[1:] for r in native.rows]) == _typed([r[1:] for r in legacy_rows]), case
        for row, legacy_row in zip(native.rows, legacy_rows, strict=True):
            label = datetime.fromisoformat(legacy_row[0])
            assert row[0] == period_of(query.time_group, label).start().replace(tzinfo=timezone.utc)
    assert not admin.keys("trackist_bitop_*")


def _legacy_now(case: dict[str, Any], legacy_rows: list[list[Any]]) -> datetime:
    """The ``now`` bitmapist used: its last label (for months, the 1st of now's month at now's
    time, which lays the table out the same)."""
    last = datetime.fromisoformat(legacy_rows[-1][0])
    assert abs((datetime.now(timezone.utc) - last).days) <= 31, case  # a table ending now
    return last
