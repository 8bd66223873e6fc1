"""ids() on a bitmap with 1,000,000 members spread over [0, 10,000,000).

Baseline: bitmapist 3.119's ``list(MonthEvents(...))`` on the same key, same server, same run.
Targets: numpy path >= 20x, pure-Python path >= 5x. ``--repeat`` rounds run each contender once
(the baseline in a fresh process, ours in a fresh event loop, on a heap without a million
leftover ints: see :func:`build_bitmap`); each keeps its best round.

    python -m benchmarks.bench_ids
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
from array import array

import redis

from bitmapist_async import Bitmapist

from ._support import Result, legacy_python, private_redis, report, run_legacy

LEGACY_SCRIPT = """
import time
from bitmapist import MonthEvents
times = []
for _ in range(params["repeat"]):
    began = time.perf_counter()
    ids = list(MonthEvents("bench", 2026, 11))
    times.append(time.perf_counter() - began)
result = {"seconds": min(times), "count": len(ids), "checksum": sum(ids)}
"""


def build_bitmap(members: int, span: int, seed: int = 7) -> tuple[bytes, array[int]]:
    """The bitmap and its sorted ids, kept as an ``array('I')``.

    The reference is not kept as a ``list[int]``: a million long-lived ``int`` objects left
    over from ``random.sample`` fragment this process's small-object heap and make every later
    allocation of a million ints (the very thing ``ids()`` must do) up to 2x slower, while the
    baseline runs in a fresh process. Both sides are measured on a clean heap.
    """
    ids = sorted(random.Random(seed).sample(range(span), members))
    data = bytearray(span // 8 + 1)
    for uid in ids:
        data[uid >> 3] |= 0x80 >> (uid & 7)
    reference = array("I", ids)
    del ids
    gc.collect()
    return bytes(data), reference


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--span", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    data, ids = build_bitmap(args.members, args.span)
    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)
        admin.set("trackist_bench_2026-11", data)
        admin.close()

        python = legacy_python()
        if python is None:
            raise SystemExit("could not install bitmapist 3.119 for the baseline")
        variants = [(True, "ids"), (False, "ids"), (True, "id_array"), (False, "id_array")]

        async def ours(use_numpy: bool, method: str, check: bool) -> float:
            async with Bitmapist(server.url, use_numpy=use_numpy) as bm:
                ev = bm.MonthEvents("bench", 2026, 11)
                fn = getattr(ev, method)
                if check:
                    assert array("I", await fn()) == ids  # correctness before speed
                seconds, _ = await _timed(fn)
                return seconds

        # Rounds interleave the contenders (one run of each per round), so that a busy moment
        # of the machine falls on all of them; each keeps its best round.
        legacy_times: list[float] = []
        times: dict[tuple[bool, str], list[float]] = {v: [] for v in variants}
        for round_ in range(args.repeat):
            # Two runs in the baseline's process: the second one warm, as ours are.
            legacy = run_legacy(python, server.port, LEGACY_SCRIPT, repeat=2)
            assert legacy["count"] == len(ids)
            assert legacy["checksum"] == sum(ids)
            legacy_times.append(legacy["seconds"])
            for use_numpy, method in variants:
                seconds = asyncio.run(ours(use_numpy, method, check=round_ == 0))
                times[use_numpy, method].append(seconds)
        numpy_s, python_s, array_numpy_s, array_python_s = (min(times[v]) for v in variants)

    table = report(
        f"ids(): {args.members:,} members over [0, {args.span:,})",
        Result("bitmapist 3.119 list(MonthEvents)", min(legacy_times), "baseline"),
        [
            Result("bitmapist-async ids(), numpy", numpy_s, "target >= 20x"),
            Result("bitmapist-async ids(), pure Python", python_s, "target >= 5x"),
            Result("bitmapist-async id_array(), numpy", array_numpy_s, "array('I')"),
            Result("bitmapist-async id_array(), pure Python", array_python_s, "array('I')"),
        ],
    )
    print(table)
    return table


async def _timed(fn: object) -> tuple[float, object]:
    import time

    began = time.perf_counter()
    result = await fn()  # type: ignore[operator]
    return time.perf_counter() - began, result


if __name__ == "__main__":
    main()
