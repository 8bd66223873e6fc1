"""A write of the embedded store waiting for another process's lock holds back neither this
client's queries (they read through a connection of their own: WAL readers never wait for a
writer) nor, beyond a bound, its ``aclose()``."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from pathlib import Path

from bitmapist_async import Bitmapist, WriteFailedError, WriteOptions

LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT OR REPLACE INTO bitmapist_meta VALUES ('lock', '1')")
print("locked", flush=True)
sys.stdin.read()  # held until the test closes our stdin
conn.execute("ROLLBACK")
"""


async def test_queries_are_answered_while_a_mark_waits_for_another_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    url = f"file://{path}"
    async with Bitmapist(url) as bm:
        for uid in range(100):
            await bm.mark_unique("a", uid)
    locker = subprocess.Popen(  # noqa: ASYNC220 - the test's own helper process
        [sys.executable, "-c", LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        options = WriteOptions(attempt_timeout=1, retry_deadline=2)
        bm = Bitmapist(url, timeout=2, write_options=options)
        mark = asyncio.ensure_future(bm.mark_unique("a", 500))
        for _ in range(3):
            assert await bm.UniqueEvents("a").count() == 100  # not a StorageTimeoutError
            assert await bm.get_event_names() == ["a"]
        assert not mark.done()
        # The lock outlives the retry deadline: the mark fails, never acknowledged.
        with contextlib.suppress(WriteFailedError):
            await mark
        await asyncio.wait_for(bm.aclose(), 10)  # abandoned attempts are interrupted
    finally:
        assert locker.stdin is not None
        locker.stdin.close()
        locker.wait(timeout=30)
        assert locker.stdout is not None
        locker.stdout.close()
    async with Bitmapist(url) as bm:
        assert await bm.UniqueEvents("a").count() in (100, 101)
