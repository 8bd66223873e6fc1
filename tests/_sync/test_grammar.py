# This file is generated from tests/_async/test_grammar.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Every command the public API sends is in bitmapist-server's grammar."""

from __future__ import annotations

import pytest

from bitmapist_async.sync import Bitmapist

from ..conftest import CommandLog
from ..grammar import violation
from .workload import exercise_public_api


@pytest.mark.layouts(
    "redis"
)  # MONITOR watches the suite's Redis; the sharded twin: test_sharded.py
def test_public_api_stays_in_grammar(bm: Bitmapist, command_log: CommandLog) -> None:
    start = command_log.mark()
    exercise_public_api(bm)
    sent = command_log.wait_for(["GETBIT", "trackist_end-marker_u", "7"], start)
    names = {c[0] for c in sent}
    assert {
        "SETBIT",
        "GETBIT",
        "BITCOUNT",
        "BITOP",
        "EXPIRE",
        "GET",
        "DEL",
        "SCAN",
        "PING",
    } <= names
    assert [v for c in sent if (v := violation(c))] == []


@pytest.mark.layouts("bitmapist-server", "sharded-bitmapist-server")
def test_public_api_runs_on_bitmapist_server(bm: Bitmapist) -> None:
    """The server refuses anything outside its grammar with an error reply, which a call
    would raise."""
    exercise_public_api(bm)
    assert bm.get_event_names() == []
