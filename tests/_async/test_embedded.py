"""The client on the embedded store: the model test, persistence, errors, TTLs, locking."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from bitmapist_async import (
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


async def test_events_and_bit_operations(url: str) -> None:
    async with Bitmapist(url) as bm:
        for uid in (1, 2, 3, 70_000, 2**32 - 1):
            await bm.mark_event("active", uid, NOV, track_hourly=True)
        await bm.mark_unique("premium", 2)
        await bm.mark_unique("premium", 9)
        month, premium = bm.MonthEvents("active", 2026, 11), bm.UniqueEvents("premium")
        assert await month.ids() == [1, 2, 3, 70_000, 2**32 - 1]
        assert list(await month.id_array()) == [1, 2, 3, 70_000, 2**32 - 1]
        assert await bm.HourEvents("active", 2026, 11, 3, 12).count() == 5
        assert await (month & ~premium).ids() == [1, 3, 70_000, 2**32 - 1]
        assert await (~premium).ids() == [0, 1, *range(3, 9), *range(10, 16)]
        assert await premium.bitmap() == b"\x20\x40"
        assert await bm.counts([month, premium, month & premium]) == [5, 2, 1]
        assert await bm.get_event_names() == ["active", "premium"]
        await bm.unmark_event("active", 70_000, NOV)
        assert not await month.contains(70_000)
        assert await bm.DayEvents("active", 2026, 11, 3).count() == 4


async def test_store_result_is_readable_by_another_client(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/events.db"
    async with Bitmapist(url) as writer:
        await writer.mark_unique("a", 1)
        await writer.mark_unique("b", 5)
        key = await (writer.UniqueEvents("a") | writer.UniqueEvents("b")).store()
    async with Bitmapist(url) as reader:
        assert await reader.storage.scan("trackist_bitop_*") == [key]
        results = await reader.storage.evaluate([], [Query("get", key), Query("count", key)])
        assert results == [b"\x44", 2]
        await reader.delete_temporary_bitop_keys()
        assert await reader.storage.scan("trackist_bitop_*") == []
        assert await reader.UniqueEvents("b").ids() == [5]


async def test_file_store_persists_and_reopens(tmp_path: Path) -> None:
    url = f"file:{tmp_path}/events.db"  # relative-style file: URL with an absolute path
    async with Bitmapist(url) as bm:
        await bm.mark_event("signup", 42, NOV)
        assert str(tmp_path) in repr(bm)
    async with Bitmapist(url) as bm:
        assert await bm.MonthEvents("signup", 2026, 11).ids() == [42]
        await bm.delete_all_events()
        assert await bm.get_event_names() == []


async def test_closed_store_refuses_every_call(url: str) -> None:
    storage = EmbeddedStorage(url)
    await storage.write_bits([("k", 1, 1)])
    await storage.aclose()
    await storage.aclose()
    with pytest.raises(ClientClosedError, match="closed"):
        await storage.ping()
    with pytest.raises(ClientClosedError):
        await storage.evaluate([], [Query("count", "k")])


async def test_bad_urls_fail_before_any_io(tmp_path: Path) -> None:
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
    await bm.aclose()
    assert not path.exists()


async def test_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database, just some text" * 100)
    async with Bitmapist(f"file://{junk}") as bm:
        with pytest.raises(EmbeddedStorageError, match="not an SQLite database"):
            await bm.ping()
    async with Bitmapist(f"file://{tmp_path}/missing-dir/x.db") as bm:
        # Writes go through the batcher: the storage error is the cause of the failure.
        with pytest.raises(WriteFailedError, match=r"cannot open|unable to open") as info:
            await bm.mark_unique("a", 1)
        assert isinstance(info.value.__cause__, EmbeddedStorageError)


async def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with Bitmapist(f"file://{path}") as bm:
        await bm.mark_unique("a", 1)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE bitmapist_meta SET value = '99' WHERE name = 'format'")
    conn.close()
    async with Bitmapist(f"file://{path}") as bm:
        with pytest.raises(EmbeddedStorageError, match="format '99'"):
            await bm.ping()


async def test_a_held_write_lock_gives_a_clear_error_and_reads_go_on(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with Bitmapist(f"file://{path}") as bm:
        await bm.mark_unique("a", 1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write in progress
    try:
        async with Bitmapist(f"file://{path}?timeout=0") as bm:
            with pytest.raises(WriteFailedError, match="locked by another") as info:
                await bm.mark_unique("a", 2)
            assert isinstance(info.value.__cause__, EmbeddedStorageError)
            assert await bm.UniqueEvents("a").ids() == [1]  # WAL: readers never wait
            other.execute("COMMIT")
            await bm.mark_unique("a", 2)
            assert await bm.UniqueEvents("a").ids() == [1, 2]
    finally:
        other.close()


async def test_stored_results_expire_like_redis_keys(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    async with Bitmapist(f"file://{path}", bitop_ttl=30) as bm:
        await bm.mark_unique("a", 1)
        key = await (bm.UniqueEvents("a") | bm.UniqueEvents("b")).store()
        with sqlite3.connect(path) as conn:
            (expires,) = conn.execute(
                "SELECT expires FROM bitmapist_keys WHERE name = ?", (key.encode(),)
            ).fetchone()
            assert 25 < expires - time.time() <= 30
            # Move the expiry into the past instead of waiting for it.
            conn.execute("UPDATE bitmapist_keys SET expires = 1 WHERE name = ?", (key.encode(),))
        conn.close()
        assert await bm.storage.scan("trackist_bitop_*") == []
        assert await bm.storage.evaluate([], [Query("exists", key)]) == [0]
        await bm.mark_unique("a", 2)  # any write purges expired keys
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT count(*) FROM bitmapist_keys").fetchone() == (1,)
        conn.close()
