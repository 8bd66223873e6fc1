"""Memory of 1,000,000 random ids in [0, 2**32) under one event: embedded store vs Redis.

The same ids (seeded) go into ``trackist_bench_u`` on a private ``redis-server`` and on the
embedded store, in batches of 10,000 SETBITs (``storage.write_bits``), in random order.
Measured in one run:

* Redis: ``INFO memory`` ``used_memory`` growth.
* Embedded (``file:`` and ``memory://``): growth of the resident memory of a fresh child process
  that does nothing else, and the size of the SQLite file.
* Both: bulk throughput, one-at-a-time ``mark_unique`` throughput (20,000 more ids, each call
  awaited), and ``count()`` / ``ids()`` / ``contains()`` latency (median).

Targets (issue 7): embedded <= 4 MiB of memory; measured before work started: Redis 512 MiB, a
roaring bitmap of these ids 2.4 MiB.

    python -m benchmarks.bench_memory
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis

from bitmapist_async import Bitmapist

from ._support import private_redis

MIB = 1 << 20
KEY = "trackist_bench_u"


def make_ids(count: int, seed: int) -> array[int]:
    """*count* distinct random ids in [0, 2**32), in random order."""
    return array("I", random.Random(seed).sample(range(2**32), count))


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


async def _median_seconds(fn: Callable[[], Awaitable[Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def measure(url: str, ids: array[int], args: argparse.Namespace) -> dict[str, Any]:
    """Fill, then time marks and queries, on the store at *url* (this process only)."""
    out: dict[str, Any] = {}
    async with Bitmapist(url) as bm:
        await bm.ping()
        storage = bm.storage
        out["rss_before_kib"] = _status_kib("VmRSS")
        began = time.perf_counter()
        for start in range(0, len(ids), args.batch):
            batch = ids[start : start + args.batch]
            await storage.write_bits([(KEY, uid, 1) for uid in batch])
        out["bulk_seconds"] = time.perf_counter() - began
        out["rss_after_fill_kib"] = _status_kib("VmRSS")
        out["hwm_after_fill_kib"] = _status_kib("VmHWM")

        extra = make_ids(args.single, args.seed + 1)
        began = time.perf_counter()
        for uid in extra:
            await bm.mark_unique("bench", uid)
        out["single_seconds"] = time.perf_counter() - began

        ev = bm.UniqueEvents("bench")
        expected = len(set(ids) | set(extra))
        assert await ev.count() == expected  # correctness before speed
        out["count_s"] = await _median_seconds(ev.count, args.repeat)
        out["contains_s"] = await _median_seconds(lambda: ev.contains(int(ids[0])), args.repeat)
        got: list[int] = []

        async def ids_call() -> None:
            got[:] = await ev.ids()

        out["ids_s"] = await _median_seconds(ids_call, max(1, args.repeat // 3))
        assert len(got) == expected
        out["rss_after_queries_kib"] = _status_kib("VmRSS")
    return out


def _child(args: argparse.Namespace) -> None:
    ids: array[int] = array("I")
    with open(args.ids_file, "rb") as fh:
        ids.frombytes(fh.read())
    result = asyncio.run(measure(args.child, ids, args))
    print(json.dumps(result))


def _run_child(url: str, ids_file: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_memory", "--child", url]
    command += ["--ids-file", str(ids_file), "--batch", str(args.batch)]
    command += ["--single", str(args.single), "--repeat", str(args.repeat)]
    command += ["--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def _row(
    name: str, memory_mib: float, disk: str, r: dict[str, Any], args: argparse.Namespace
) -> str:
    bulk = args.ids / r["bulk_seconds"]
    single = args.single / r["single_seconds"]
    return (
        f"| {name} | {memory_mib:.1f} | {disk} | {bulk:,.0f} | {single:,.0f} | "
        f"{r['count_s'] * 1000:.2f} | {r['contains_s'] * 1000:.2f} | {r['ids_s'] * 1000:.0f} |"
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--single", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--ids-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return ""

    ids = make_ids(args.ids, args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        ids_file = Path(tmp) / "ids.u32"
        ids_file.write_bytes(ids.tobytes())
        db = Path(tmp) / "events.db"
        embedded_file = _run_child(f"file://{db}", ids_file, args)
        db_size = sum(p.stat().st_size for p in Path(tmp).glob("events.db*"))
        embedded_memory = _run_child("memory://", ids_file, args)

    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)
        before = int(admin.info("memory")["used_memory"])
        rds = asyncio.run(measure(server.url, ids, args))
        used = int(admin.info("memory")["used_memory"]) - before
        admin.close()

    def growth(r: dict[str, Any]) -> float:
        return float(r["rss_after_fill_kib"] - r["rss_before_kib"]) / 1024

    lines = [
        f"### {args.ids:,} random ids in [0, 2**32) under one event",
        "",
        "| store | memory growth (MiB) | on disk (MiB) | bulk marks/s | single marks/s "
        "| count (ms) | contains (ms) | ids (ms) |",
        "|---|---|---|---|---|---|---|---|",
        _row("Redis 7 (`used_memory`)", used / MIB, "-", rds, args),
        _row(
            "embedded `file:` (process RSS)",
            growth(embedded_file),
            f"{db_size / MIB:.1f}",
            embedded_file,
            args,
        ),
        _row(
            "embedded `memory://` (process RSS)",
            growth(embedded_memory),
            "-",
            embedded_memory,
            args,
        ),
        "",
        f"Memory ratio Redis / embedded file: {used / MIB / max(growth(embedded_file), 0.01):.0f}x "
        "(target: embedded <= 4 MiB). Peak RSS growth while filling (file): "
        f"{(embedded_file['hwm_after_fill_kib'] - embedded_file['rss_before_kib']) / 1024:.1f} "
        "MiB. Single marks: one awaited `mark_unique` at a time; bulk: `write_bits` batches of "
        f"{args.batch:,}.",
    ]
    table = "\n".join(lines)
    print(table)
    return table


if __name__ == "__main__":
    main()
