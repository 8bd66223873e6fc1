"""Sharded layout on one Redis vs a 3-master Redis Cluster, and classic vs sharded memory.

1. Mark throughput: ``--marks`` ``mark_event`` calls (ids spread over ``--id-span``), issued
   ``--concurrency`` at a time with ``asyncio.gather``, on the sharded layout. Baseline: one
   private ``redis-server``; compared: a private 3-master cluster (``redis+cluster://``). The
   classic layout on one Redis is listed for reference (what the shard index costs).
2. Memory: 1,000,000 ids in ``[3e9, 3e9 + 1e6)`` on one Redis, classic vs sharded layout
   (growth of ``INFO memory`` ``used_memory``, each layout on its own fresh server).
3. Cohort time (31 x 13 days table) on the cluster vs one Redis, tables checked equal.

    python -m benchmarks.bench_cluster
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import redis

from bitmapist_async import Bitmapist
from tests.cluster import RedisClusterProcess, start_cluster

from ._support import Result, private_redis, report

WHEN = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
FAR = 3_000_000_000
MIB = 2**20


async def _mark_all(url: str, options: dict[str, Any], uids: list[int], concurrency: int) -> float:
    # redis-py's async pools hold 100 connections by default and raise beyond that.
    async with Bitmapist(url, max_connections=max(100, concurrency), **options) as bm:
        await bm.delete_all_events()
        await bm.mark_event("warmup", 1, WHEN)  # connections, cluster slots, layout check
        began = time.perf_counter()
        for start in range(0, len(uids), concurrency):
            chunk = uids[start : start + concurrency]
            await asyncio.gather(*(bm.mark_event("bench", uid, WHEN) for uid in chunk))
        seconds = time.perf_counter() - began
        expected = len(set(uids))
        assert await bm.MonthEvents("bench", 2026, 11).count() == expected  # before speed
        await bm.delete_all_events()
    return seconds


def throughput(args: argparse.Namespace, cluster: RedisClusterProcess) -> str:
    rng = random.Random(8)
    uids = [rng.randrange(args.id_span) for _ in range(args.marks)]
    sharded = {"layout": "sharded"}
    with private_redis() as server:
        single_s = asyncio.run(_mark_all(server.url, sharded, uids, args.concurrency))
        classic_s = asyncio.run(_mark_all(server.url, {}, uids, args.concurrency))
    cluster_s = asyncio.run(_mark_all(cluster.url, sharded, uids, args.concurrency))

    def note(seconds: float) -> str:
        return f"{args.marks / seconds:,.0f} marks/s"

    return report(
        f"mark_event throughput: {args.marks:,} marks, {args.concurrency} concurrent "
        f"(asyncio.gather), ids in [0, {args.id_span:,})",
        Result("one Redis, sharded layout", single_s, f"baseline, {note(single_s)}"),
        [
            Result("3-master cluster, sharded layout", cluster_s, note(cluster_s)),
            Result("one Redis, classic layout (reference)", classic_s, note(classic_s)),
        ],
    )


async def _fill_far(url: str, options: dict[str, Any], count: int) -> None:
    async with Bitmapist(url, **options) as bm:
        key = bm.UniqueEvents("far").redis_key
        for start in range(0, count, 50_000):
            stop = min(count, start + 50_000)
            await bm.storage.write_bits([(key, FAR + i, 1) for i in range(start, stop)])
        assert await bm.UniqueEvents("far").count() == count


def _used_memory(port: int) -> int:
    with redis.Redis(port=port, protocol=2) as admin:
        return int(admin.info("memory")["used_memory"])


def memory(args: argparse.Namespace) -> str:
    growth: dict[str, int] = {}
    for name, options in (("classic", {}), ("sharded", {"layout": "sharded"})):
        with private_redis() as server:
            before = _used_memory(server.port)
            asyncio.run(_fill_far(server.url, options, args.far_ids))
            growth[name] = _used_memory(server.port) - before
    classic, sharded = growth["classic"], growth["sharded"]
    return "\n".join(
        [
            f"### Memory: {args.far_ids:,} ids in [3e9, 3e9 + {args.far_ids:,}) on one Redis",
            "",
            "| layout | used_memory growth | vs classic |",
            "|---|---|---|",
            f"| classic | {classic / MIB:,.1f} MiB | baseline |",
            f"| sharded (shard_bits=20) | {sharded / MIB:,.3f} MiB | "
            f"{sharded / classic:.5f} of it ({classic / sharded:,.0f}x less) |",
        ]
    )


async def _cohort_time(
    url: str, options: dict[str, Any], days: list[set[int]], first: date, repeat: int
) -> tuple[float, list[Any]]:
    async with Bitmapist(url, **options) as bm:
        await bm.delete_all_events()
        for n, ids in enumerate(days):
            when = datetime(first.year, first.month, first.day, 12, tzinfo=timezone.utc)
            when += timedelta(days=n)
            await asyncio.gather(*(bm.mark_event("active", uid, when) for uid in ids))
        n = len(days)
        table = await bm.cohort("active", "active", num_results=n, num_of_rows=12, start_date=first)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            await bm.cohort("active", "active", num_results=n, num_of_rows=12, start_date=first)
            times.append(time.perf_counter() - began)
        await bm.delete_all_events()
    return min(times), table.rows


def cohort_hook(cluster: RedisClusterProcess, users: int = 50_000, repeat: int = 10) -> str:
    """One 31 x 13 days table (``compute="storage"``) for *users* users, about 20% active per
    day, on one Redis (sharded, baseline), on the cluster (sharded) and on one Redis (classic);
    the three tables must be equal."""
    rng = random.Random(31)
    days = [{u for u in range(users) if rng.random() < 0.2} for _ in range(31)]
    first = date(2026, 10, 1)
    with private_redis() as server:
        single_s, single_rows = asyncio.run(
            _cohort_time(server.url, {"layout": "sharded"}, days, first, repeat)
        )
        classic_s, classic_rows = asyncio.run(_cohort_time(server.url, {}, days, first, repeat))
    cluster_s, cluster_rows = asyncio.run(
        _cohort_time(cluster.url, {"layout": "sharded"}, days, first, repeat)
    )
    assert single_rows == cluster_rows == classic_rows, "the layouts gave different tables"
    return report(
        f"cohort table 31 x 13 days, {users:,} users (~20% active per day), tables equal",
        Result("one Redis, sharded layout", single_s, "baseline"),
        [
            Result("3-master cluster, sharded layout", cluster_s, ""),
            Result("one Redis, classic layout (reference)", classic_s, ""),
        ],
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--marks", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--id-span", type=int, default=2**24, help="ids in [0, span)")
    parser.add_argument("--far-ids", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    cluster = start_cluster()
    try:
        parts = [throughput(args, cluster), cohort_hook(cluster)]
    finally:
        cluster.stop()
    parts.append(memory(args))
    text = "\n\n".join(parts)
    print(text)
    return text


if __name__ == "__main__":
    main()
