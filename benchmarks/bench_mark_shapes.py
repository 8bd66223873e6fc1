"""Marks per second by the shape of the call, 200 producers each awaiting every mark, one
private redis-server, one run: the default ``mark_event(name, uid)`` next to the shapes real
callers use (an explicit aware ``now=`` over a few distinct hours, as a replay has;
``track_hourly=True``; ``unmark_event``; ``mark_unique``). Target: each shape at least 90% of
the default row's marks/s in the same run.

    python -m benchmarks.bench_mark_shapes [--marks 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from array import array
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

from bitmapist_async import Bitmapist

from ._support import private_redis
from .bench_marks import random_ids, split

PRODUCERS = 200
Shape = Callable[[Bitmapist, int, int], Awaitable[None]]
_HOUR = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
#: A replay: events of four distinct hours, each with its own minute and second.
_TIMES = [_HOUR - timedelta(hours=h, minutes=7 * h, seconds=h) for h in range(4)]


async def _default(bm: Bitmapist, uid: int, i: int) -> None:
    await bm.mark_event("shape", uid)


async def _explicit_now(bm: Bitmapist, uid: int, i: int) -> None:
    await bm.mark_event("shape", uid, _TIMES[(i >> 6) & 3])


async def _hourly(bm: Bitmapist, uid: int, i: int) -> None:
    await bm.mark_event("shape", uid, track_hourly=True)


async def _unmark(bm: Bitmapist, uid: int, i: int) -> None:
    await bm.unmark_event("shape", uid)


async def _unique(bm: Bitmapist, uid: int, i: int) -> None:
    await bm.mark_unique("shape", uid)


SHAPES: dict[str, Shape] = {
    "mark_event(name, uid)": _default,
    "now=<aware datetime>, 4 hours": _explicit_now,
    "track_hourly=True": _hourly,
    "unmark_event(name, uid)": _unmark,
    "mark_unique(name, uid)": _unique,
}


async def _run(url: str, uids: array[int], shape: Shape) -> float:
    async with Bitmapist(url) as bm:
        await bm.ping()

        async def producer(ids: array[int]) -> None:
            for i, uid in enumerate(ids):
                await shape(bm, uid, i)

        began = time.perf_counter()
        await asyncio.gather(*(producer(ids) for ids in split(uids, PRODUCERS)))
        seconds = time.perf_counter() - began
        await bm.delete_all_events()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", type=int, default=200_000, help="marks per row and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    args = parser.parse_args()
    uids = random_ids(args.marks, seed=7)
    best: dict[str, float] = {}
    with private_redis() as server:
        for _ in range(args.rounds):
            for name, shape in SHAPES.items():
                seconds = asyncio.run(_run(server.url, uids, shape))
                best[name] = min(best.get(name, seconds), seconds)
    base = args.marks / best["mark_event(name, uid)"]
    print(f"{args.marks:,} marks per row, {PRODUCERS} producers, best of {args.rounds} rounds")
    print("| shape | marks/s | of the default row |")
    print("| --- | --- | --- |")
    for name in SHAPES:
        rate = args.marks / best[name]
        print(f"| {name} | {rate:,.0f} | {rate / base:.0%} |")


if __name__ == "__main__":
    main()
