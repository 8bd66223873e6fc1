"""Sync ``mark_event`` loops: bitmapist 3.119 vs ``bitmapist_async.sync`` vs ``compat``.

One private redis-server, one run. Each variant marks ``--marks`` ids (one call each, the
month, ISO week and day bitmaps) and the best of ``--repeat`` loops counts. bitmapist runs in its
own virtualenv, before and after ours (the faster of its two runs is the baseline).
Target: the sync loop at least as fast as bitmapist's.

    python -m benchmarks.bench_sync
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime, timezone

import redis

import bitmapist_async.compat as compat
from bitmapist_async.sync import Bitmapist

from ._support import Result, legacy_python, private_redis, report, run_legacy

WHEN = datetime(2026, 11, 28, 13, tzinfo=timezone.utc)
KEYS = ("trackist_bench_2026-11", "trackist_bench_W2026-48", "trackist_bench_2026-11-28")

LEGACY_SCRIPT = """
import time
from datetime import datetime, timezone
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


# -- HOOK (issue 3): the `with bm.batch():` row --------------------------------------------------
# The batch API lands from another branch. The lead adds the row here: time
#     with bm.batch():
#         for uid in range(marks):
#             bm.mark_event("bench", uid, WHEN)
# with best_loop-style checks, return Result("bitmapist-async sync, with bm.batch()", seconds,
# "target >= 10x"), and keep main() appending it (it skips None).
def batch_row(url: str, admin: redis.Redis, marks: int, repeat: int) -> Result | None:
    """The ``with bm.batch():`` row; ``None`` until the batch API exists."""
    return None


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--marks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    python = legacy_python()
    if python is None:
        raise SystemExit("could not install bitmapist 3.119 for the baseline")
    params = {"marks": args.marks, "repeat": args.repeat, "keys": list(KEYS)}
    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)
        legacy_first = run_legacy(python, server.port, LEGACY_SCRIPT, **params)
        assert legacy_first["count"] == args.marks

        with Bitmapist(server.url) as bm:
            sync_s = best_loop(
                lambda uid: bm.mark_event("bench", uid, WHEN), admin, args.marks, args.repeat
            )

        saved = dict(compat.SYSTEMS)
        compat.setup_redis("default", "127.0.0.1", server.port)
        try:
            compat_s = best_loop(
                lambda uid: compat.mark_event("bench", uid, now=WHEN),
                admin,
                args.marks,
                args.repeat,
            )
        finally:
            compat.SYSTEMS["default"].close()
            compat.SYSTEMS.update(saved)

        batch = batch_row(server.url, admin, args.marks, args.repeat)
        legacy_again = run_legacy(python, server.port, LEGACY_SCRIPT, **params)
        assert legacy_again["count"] == args.marks
        admin.close()

    baseline = min(legacy_first["seconds"], legacy_again["seconds"])
    rows = [
        Result("bitmapist-async sync Bitmapist.mark_event loop", sync_s, "target >= 1.0x"),
        Result("bitmapist_async.compat mark_event loop", compat_s, "drop-in"),
    ]
    if batch is not None:
        rows.append(batch)
    table = report(
        f"sync mark_event: {args.marks:,} marks, one call each (best of {args.repeat})",
        Result("bitmapist 3.119 mark_event loop", baseline, "baseline (MULTI/EXEC per mark)"),
        rows,
    )
    per_second = ", ".join(
        f"{name}: {args.marks / seconds:,.0f} marks/s"
        for name, seconds in (("bitmapist", baseline), ("sync", sync_s), ("compat", compat_s))
    )
    table += f"\n\n{per_second}"
    print(table)
    return table


if __name__ == "__main__":
    main()
