"""Bulk import memory stays flat however big the file: measured with tracemalloc in a fresh
interpreter, for a file of 10 chunks and one of 80 chunks (same ids, same keys per chunk).

What an import holds is one chunk of ids (4 bytes a row) and one block of parsed rows (a
moment's worth of Python objects for ``block_bytes`` of text), never the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1_000
BLOCK = 32 * 1024

SCRIPT = """
import asyncio, json, sys, tracemalloc
from bitmapist_async import Bitmapist, EventLog

async def main(url, path, chunk, block, use_numpy):
    async with Bitmapist(url, key_prefix="mem_", use_numpy=use_numpy) as bm:
        await bm.ping()
        if use_numpy:
            import numpy  # loaded on first use: its one-time import is not the import's memory
        tracemalloc.start()
        summary = await bm.import_events(EventLog(path, block_bytes=block), chunk_rows=chunk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps({"peak": peak, "rows": summary.rows_imported,
                      "chunks": summary.chunks_written}))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 sys.argv[5] == "numpy"))
"""


def _write_log(path: Path, rows: int) -> Path:
    """Rows cycling over 5 events, 2,000 ids and 3 days (epoch seconds): every chunk writes
    the same few small keys (the session's MONITOR records every command)."""
    start = 1_777_593_600  # 2026-05-01T00:00:00Z
    with open(path, "w") as out:
        out.write("event,user_id,timestamp\n")
        for i in range(rows):
            out.write(f"e{i % 5},{(i * 7919) % 2_000},{start + (i * 6113) % (3 * 86400)}\n")
    return path


def _peak(url: str, path: Path, mode: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, str(path), str(CHUNK), str(BLOCK), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=110,
    )
    result: dict[str, int] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("mode", ["numpy", "python"])
def test_memory_is_flat_in_the_file_size(
    redis_url: str, admin: redis.Redis, tmp_path: Path, mode: str
) -> None:
    small = _peak(redis_url, _write_log(tmp_path / "small.csv", 10 * CHUNK), mode)
    large = _peak(redis_url, _write_log(tmp_path / "large.csv", 80 * CHUNK), mode)
    assert (small["rows"], small["chunks"]) == (10 * CHUNK, 10)
    assert (large["rows"], large["chunks"]) == (80 * CHUNK, 80)
    # 8x the rows, the same peak: only a chunk and one block are ever held
    assert large["peak"] <= small["peak"] * 1.05 + 64 * 1024
    # bounded: a fixed part (client, pipeline, one write batch of bitmaps), ~40x the block's
    # text for a moment, ~12 bytes per chunk row
    assert large["peak"] < 4 * 2**20 + 40 * BLOCK + 12 * CHUNK
    assert admin.keys("mem_bitop_*") == []
