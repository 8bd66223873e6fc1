"""The embedded store's own writes never leave damage that ``check()`` finds (a hypothesis test
over every write path), and read-only opens see every acknowledged write, even one a killed
writer left in the write-ahead log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from bitmapist_async._core.bitstrings import BitString
from bitmapist_async._core.plan import BitOpStep, Query
from bitmapist_async._core.roaring import bitmap_from_ids, to_redis_bytes
from bitmapist_async._sqlite_file import FileState, file_state
from bitmapist_async.sync import EmbeddedStorage, EmbeddedStorageError

KEYS = ("k1", "k2", "k3")
# Ids around container edges, inside one container (array -> bitset past 4096), and far out.
IDS = st.one_of(
    st.integers(0, 70),
    st.integers(65_530, 65_545),
    st.integers(0, 9_000),
    st.integers(2**32 - 3, 2**32 - 1),
)
RUNS = st.builds(
    lambda start, n: range(start, start + n), st.integers(0, 140_000), st.integers(1, 5_000)
)
OFFSETS = st.one_of(st.lists(IDS, max_size=40), RUNS.map(list))

OPERATION = st.one_of(
    st.tuples(
        st.just("setbits"),
        st.lists(
            st.tuples(st.sampled_from(KEYS), IDS, st.sampled_from([0, 1])), min_size=1, max_size=30
        ),
    ),
    st.tuples(st.just("merge_bits"), st.sampled_from(KEYS), OFFSETS, st.booleans()),
    st.tuples(
        st.just("merge_bitmaps"),
        st.sampled_from(KEYS),
        st.lists(st.integers(0, 200_000), max_size=40),
        st.booleans(),
    ),
    st.tuples(st.just("replace"), st.sampled_from(KEYS), st.one_of(st.none(), OFFSETS)),
    st.tuples(
        st.just("bitop"), st.sampled_from(["AND", "OR", "XOR", "NOT"]), st.sampled_from(KEYS)
    ),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
)


def _count(storage: EmbeddedStorage, key: str) -> int:
    (count,) = storage.evaluate([], [Query("count", key)])
    assert isinstance(count, int)
    return count


def _apply(storage: EmbeddedStorage, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "setbits":
        storage.write_bits(op[1])
    elif kind == "merge_bits":
        _, key, offsets, unmark = op
        storage.merge_bits([(key, offsets)], temp_prefix="t:", unmark=unmark)
    elif kind == "merge_bitmaps":
        _, key, ids, unmark = op
        data = to_redis_bytes(bitmap_from_ids(ids), max(ids) // 8 + 1) if ids else b""
        storage.merge_bitmaps([(key, data)], temp_prefix="t:", unmark=unmark)
    elif kind == "replace":
        _, key, ids = op
        value = None if not ids else BitString(bitmap_from_ids(ids), max(ids) // 8 + 1)
        storage.replace_bitstrings([(key, value)])
    elif kind == "bitop":
        _, bitop, key = op
        sources = (key,) if bitop == "NOT" else KEYS
        # Expression.store(): the result is written at its key, with a TTL.
        storage.evaluate([BitOpStep(bitop, f"{key}_{bitop}", sources)], [])
    else:
        storage.delete([op[1]])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPERATION, min_size=1, max_size=12))
def test_the_librarys_own_writes_never_fail_the_check(
    tmp_path: Path, ops: list[tuple[Any, ...]]
) -> None:
    path = tmp_path / "events.db"
    path.unlink(missing_ok=True)
    storage = EmbeddedStorage(f"file://{path}")
    try:
        for op in ops:
            _apply(storage, op)
        report = storage.check()
        assert report.damage == ()
        keys = storage.scan("*")
        values = storage.read_bitstrings(keys)
        counts = storage.evaluate([], [Query("count", key) for key in keys])
        for value, count in zip(values, counts, strict=True):
            assert value is not None
            assert count == len(value.bits)
            assert not value.bits or value.bits.max() < 8 * value.nbytes
    finally:
        storage.close()
    read_only = EmbeddedStorage(f"file://{path}?mode=ro")
    try:
        assert read_only.check().damage == ()
    finally:
        read_only.close()


def test_an_immutable_read_is_retried_when_the_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"file://{tmp_path}/events.db"
    with closing(EmbeddedStorage(url)) as writer:
        writer.write_bits([("k", 3, 1)])
    calls: list[str] = []

    def changing(path: str) -> FileState:
        # As if another process wrote the file between every two looks at it.
        calls.append(path)
        return file_state(path)._replace(mtime_ns=len(calls))

    monkeypatch.setattr("bitmapist_async._sqlite_store.file_state", changing)
    with closing(EmbeddedStorage(url + "?mode=ro")) as reader:
        with pytest.raises(EmbeddedStorageError, match="changed during each of 5"):
            reader.evaluate([], [Query("count", "k")])
        assert len(calls) == 10  # before and after each of the five reads
        monkeypatch.undo()
        assert reader.evaluate([], [Query("count", "k")]) == [1]


MARKER = """
import sys
from bitmapist_async.sync import Bitmapist

with Bitmapist(sys.argv[1]) as bm:
    uid = 0
    while True:
        bm.mark_unique("acked", uid)
        print(f"ack {uid}", flush=True)
        uid += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_read_only_sees_every_acknowledged_mark_of_a_live_then_killed_writer(
    tmp_path: Path,
) -> None:
    url = f"file://{tmp_path}/events.db"
    key = "trackist_acked_u"
    proc = subprocess.Popen([sys.executable, "-c", MARKER, url], stdout=subprocess.PIPE, text=True)
    reader = EmbeddedStorage(url + "?mode=ro")
    try:
        assert proc.stdout is not None
        acked = -1
        for _ in range(200):
            acked = int(proc.stdout.readline().split()[1])
            if acked % 20 == 0:
                assert _count(reader, key) >= acked + 1  # every acknowledged mark is visible
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert os.path.getsize(f"{tmp_path}/events.db-wal") > 0  # left in the log
        (ids,) = reader.evaluate([], [Query("ids", key)])
        assert not isinstance(ids, (int, bytes))
        assert list(ids)[: acked + 1] == list(range(acked + 1))
        assert reader.check().ok
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
        reader.close()
    # A fresh read-only open after the crash reads the log too (never as immutable).
    with closing(EmbeddedStorage(url + "?mode=ro")) as again:
        assert _count(again, key) >= acked + 1
