# This file is generated from tests/_async/test_deadlines.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Nothing waits forever: every query call ends by the client's deadline, with a typed error
that is also a ``TimeoutError``, on a server that never answers or is stopped (SIGSTOP); the
connection that waited is discarded, never read half-way by the next call; marks fail in the
same family of errors as queries for the same cause."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from bitmapist_async.sync import (
    DEFAULT_TIMEOUT,
    Bitmapist,
    StorageError,
    StorageTimeoutError,
    StorageUnavailableError,
    WriteFailedError,
    WriteOptions,
)

from ..causes import caused_by
from ..servers import RedisProcess, free_port, redis_server_binary
from ..silent import SilentServer

DEADLINE = 0.4
FAIL_FAST = WriteOptions(attempt_timeout=0.3, retry_deadline=0.6, backoff_initial=0.05)
LAYOUTS: dict[str, dict[str, Any]] = {
    "classic": {},
    "sharded": {"layout": "sharded", "shard_bits": 8},
}


def _count(bm: Bitmapist) -> object:
    return bm.DayEvents("e", 2026, 12, 1).count()


def _ids(bm: Bitmapist) -> object:
    return bm.MonthEvents("e", 2026, 12).ids()


def _id_array(bm: Bitmapist) -> object:
    return bm.MonthEvents("e", 2026, 12).id_array()


def _contains(bm: Bitmapist) -> object:
    return bm.WeekEvents("e", 2026, 49).contains(3)


def _has_events_marked(bm: Bitmapist) -> object:
    return bm.DayEvents("e", 2026, 12, 1).has_events_marked()


def _bitop(bm: Bitmapist) -> object:
    both = bm.DayEvents("e", 2026, 12, 1) & ~bm.DayEvents("f", 2026, 12, 1)
    return both.count()


def _counts(bm: Bitmapist) -> object:
    return bm.counts([bm.DayEvents("e", 2026, 12, d) for d in range(1, 4)])


def _cohort(bm: Bitmapist) -> object:
    return bm.cohort("e", "f", time_group="days", num_results=3, start_date="2026-12-03")


def _event_names(bm: Bitmapist) -> object:
    return bm.get_event_names()


def _delete_all(bm: Bitmapist) -> object:
    bm.delete_all_events()
    return None


def _delete_bitops(bm: Bitmapist) -> object:
    bm.delete_temporary_bitop_keys()
    return None


def _delete_one(bm: Bitmapist) -> object:
    bm.DayEvents("e", 2026, 12, 1).delete()
    return None


def _ping(bm: Bitmapist) -> object:
    bm.ping()
    return None


QUERIES: dict[str, Callable[[Bitmapist], Any]] = {
    "count": _count,
    "ids": _ids,
    "id_array": _id_array,
    "contains": _contains,
    "has_events_marked": _has_events_marked,
    "bitop": _bitop,
    "counts": _counts,
    "cohort": _cohort,
    "get_event_names": _event_names,
    "delete_all_events": _delete_all,
    "delete_temporary_bitop_keys": _delete_bitops,
    "delete": _delete_one,
    "ping": _ping,
}


@pytest.fixture(scope="module")
def stoppable() -> Iterator[RedisProcess]:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("needs a redis-server binary to start a private server")
    server = RedisProcess(binary).start()
    yield server
    server.stop()


def test_the_default_deadline_is_documented_and_applies() -> None:
    assert DEFAULT_TIMEOUT == 10.0
    assert Bitmapist("redis://127.0.0.1:1/0").timeout == DEFAULT_TIMEOUT
    assert Bitmapist("memory://", timeout=2).timeout == 2.0
    assert Bitmapist("memory://", timeout=None).timeout is None


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "1", True])
def test_a_bad_deadline_is_refused_at_construction(timeout: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="timeout"):
        Bitmapist("memory://", timeout=timeout)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("query", QUERIES)
def test_a_query_to_a_server_that_never_answers_times_out(layout: str, query: str) -> None:
    with SilentServer() as server:
        with Bitmapist(server.url, timeout=DEADLINE, **LAYOUTS[layout]) as bm:
            began = time.monotonic()
            with pytest.raises(StorageTimeoutError) as info:
                QUERIES[query](bm)
            elapsed = time.monotonic() - began
        assert server.accepted >= 1
    assert isinstance(info.value, TimeoutError)
    assert f"127.0.0.1:{server.port}" in str(info.value)
    assert elapsed < DEADLINE * 10


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_stopped_server_times_out_and_the_half_read_connection_is_not_reused(
    stoppable: RedisProcess, layout: str
) -> None:
    """SIGSTOP: the count's reply is still owed when the deadline expires. After SIGCONT the
    next call on the same client gets its own answer, not the stale one."""
    assert stoppable.process is not None
    pid = stoppable.process.pid
    with Bitmapist(stoppable.url, timeout=DEADLINE, **LAYOUTS[layout]) as bm:
        bm.delete_all_events()
        day = bm.DayEvents("stopped", 2026, 12, 1)
        for uid in (1, 2, 3):
            bm.mark_event("stopped", uid, day.period_start())
        bm.mark_event("other", 9, day.period_start())
        other = bm.DayEvents("other", 2026, 12, 1)
        assert day.count() == 3
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(StorageTimeoutError):
                day.count()
            with pytest.raises(StorageTimeoutError):
                bm.get_event_names()
        finally:
            os.kill(pid, signal.SIGCONT)
        assert other.count() == 1
        assert other.ids() == [9]
        assert day.count() == 3
        bm.delete_all_events()


def test_marks_to_a_server_that_never_answers_fail_with_a_timeout_cause() -> None:
    with SilentServer() as server:
        with Bitmapist(server.url, write_options=FAIL_FAST) as bm:
            with pytest.raises(WriteFailedError) as info:
                bm.mark_unique("hung", 1)
    assert caused_by(info.value, StorageTimeoutError)
    assert isinstance(info.value, StorageError)


def test_queries_and_marks_raise_one_family_for_an_unreachable_server() -> None:
    with Bitmapist(f"redis://127.0.0.1:{free_port()}/0", write_options=FAIL_FAST) as bm:
        with pytest.raises(StorageUnavailableError) as query:
            bm.DayEvents("e", 2026, 12, 1).count()
        with pytest.raises(WriteFailedError) as mark:
            bm.mark_unique("e", 1)
    assert isinstance(query.value, ConnectionError)
    assert caused_by(query.value, redis.ConnectionError)
    assert caused_by(mark.value, StorageUnavailableError, redis.ConnectionError)
    assert type(query.value) is type(mark.value.__cause__)


def test_marks_against_an_unreachable_server_warn_at_first_failure_and_give_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    url = f"redis://someone:hunter2@127.0.0.1:{port}/0"
    caplog.set_level(logging.WARNING, logger="bitmapist_async")
    with Bitmapist(url, write_options=FAIL_FAST) as bm:
        with pytest.raises(WriteFailedError):
            bm.mark_unique("e", 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "bitmapist_async"]
    target = f"redis://someone:***@127.0.0.1:{port}/0"
    first = [line for line in lines if "attempt 1" in line]
    gave_up = [line for line in lines if line.startswith("gave up")]
    assert len(first) == 1
    assert target in first[0]
    assert "retry_deadline" in first[0]
    assert len(gave_up) == 1
    assert target in gave_up[0]
    assert " attempt(s) over " in gave_up[0]
    assert "hunter2" not in caplog.text
