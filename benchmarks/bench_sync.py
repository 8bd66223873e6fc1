"""Sync ``mark_event`` loops: bitmapist 3.119 vs ``bitmapist_async.sync`` vs ``compat``.

One private redis-server, one run. Each variant marks ``--marks`` ids (one call each: the month,
ISO week and day bitmaps); the best loop counts. Rounds interleave the variants, bitmapist (in
its own virtualenv) included, so that machine noise hits them alike. Two reference rows without
the library show the cost of the redis-py ``Pipeline`` object against hand-packed commands.
Target: the sync loop at least as fast as bitmapist's.

    python -m benchmarks.bench_sync
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import redis

import bitmapist_async.compat as compat
from bitmapist_async._sync.redis_storage import redis_connect_kwargs
from bitmapist_async.sync import Bitmapist

from ._support import Result, legacy_python, private_redis, report, run_legacy

WHEN = datetime(2026, 11, 28, 13, tzinfo=timezone.utc)
KEYS = ("trackist_bench_2026-11", "trackist_bench_W2026-48", "trackist_bench_2026-11-28")

LEGACY_SCRIPT = """
import time
from datetime import datetime, timezone
from typing import Any
from bitmapist import MonthEvents, get_redis, mark_event
when = datetime(2026, 11, 28, 13, tzinfo=timezone.utc)
times = []
for _ in range(params["repeat"]):
    get_redis().delete(*params["keys"])
    began = time.perf_counter()
    for uid in range(params["marks"]):
        mark_event("bench", uid, now=when)
    times.append(time.perf_counter() - began)
result = {"seconds": min(times), "count": len(MonthEvents("bench", 2026, 11))}
"""


def best_loop(mark: Callable[[int], None], admin: redis.Redis, marks: int, repeat: int) -> float:
    """Fastest of *repeat* loops of *marks* calls, each on a fresh set of keys; checks that
    every id was stored."""
    times = []
    for _ in range(repeat):
        admin.delete(*KEYS)
        began = time.perf_counter()
        for uid in range(marks):
            mark(uid)
        times.append(time.perf_counter() - began)
        stored = [admin.bitcount(key) for key in KEYS]
        assert stored == [marks] * 3, stored
    return min(times)


def batch_row(url: str, admin: redis.Redis, marks: int, repeat: int) -> Result | None:
    """The ``with bm.batch():`` row: every mark buffered, one pipelined write at block exit;
    best of *repeat* blocks, each checked stored."""
    times = []
    with Bitmapist(url) as bm:
        bm.ping()
        for _ in range(repeat):
            admin.delete(*KEYS)
            began = time.perf_counter()
            with bm.batch():
                for uid in range(marks):
                    bm.mark_event("bench", uid, WHEN)
            times.append(time.perf_counter() - began)
            stored = [admin.bitcount(key) for key in KEYS]
            assert stored == [marks] * 3, stored
    return Result("bitmapist-async sync, `with bm.batch():`", min(times), "target >= 10x")


def raw_pipeline(client: redis.Redis) -> Callable[[int], None]:
    """Reference: the three SETBITs of a mark through a redis-py ``Pipeline`` object."""

    def mark(uid: int) -> None:
        with client.pipeline(transaction=False) as pipe:
            for key in KEYS:
                pipe.setbit(key, uid, 1)
            pipe.execute()

    return mark


def hand_packed(client: redis.Redis) -> Callable[[int], None]:
    """Reference: the same three SETBITs packed by hand on one pooled connection."""
    pool = client.connection_pool

    def mark(uid: int) -> None:
        conn: Any = pool.get_connection()  # redis-py leaves these methods untyped
        try:
            conn.send_packed_command(conn.pack_commands([("SETBIT", k, uid, 1) for k in KEYS]))
            for _ in KEYS:
                conn.read_response()
        finally:
            pool.release(conn)

    return mark


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--marks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="loops per variant per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args(argv)

    python = legacy_python()
    if python is None:
        raise SystemExit("could not install bitmapist 3.119 for the baseline")
    params = {"marks": args.marks, "repeat": args.repeat, "keys": list(KEYS)}
    best: dict[str, float] = {}
    batch: Result | None = None

    def keep(name: str, seconds: float) -> None:
        best[name] = min(seconds, best.get(name, seconds))

    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)
        raw = redis.Redis(port=server.port, **redis_connect_kwargs())
        saved = dict(compat.SYSTEMS)
        compat.setup_redis("default", "127.0.0.1", server.port)
        try:
            with Bitmapist(server.url) as bm:
                variants: dict[str, Callable[[int], None]] = {
                    "sync": lambda uid: bm.mark_event("bench", uid, WHEN),
                    "compat": lambda uid: compat.mark_event("bench", uid, now=WHEN),
                    "raw-pipeline": raw_pipeline(raw),
                    "hand-packed": hand_packed(raw),
                }
                # Every round runs every variant, so each sees the same share of machine noise.
                for _ in range(args.rounds):
                    legacy = run_legacy(python, server.port, LEGACY_SCRIPT, **params)
                    assert legacy["count"] == args.marks
                    keep("bitmapist", legacy["seconds"])
                    for name, mark in variants.items():
                        keep(name, best_loop(mark, admin, args.marks, args.repeat))
                    row = batch_row(server.url, admin, args.marks, args.repeat)
                    if row is not None and (batch is None or row.seconds < batch.seconds):
                        batch = row
        finally:
            compat.SYSTEMS["default"].close()
            compat.SYSTEMS.update(saved)
            raw.close()
            admin.close()

    rows = [
        Result("bitmapist-async sync Bitmapist.mark_event loop", best["sync"], "target >= 1.0x"),
        Result("bitmapist_async.compat mark_event loop", best["compat"], "drop-in"),
    ]
    if batch is not None:
        rows.append(batch)
    rows += [
        Result("reference: redis-py Pipeline, 3 SETBITs", best["raw-pipeline"], "no library"),
        Result("reference: hand-packed, 3 SETBITs", best["hand-packed"], "no library"),
    ]
    table = report(
        f"sync mark_event: {args.marks:,} marks, one call each "
        f"(best of {args.rounds} rounds x {args.repeat} loops)",
        Result("bitmapist 3.119 mark_event loop", best["bitmapist"], "baseline (MULTI/EXEC)"),
        rows,
    )
    per_second = ", ".join(f"{name}: {args.marks / s:,.0f} marks/s" for name, s in best.items())
    table += f"\n\n{per_second}"
    print(table)
    return table


if __name__ == "__main__":
    main()
