# This file is generated from tests/_async/test_embedded.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""The client on the embedded store: the model test, persistence, errors, TTLs, locking."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from bitmapist_async.sync import (
    Bitmapist,
    ClientClosedError,
    EmbeddedStorage,
    EmbeddedStorageError,
    WriteFailedError,
)
from bitmapist_async._core.plan import Query

from ..conftest import LayoutTarget
from .test_model import BitmapistMachine

NOV = datetime(2026, 11, 3, 12, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "file"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"file://{tmp_path}/events.db"


def test_model_on_the_embedded_store(url: str) -> None:
    class EmbeddedMachine(BitmapistMachine):
        pass

    EmbeddedMachine.target = LayoutTarget("redis", url, {})
    run_state_machine_as_test(
        EmbeddedMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_events_and_bit_operations(url: str) -> None:
    with Bitmapist(url) as bm:
        for uid in (1, 2, 3, 70_000, 2**32 - 1):
            bm.mark_event("active", uid, NOV, track_hourly=True)
        bm.mark_unique("premium", 2)
        bm.mark_unique("premium", 9)
        month, premium = bm.MonthEvents("active", 2026, 11), bm.UniqueEvents("premium")
        assert month.ids() == [1, 2, 3, 70_000, 2**32 - 1]
        assert list(month.id_array()) == [1, 2, 3, 70_000, 2**32 - 1]
        assert bm.HourEvents("active", 2026, 11, 3, 12).count() == 5
        assert (month & ~premium).ids() == [1, 3, 70_000, 2**32 - 1]
        assert (~premium).ids() == [0, 1, *range(3, 9), *range(10, 16)]
        assert premium.bitmap() == b"\x20\x40"
        assert bm.counts([month, premium, month & premium]) == [5, 2, 1]
        assert bm.get_event_names() == ["active", "premium"]
        bm.unmark_event("active", 70_000, NOV)
        assert not month.contains(70_000)
        assert bm.DayEvents("active", 2026, 11, 3).count() == 4


def test_store_result_is_readable_by_another_client(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/events.db"
    with Bitmapist(url) as writer:
        writer.mark_unique("a", 1)
        writer.mark_unique("b", 5)
        key = (writer.UniqueEvents("a") | writer.UniqueEvents("b")).store()
    with Bitmapist(url) as reader:
        assert reader.storage.scan("trackist_bitop_*") == [key]
        results = reader.storage.evaluate([], [Query("get", key), Query("count", key)])
        assert results == [b"\x44", 2]
        reader.delete_temporary_bitop_keys()
        assert reader.storage.scan("trackist_bitop_*") == []
        assert reader.UniqueEvents("b").ids() == [5]


def test_file_store_persists_and_reopens(tmp_path: Path) -> None:
    url = f"file:{tmp_path}/events.db"  # relative-style file: URL with an absolute path
    with Bitmapist(url) as bm:
        bm.mark_event("signup", 42, NOV)
        assert str(tmp_path) in repr(bm)
    with Bitmapist(url) as bm:
        assert bm.MonthEvents("signup", 2026, 11).ids() == [42]
        bm.delete_all_events()
        assert bm.get_event_names() == []


def test_closed_store_refuses_every_call(url: str) -> None:
    storage = EmbeddedStorage(url)
    storage.write_bits([("k", 1, 1)])
    storage.close()
    storage.close()
    with pytest.raises(ClientClosedError, match="closed"):
        storage.ping()
    with pytest.raises(ClientClosedError):
        storage.evaluate([], [Query("count", "k")])


def test_bad_urls_fail_before_any_io(tmp_path: Path) -> None:
    for bad in ("file://elsewhere/x.db", "file:///x.db?timeout=soon", "memory://name", "file:"):
        with pytest.raises(ValueError, match=r"file|memory|timeout"):
            Bitmapist(bad)
    with pytest.raises(TypeError, match="max_connections"):
        Bitmapist("memory://", max_connections=3)
    with pytest.raises(ValueError, match="bitop_ttl"):
        EmbeddedStorage("memory://", bitop_ttl=0)
    path = tmp_path / "never.db"
    bm = Bitmapist(f"file://{path}")
    assert not path.exists()  # opening is lazy
    bm.close()
    assert not path.exists()


def test_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database, just some text" * 100)
    with Bitmapist(f"file://{junk}") as bm:
        with pytest.raises(EmbeddedStorageError, match="not an SQLite database"):
            bm.ping()
    with Bitmapist(f"file://{tmp_path}/missing-dir/x.db") as bm:
        # Writes go through the batcher: the storage error is the cause of the failure.
        with pytest.raises(WriteFailedError, match=r"cannot open|unable to open") as info:
            bm.mark_unique("a", 1)
        assert isinstance(info.value.__cause__, EmbeddedStorageError)


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with Bitmapist(f"file://{path}") as bm:
        bm.mark_unique("a", 1)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE bitmapist_meta SET value = '99' WHERE name = 'format'")
    conn.close()
    with Bitmapist(f"file://{path}") as bm:
        with pytest.raises(EmbeddedStorageError, match="format '99'"):
            bm.ping()


def test_a_held_write_lock_gives_a_clear_error_and_reads_go_on(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with Bitmapist(f"file://{path}") as bm:
        bm.mark_unique("a", 1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write in progress
    try:
        with Bitmapist(f"file://{path}?timeout=0") as bm:
            with pytest.raises(WriteFailedError, match="locked by another") as info:
                bm.mark_unique("a", 2)
            assert isinstance(info.value.__cause__, EmbeddedStorageError)
            assert bm.UniqueEvents("a").ids() == [1]  # WAL: readers never wait
            other.execute("COMMIT")
            bm.mark_unique("a", 2)
            assert bm.UniqueEvents("a").ids() == [1, 2]
    finally:
        other.close()


def test_stored_results_expire_like_redis_keys(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with Bitmapist(f"file://{path}", bitop_ttl=30) as bm:
        bm.mark_unique("a", 1)
        key = (bm.UniqueEvents("a") | bm.UniqueEvents("b")).store()
        with sqlite3.connect(path) as conn:
            (expires,) = conn.execute(
                "SELECT expires FROM bitmapist_keys WHERE name = ?", (key.encode(),)
            ).fetchone()
            assert 25 < expires - time.time() <= 30
            # Move the expiry into the past instead of waiting for it.
            conn.execute("UPDATE bitmapist_keys SET expires = 1 WHERE name = ?", (key.encode(),))
        conn.close()
        assert bm.storage.scan("trackist_bitop_*") == []
        assert bm.storage.evaluate([], [Query("exists", key)]) == [0]
        bm.mark_unique("a", 2)  # any write purges expired keys
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT count(*) FROM bitmapist_keys").fetchone() == (1,)
        conn.close()
