"""The embedded store protects its file: other applications' databases are refused untouched,
a read-only open never writes, and damaged rows are typed errors that name the key."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bitmapist_async import (
    Bitmapist,
    EmbeddedStorage,
    EmbeddedStorageError,
    ReadOnlyStoreError,
    StoreCheckReport,
    WriteFailedError,
)
from bitmapist_async._core.bitstrings import BitString
from bitmapist_async._core.plan import BitOpStep, Query
from bitmapist_async._sqlite_file import APPLICATION_ID, SCHEMA

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _snapshot(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file in *directory*: its digest and modification time."""
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
    }


def _sql(path: Path, *statements: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            rows = conn.execute(statement).fetchall()
        return rows
    finally:
        conn.close()


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make *path* (a file or a directory) read-only for the duration."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(mode)


async def _check(bm: Bitmapist) -> StoreCheckReport:
    storage = bm.storage
    assert isinstance(storage, EmbeddedStorage)
    return await storage.check()


async def _make_store(path: Path) -> str:
    url = f"file://{path}"
    async with Bitmapist(url) as bm:
        await bm.mark_unique("a", 5)
        await bm.mark_unique("a", 70_000)
        await bm.mark_unique("b", 1)
    return url


# -- another application's database ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["", "?mode=ro"])
async def test_another_applications_database_is_refused_untouched(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "app.db"
    _sql(
        path,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)",
        "INSERT INTO users VALUES (1, 'x')",
    )
    before = _snapshot(tmp_path)
    async with Bitmapist(f"file://{path}{mode}") as bm:
        with pytest.raises(EmbeddedStorageError, match=r"another application's.*users") as info:
            await bm.ping()
        assert str(path) in str(info.value)
        if mode:  # refused at the call: nothing to write through
            with pytest.raises(ReadOnlyStoreError):
                await bm.mark_unique("a", 1)
        else:
            with pytest.raises(WriteFailedError) as failed:
                await bm.mark_unique("a", 1)
            assert isinstance(failed.value.__cause__, EmbeddedStorageError)
        with pytest.raises(EmbeddedStorageError, match="another application's"):
            await bm.UniqueEvents("a").count()
    assert _snapshot(tmp_path) == before  # same bytes, same mtime, no -wal or -shm
    assert _sql(path, "PRAGMA journal_mode") == [("delete",)]


async def test_a_database_with_another_application_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _sql(path, "PRAGMA application_id = 1234")  # no tables: only the id says whose it is
    before = _snapshot(tmp_path)
    storage = EmbeddedStorage(f"file://{path}")
    with pytest.raises(EmbeddedStorageError, match=r"application_id 0x000004d2"):
        await storage.ping()
    await storage.aclose()
    assert _snapshot(tmp_path) == before


async def test_a_new_store_is_stamped(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    await _make_store(path)
    assert _sql(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")  # an empty file is an empty database: it becomes a store
    async with Bitmapist(f"file://{empty}") as bm:
        await bm.mark_unique("a", 1)
    assert _sql(empty, "PRAGMA application_id") == [(APPLICATION_ID,)]


async def test_a_store_of_an_earlier_version_opens_and_is_stamped(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    # What earlier versions wrote: the same tables, no application id.
    _sql(
        path,
        "PRAGMA journal_mode=WAL",
        *SCHEMA,
        "INSERT INTO bitmapist_meta VALUES ('format', '1')",
        "INSERT INTO bitmapist_keys VALUES (1, CAST('trackist_a_u' AS BLOB), 1, NULL)",
        "INSERT INTO bitmapist_chunks VALUES (1, 0, 1, 0, x'0500')",
    )
    before = _snapshot(tmp_path)
    async with Bitmapist(f"file://{path}?mode=ro") as bm:
        assert await bm.UniqueEvents("a").ids() == [5]
    assert _snapshot(tmp_path) == before  # read-only: not even stamped
    assert _sql(path, "PRAGMA application_id") == [(0,)]
    async with Bitmapist(f"file://{path}") as bm:
        assert await bm.UniqueEvents("a").ids() == [5]
        await bm.mark_unique("a", 6)
    assert _sql(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    async with Bitmapist(f"file://{path}") as bm:
        assert await bm.UniqueEvents("a").ids() == [5, 6]


async def test_store_tables_next_to_another_applications_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.db"
    _sql(
        path, *SCHEMA, "CREATE TABLE users(id)", "INSERT INTO bitmapist_meta VALUES ('format', '1')"
    )
    before = _snapshot(tmp_path)
    storage = EmbeddedStorage(f"file://{path}")
    with pytest.raises(EmbeddedStorageError, match=r"another application's.*users"):
        await storage.ping()
    await storage.aclose()
    assert _snapshot(tmp_path) == before


# -- read-only ------------------------------------------------------------------------------


async def test_read_only_reads_and_never_writes(tmp_path: Path) -> None:
    url = await _make_store(tmp_path / "events.db")
    before = _snapshot(tmp_path)
    assert sorted(before) == ["events.db"]  # the writer closed cleanly: no log files
    async with Bitmapist(url + "?mode=ro") as bm:
        assert await bm.UniqueEvents("a").ids() == [5, 70_000]
        assert await bm.UniqueEvents("a").count() == 2
        assert await (bm.UniqueEvents("a") | bm.UniqueEvents("b")).count() == 3
        assert await bm.get_event_names() == ["a", "b"]
        assert (await _check(bm)).ok
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            await bm.mark_unique("a", 6)
        with pytest.raises(ReadOnlyStoreError, match="cannot store"):
            await (bm.UniqueEvents("a") & bm.UniqueEvents("b")).store()
        with pytest.raises(ReadOnlyStoreError, match="delete 1 existing key"):
            await bm.UniqueEvents("a").delete()
        await bm.storage.delete(["trackist_missing"])  # deletes nothing: allowed
        assert await bm.UniqueEvents("a").ids() == [5, 70_000]
        assert _snapshot(tmp_path) == before  # while open too: no -wal, no -shm
    assert _snapshot(tmp_path) == before


async def test_read_only_storage_refuses_every_write_at_the_call(tmp_path: Path) -> None:
    url = await _make_store(tmp_path / "events.db")
    before = _snapshot(tmp_path)
    storage = EmbeddedStorage(url + "?mode=ro")
    assert storage.read_only
    assert not EmbeddedStorage(url).read_only
    nothing: BitString | None = None
    with pytest.raises(ReadOnlyStoreError, match=r"mode=ro.*cannot set bits"):
        await storage.write_bits([("k", 1, 1)])
    with pytest.raises(ReadOnlyStoreError, match=r"cannot merge"):
        await storage.merge_bitmaps([("k", b"\x80")], temp_prefix="t")
    with pytest.raises(ReadOnlyStoreError, match=r"cannot merge"):
        await storage.merge_bits([("k", [1])], temp_prefix="t")
    with pytest.raises(ReadOnlyStoreError, match=r"cannot replace"):
        await storage.replace_bitstrings([("k", nothing)])
    with pytest.raises(ReadOnlyStoreError, match=r"cannot store"):
        await storage.evaluate([BitOpStep("OR", "d", ("trackist_a_u",))], [])
    assert await storage.evaluate([], [Query("count", "trackist_a_u")]) == [2]
    await storage.aclose()
    assert _snapshot(tmp_path) == before


async def test_read_only_never_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    async with Bitmapist(f"file://{path}?mode=ro") as bm:
        with pytest.raises(EmbeddedStorageError, match=r"missing\.db does not exist"):
            await bm.UniqueEvents("a").count()
    assert os.listdir(tmp_path) == []
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    async with Bitmapist(f"file://{empty}?mode=ro") as bm:
        with pytest.raises(EmbeddedStorageError, match="empty database"):
            await bm.ping()
    assert os.listdir(tmp_path) == ["empty.db"]
    assert empty.read_bytes() == b""


async def test_read_only_from_a_read_only_directory_and_file(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    path = backup / "events.db"
    url = await _make_store(path)
    before = _snapshot(backup)
    with _read_only(path), _read_only(backup):
        if not ROOT:  # as root chmod does not stop writes; what can be tested is below
            async with Bitmapist(url) as bm:
                with pytest.raises(EmbeddedStorageError, match=r"mode=ro|unable to open"):
                    await bm.UniqueEvents("a").count()
        async with Bitmapist(url + "?mode=ro") as bm:
            assert await bm.UniqueEvents("a").ids() == [5, 70_000]
            assert await bm.MonthEvents("a", 2026, 1).count() == 0
            assert _snapshot(backup) == before
    assert _snapshot(backup) == before


async def test_read_only_follows_a_live_writer(tmp_path: Path) -> None:
    url = await _make_store(tmp_path / "events.db")
    reader = Bitmapist(url + "?mode=ro")
    assert await reader.UniqueEvents("a").count() == 2  # no log yet: read as immutable
    async with Bitmapist(url) as writer:
        await writer.mark_unique("a", 6)  # the writer keeps a write-ahead log open
        assert await reader.UniqueEvents("a").ids() == [5, 6, 70_000]
        await writer.mark_unique("a", 7)
        assert await reader.UniqueEvents("a").count() == 4
    await writer.aclose()
    async with Bitmapist(url) as writer:
        await writer.mark_unique("a", 8)
    assert await reader.UniqueEvents("a").count() == 5
    await reader.aclose()


# -- damaged rows ---------------------------------------------------------------------------


async def test_a_damaged_payload_is_a_typed_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    url = await _make_store(path)
    _sql(path, "UPDATE bitmapist_chunks SET payload = x'ff' WHERE hi = 1")
    async with Bitmapist(url) as bm:
        for query in (bm.UniqueEvents("a").ids, bm.UniqueEvents("a").bitmap):
            with pytest.raises(EmbeddedStorageError, match=r"trackist_a_u.*damaged") as info:
                await query()
            assert str(path) in str(info.value)
            assert isinstance(info.value.__cause__, ValueError)
        with pytest.raises(EmbeddedStorageError, match="trackist_a_u"):
            await (bm.UniqueEvents("a") & bm.UniqueEvents("b")).count()
        with pytest.raises(EmbeddedStorageError, match="trackist_a_u"):
            await bm.UniqueEvents("a").contains(70_000)
        with pytest.raises(WriteFailedError) as failed:
            await bm.mark_unique("a", 70_001)  # the damaged container is read to be changed
        assert "trackist_a_u" in str(failed.value.__cause__)
        assert await bm.UniqueEvents("b").ids() == [1]  # other keys are unharmed
        report = await _check(bm)
    assert [d.key for d in report.damage] == ["trackist_a_u"]
    assert "container 1" in str(report.damage[0])


async def test_check_finds_what_count_would_get_wrong(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    url = await _make_store(path)
    async with Bitmapist(url + "?mode=ro") as bm:
        assert (await _check(bm)).ok
    _sql(path, "UPDATE bitmapist_chunks SET card = 2 WHERE hi = 1")  # one id, says two
    _sql(path, "UPDATE bitmapist_keys SET nbytes = 0 WHERE name = CAST('trackist_b_u' AS BLOB)")
    _sql(path, "INSERT INTO bitmapist_chunks VALUES (99, 0, 1, 0, x'0100')")  # of no key
    async with Bitmapist(url + "?mode=ro") as bm:
        assert await bm.UniqueEvents("a").count() == 3  # the stored cardinality: wrong
        with pytest.raises(EmbeddedStorageError, match="trackist_b_u"):
            await bm.UniqueEvents("b").bitmap()  # an id beyond the byte length
        report = await _check(bm)
    assert not report.ok
    shown = [str(d) for d in report.damage]
    assert shown[0].startswith("key 'trackist_a_u': container 1:")
    assert "cardinality 2" in shown[0]
    assert shown[1].startswith("key 'trackist_b_u':")
    assert "does not fit in 0 bytes" in shown[1]
    assert shown[2] == "the store: 1 container(s) of key id 99, which is no key"
    assert (report.keys, report.containers) == (2, 4)


async def test_marks_on_a_read_only_store_fail_at_the_call(tmp_path: Path) -> None:
    url = await _make_store(tmp_path / "events.db")
    before = _snapshot(tmp_path)
    async with Bitmapist(url + "?mode=ro") as bm:
        with pytest.raises(ReadOnlyStoreError, match=r"mode=ro.*marks are refused"):
            await bm.mark_event("a", 1)
        with pytest.raises(ReadOnlyStoreError, match=r"mode=ro.*marks are refused"):
            await bm.unmark_event("a", 1)
        with pytest.raises(ReadOnlyStoreError, match=r"mode=ro.*marks are refused"):
            await bm.mark_unique("a", 1)
        with pytest.raises(ReadOnlyStoreError, match=r"mode=ro.*marks are refused"):
            await bm.unmark_unique("a", 1)
        assert bm.pending_writes == 0
        assert await bm.UniqueEvents("a").count() == 2
    assert _snapshot(tmp_path) == before


async def test_a_container_key_out_of_range_is_a_typed_error_naming_the_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    url = await _make_store(path)
    _sql(path, "UPDATE bitmapist_chunks SET hi = 99999 WHERE hi = 1")
    async with Bitmapist(url) as bm:
        with pytest.raises(EmbeddedStorageError, match=r"trackist_a_u.*damaged") as info:
            await bm.UniqueEvents("a").ids()
        assert isinstance(info.value.__cause__, OverflowError)
        with pytest.raises(EmbeddedStorageError, match="trackist_a_u"):
            await (bm.UniqueEvents("a") & ~bm.UniqueEvents("b")).count()
        report = await _check(bm)
    assert [d.key for d in report.damage] == ["trackist_a_u"]
