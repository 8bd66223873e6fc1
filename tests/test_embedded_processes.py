"""Durability and multi-writer safety of the embedded store, with real processes.

Children report progress on stdout; the parent synchronises on those lines (never on time): it
kills a child with SIGKILL right after reading an acknowledgement, or releases two children at
once through their stdin.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bitmapist_async import Bitmapist
from bitmapist_async.sync import Bitmapist as SyncBitmapist

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

MARKER_ASYNC = """
import asyncio, sys
from bitmapist_async import Bitmapist

async def main():
    async with Bitmapist(sys.argv[1]) as bm:
        uid = 0
        while True:
            await bm.mark_unique("acked", uid)
            print(f"ack {uid}", flush=True)
            uid += 1

asyncio.run(main())
"""

MARKER_SYNC = """
import sys
from bitmapist_async.sync import Bitmapist

with Bitmapist(sys.argv[1]) as bm:
    uid = 0
    while True:
        bm.mark_event("acked", uid)
        print(f"ack {uid}", flush=True)
        uid += 1
"""

# Each merge is one transaction touching ~16 container rows: killed mid-way, a chunk must be
# either entirely there or entirely absent.
MERGER = """
import asyncio, sys
from bitmapist_async import Bitmapist

def chunk(n):
    data = bytearray((n + 1) * 131072)
    for uid in range(n * 1048576, (n + 1) * 1048576, 997):
        data[uid >> 3] |= 0x80 >> (uid & 7)
    return bytes(data)

async def main():
    async with Bitmapist(sys.argv[1]) as bm:
        n = 0
        while True:
            await bm.storage.merge_bitmaps([("trackist_merged_u", chunk(n))], temp_prefix="t:")
            print(f"ack {n}", flush=True)
            n += 1

asyncio.run(main())
"""

WRITER = """
import sys
from bitmapist_async.sync import Bitmapist

first, count = int(sys.argv[2]), int(sys.argv[3])
with Bitmapist(sys.argv[1]) as bm:
    bm.ping()
    print("ready", flush=True)
    sys.stdin.readline()
    for uid in range(first, first + count):
        bm.mark_event("shared", uid)
        bm.mark_unique("shared", uid)
    print("done", flush=True)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_after_ack(child: subprocess.Popen[str], wanted: int) -> int:
    """Read acknowledgements until *wanted* of them, SIGKILL the child; return the last id it
    acknowledged (including lines written between our read and the kill)."""
    assert child.stdout is not None
    last = -1
    while last < wanted - 1:
        line = child.stdout.readline()
        if not line:
            raise AssertionError(f"child died: {child.communicate()[1]}")
        last = int(line.split()[1])
    os.kill(child.pid, signal.SIGKILL)
    # Acknowledgements written between our read and the kill: read them through the same
    # buffered reader (communicate() would bypass what readline() has already buffered).
    rest = child.stdout.read()
    child.communicate()  # reap the child, close the other pipes
    assert child.returncode == -signal.SIGKILL
    for line in rest.splitlines():
        last = int(line.split()[1])
    return last


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        (result,) = conn.execute("PRAGMA integrity_check").fetchone()
        return str(result)
    finally:
        conn.close()


@pytest.mark.parametrize("script", [MARKER_ASYNC, MARKER_SYNC], ids=["async", "sync"])
def test_acknowledged_marks_survive_kill_9(tmp_path: Path, script: str) -> None:
    path = tmp_path / "events.db"
    last = _kill_after_ack(_spawn(script, f"file://{path}"), wanted=300)
    assert _integrity(path) == "ok"
    with SyncBitmapist(f"file://{path}") as bm:
        if script is MARKER_ASYNC:
            ids = bm.UniqueEvents("acked").ids()
        else:
            ids = bm.MonthEvents("acked").ids()
            assert bm.DayEvents("acked").ids() == ids  # a mark's keys are written together
    # Every acknowledged mark is there; at most the one in flight when killed also is.
    assert ids[: last + 1] == list(range(last + 1))
    assert len(ids) in (last + 1, last + 2), (last, len(ids))
    assert ids == list(range(len(ids)))


def test_a_killed_merge_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    last = _kill_after_ack(_spawn(MERGER, f"file://{path}"), wanted=12)
    assert _integrity(path) == "ok"
    with SyncBitmapist(f"file://{path}") as bm:
        ids = bm.UniqueEvents("merged").ids()
    per_chunk = len(range(0, 1048576, 997))
    complete, partial = divmod(len(ids), per_chunk)
    assert partial == 0
    assert complete in (last + 1, last + 2)
    assert ids == [u for n in range(complete) for u in range(n * 1048576, (n + 1) * 1048576, 997)]


def test_two_processes_writing_one_file_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    url = f"file://{path}"
    with SyncBitmapist(url) as bm:
        bm.ping()  # create the store first, so both children open an existing file
    children = [_spawn(WRITER, url, "0", "400"), _spawn(WRITER, url, "100000", "400")]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
    for child in children:  # release both at once: their transactions interleave
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out == "done\n"
    assert _integrity(path) == "ok"
    expected = [*range(400), *range(100_000, 100_400)]
    with SyncBitmapist(url) as bm:
        assert bm.UniqueEvents("shared").ids() == expected
        assert bm.MonthEvents("shared").ids() == expected
        assert bm.WeekEvents("shared").count() == 800


def test_threads_and_tasks_share_one_store(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/events.db"
    with SyncBitmapist(url) as bm:
        errors: list[BaseException] = []

        def mark(first: int) -> None:
            try:
                for uid in range(first, first + 200):
                    bm.mark_unique("threads", uid)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=mark, args=(n * 1000,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert bm.UniqueEvents("threads").count() == 800

    async def tasks() -> list[int]:
        async with Bitmapist(url) as abm:
            await asyncio.gather(*(abm.mark_unique("tasks", uid) for uid in range(300)))
            return await abm.UniqueEvents("tasks").ids()

    assert asyncio.run(tasks()) == list(range(300))
