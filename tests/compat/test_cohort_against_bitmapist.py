"""``compat.cohort.get_dates_data`` returns what bitmapist 3.119's does on the same data: the
same rows, row datetimes to the microsecond, cells of the same type (``""``, ``0.0``, float
percentages, int counts), for every time group, with and without ``start_date``, with the
``b`` selections and with custom handlers registered by ``set_custom_handler``.

bitmapist runs in its own virtualenv (its MULTI/EXEC left out of the grammar check); compat runs
here, grammar-checked. Without ``start_date`` bitmapist reads its own clock: compat is given the
same instant, taken back from bitmapist's labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis

from bitmapist_async.compat import cohort
from bitmapist_async.sync import Bitmapist

from ..cohort_data import BITMAPIST_CASES, FIRST_DAY, synthetic_marks, when
from ..conftest import CommandLog, RedisTarget
from ..legacy import run_legacy

#: The handlers, as bitmapist users write them; the same source runs on both sides.
HANDLERS = """
def active_web_ios(key, cls, cls_args):
    return cls("active", *cls_args) & (cls("web", *cls_args) | cls("ios", *cls_args))

def recent_both(key, cls, cls_args):
    return BitOpAnd(cls("recent", *cls_args), cls("recent:web", *cls_args))

set_custom_handler("active_web_ios", active_web_ios)
set_custom_handler("recent_both", recent_both)
"""

#: The shared tables, plus compat-specific ones (string arguments, handlers in b-selections).
CASES: list[dict[str, Any]] = [
    *BITMAPIST_CASES,
    {
        "select1": "country:US",
        "select2": "active_web_ios",
        "select2b": "song:play",
        "time_group": "weeks",
        "num_results": 6,
        "num_of_rows": 4,
        "start_date": "2025-12-22",
    },
    {
        "select1": "active_web_ios",
        "select1b": "country:US",
        "select2": "active_web_ios",
        "time_group": "months",
        "num_results": 4,
        "num_of_rows": 2,
        "start_date": "2025-11-30",
    },
    {
        "select1": "ios",
        "select2": "web",
        "num_results": "9",
        "num_of_rows": "3",
        "start_date": "2026-1-7",
    },
    {"select1": "recent", "select2": "recent", "select2b": "recent:web", "as_percent": False},
    {"select1": "recent_both", "select2": "recent", "time_group": "weeks", "num_results": 6},
    {
        "select1": "recent",
        "select1b": "recent:web",
        "select2": "recent_both",
        "time_group": "months",
        "num_results": 3,
    },
    {"select1": "recent_both", "select2": "recent", "time_group": "years", "num_of_rows": 1},
]

LEGACY_SCRIPT = (
    "from bitmapist import BitOpAnd\n"
    "from bitmapist.cohort import get_dates_data, set_custom_handler\n"
    + HANDLERS
    + """
result = [
    [[row[0].isoformat(), *row[1:]] for row in get_dates_data(**case)]
    for case in params["cases"]
]
"""
)


@pytest.fixture
def data(redis_url: str) -> None:
    marks = synthetic_marks(FIRST_DAY, 215, 40)
    today = datetime.now(timezone.utc).date()
    recent = ["recent", "recent:web"]
    marks += synthetic_marks(today - timedelta(days=800), 801, 12, seed=7, events=recent)
    with Bitmapist(redis_url) as bm:
        writes: list[tuple[str, int, int]] = []
        for m in marks:
            writes += bm.options.event_writes(
                m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
            )
        bm.storage.write_bits(writes)


@pytest.fixture
def handlers() -> Iterator[None]:
    """Register :data:`HANDLERS` in compat's global registry for one test."""
    saved = dict(cohort.CUSTOM_HANDLERS)
    from bitmapist_async.compat import BitOpAnd

    namespace = {"BitOpAnd": BitOpAnd, "set_custom_handler": cohort.set_custom_handler}
    exec(HANDLERS, namespace)
    yield
    cohort.CUSTOM_HANDLERS.clear()
    cohort.CUSTOM_HANDLERS.update(saved)


def _typed(rows: list[list[Any]]) -> list[list[tuple[str, Any]]]:
    """Cells with their types: ``0.0`` is not ``0``, a count is not a percentage."""
    return [[(type(cell).__name__, cell) for cell in row] for row in rows]


def _legacy_now(case: dict[str, Any], rows: list[list[Any]]) -> datetime:
    """The ``now`` bitmapist used: its last label (for months, the 1st of now's month at now's
    time, which lays the table out the same)."""
    last = datetime.fromisoformat(rows[-1][0])
    assert abs(datetime.now(timezone.utc) - last) < timedelta(days=32), case
    return last


@pytest.mark.usefixtures("data", "handlers")
def test_same_rows_as_bitmapist(
    legacy_python_path: Path,
    redis_target: RedisTarget,
    command_log: CommandLog,
    admin: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = redis_target.require_private().port
    with command_log.exempted(admin):
        expected = run_legacy(legacy_python_path, port, LEGACY_SCRIPT, cases=CASES)
    assert admin.keys("trackist_bitop_*") == []
    cells = [cell for table in expected for row in table for cell in row[2:]]
    assert {type(c).__name__ for c in cells} == {"str", "float", "int"}  # not vacuous
    assert 0.0 in cells
    assert any(c not in ("", 0.0) for c in cells)

    start = command_log.mark()
    for case, legacy_rows in zip(CASES, expected, strict=True):
        if not case.get("start_date"):
            now = _legacy_now(case, legacy_rows)
            monkeypatch.setattr(cohort, "_utc_now", lambda now=now: now)
        for compute in ("storage", "local"):
            rows = cohort.get_dates_data(**case, compute=compute)
            assert all(isinstance(row[0], datetime) for row in rows)
            ours = [[row[0].isoformat(), *row[1:]] for row in rows]  # type: ignore[union-attr]
            assert _typed(ours) == _typed(legacy_rows), (case, compute)
    assert admin.keys("trackist_bitop_*") == []

    # Handlers ran inside the table's batch: every BITOP wrote a key of that batch (none of
    # bitmapist's eager trackist_bitop_AND_... results), and each table took a few commands.
    admin.echo("cohort-done")
    sent = command_log.wait_for(["ECHO", "cohort-done"], start)
    bitops = [c for c in sent if c[0].upper() == "BITOP"]
    assert bitops
    assert all(c[2].startswith("trackist_bitop_cohort_") for c in bitops), bitops[:3]
    assert {c[0].upper() for c in sent} <= {"BITOP", "EXPIRE", "BITCOUNT", "GET", "DEL"}
