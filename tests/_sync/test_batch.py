# This file is generated from tests/_async/test_batch.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""batch(): the block's marks are written together at its exit; write failures are typed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import redis
import redis as redis_api
from redis._parsers import _AsyncRESP2Parser, _RESP2Parser

from bitmapist_async.sync import (
    Bitmapist,
    ClientClosedError,
    StorageError,
    StorageUnavailableError,
    WriteFailedError,
    WriteOptions,
)

from ..causes import caused_by
from ..conftest import CommandLog
from ..servers import free_port

# These tests read the wire (MONITOR on the single server) and classic key names.
pytestmark = pytest.mark.layouts("redis")

NOW = datetime(2026, 11, 28, 13, 45, tzinfo=timezone.utc)
FAIL_FAST = WriteOptions(retry_deadline=0.2, backoff_initial=0.01, backoff_max=0.05)


def test_batch_writes_at_exit(bm: Bitmapist, admin: redis.Redis) -> None:
    with bm.batch():
        bm.mark_event("b", 1, NOW)
        bm.mark_event("b", 2, NOW, track_hourly=True)
        bm.mark_unique("bu", 3)
        assert not admin.exists("trackist_b_2026-11")  # nothing sent yet
        assert not admin.exists("trackist_bu_u")
    assert bm.DayEvents("b", 2026, 11, 28).ids() == [1, 2]
    assert bm.HourEvents("b", 2026, 11, 28, 13).ids() == [2]
    assert bm.UniqueEvents("bu").ids() == [3]


def test_batch_sends_each_bit_once_and_the_last_call_wins(
    bm: Bitmapist, command_log: CommandLog, admin: redis.Redis
) -> None:
    start = command_log.mark()
    with bm.batch():
        bm.mark_unique("d", 1)
        bm.mark_unique("d", 1)
        bm.mark_unique("d", 2)
        bm.unmark_unique("d", 2)
        bm.unmark_unique("d", 3)
        bm.mark_unique("d", 3)
    bm.UniqueEvents("end").contains(0)
    sent = command_log.wait_for(["GETBIT", "trackist_end_u", "0"], start)
    assert [c for c in sent if c[0] == "SETBIT"] == [
        ["SETBIT", "trackist_d_u", "1", "1"],
        ["SETBIT", "trackist_d_u", "2", "0"],
        ["SETBIT", "trackist_d_u", "3", "1"],
    ]
    assert [admin.getbit("trackist_d_u", i) for i in range(4)] == [0, 1, 0, 1]


def test_nested_batches_write_at_their_own_exit(bm: Bitmapist, admin: redis.Redis) -> None:
    with bm.batch():
        bm.mark_unique("outer", 1)
        with bm.batch():
            bm.mark_unique("inner", 2)
        assert admin.getbit("trackist_inner_u", 2) == 1
        assert admin.getbit("trackist_outer_u", 1) == 0
    assert admin.getbit("trackist_outer_u", 1) == 1


def test_batch_left_by_an_exception_still_writes(bm: Bitmapist, admin: redis.Redis) -> None:
    def failing_block() -> None:
        with bm.batch():
            bm.mark_unique("x", 7)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_block()
    bm.flush()
    assert admin.getbit("trackist_x_u", 7) == 1


def test_empty_batch_sends_nothing(bm: Bitmapist, command_log: CommandLog) -> None:
    start = command_log.mark()
    with bm.batch():
        pass
    bm.UniqueEvents("end").contains(1)
    assert command_log.wait_for(["GETBIT", "trackist_end_u", "1"], start) == []


def test_a_batch_block_cannot_be_entered_twice(bm: Bitmapist) -> None:
    block = bm.batch()
    with block:
        with pytest.raises(RuntimeError, match="twice"):
            with block:
                pass


def test_closed_client_refuses_marks_inside_a_batch(redis_url: str) -> None:
    bm = Bitmapist(redis_url)
    bm.close()
    with bm.batch():
        with pytest.raises(ClientClosedError):
            bm.mark_unique("closed", 1)
    with pytest.raises(ClientClosedError):
        bm.mark_event("closed", 1)


def test_unreachable_server_gives_write_failed_after_retries() -> None:
    with Bitmapist(f"redis://127.0.0.1:{free_port()}/0", write_options=FAIL_FAST) as bm:
        with pytest.raises(WriteFailedError) as info:
            bm.mark_event("lost", 1, NOW)
        assert caused_by(info.value, StorageUnavailableError, redis.ConnectionError)
        with pytest.raises(WriteFailedError) as info:
            with bm.batch():
                bm.mark_unique("lost", 2)
        assert caused_by(info.value, StorageUnavailableError, redis.ConnectionError)


def test_refused_write_gives_write_failed(bm: Bitmapist, admin: redis.Redis) -> None:
    admin.rpush("trackist_wrong_u", "not a bitmap")
    with pytest.raises(WriteFailedError, match="trackist_wrong_u") as info:
        bm.mark_unique("wrong", 1)
    assert caused_by(info.value, StorageError, redis.ResponseError)
    assert "WRONGTYPE" in str(info.value.__cause__)


def test_pending_writes_is_zero_when_idle(bm: Bitmapist) -> None:
    bm.mark_event("idle", 1, NOW)
    bm.flush()
    assert bm.pending_writes == 0


def test_write_options_are_checked(redis_url: str) -> None:
    with pytest.raises(TypeError, match="WriteOptions"):
        Bitmapist(redis_url, write_options={"max_pending": 10})  # type: ignore[arg-type]


def test_keys_are_packed_as_utf8_bytes(bm: Bitmapist, admin: redis.Redis) -> None:
    bm.mark_event("café:ü", 123_456, NOW)
    bm.mark_unique("日本", 0)
    assert admin.getbit("trackist_café:ü_2026-11-28", 123_456) == 1
    assert admin.getbit("trackist_日本_u", 0) == 1
    assert bm.DayEvents("café:ü", 2026, 11, 28).ids() == [123_456]


@pytest.mark.parametrize("variant", ["pure-python parser", "single connection"])
def test_writes_without_the_fast_reply_path(
    redis_url: str, admin: redis.Redis, variant: str
) -> None:
    if variant == "pure-python parser":
        parser = _RESP2Parser if "_sync" in Bitmapist.__module__ else _AsyncRESP2Parser
        client = redis_api.Redis.from_url(redis_url, protocol=2, parser_class=parser)
    else:
        client = redis_api.Redis.from_url(redis_url, protocol=2, single_connection_client=True)
    admin.rpush("trackist_wrong_u", "not a bitmap")
    with Bitmapist(client) as bm:
        with bm.batch():
            for uid in range(50):
                bm.mark_event("slow", uid, NOW)
        with pytest.raises(WriteFailedError) as info:
            bm.mark_unique("wrong", 1)
        assert "WRONGTYPE" in str(info.value.__cause__)
        bm.mark_unique("right", 1)
        assert bm.DayEvents("slow", 2026, 11, 28).count() == 50
    client.close()
    assert admin.getbit("trackist_right_u", 1) == 1
