"""Where an awaited mark's CPU time goes: the client's CPU time per mark (user + system) for
the same producers as ``bench_marks``, in four set-ups, interleaved over rounds.

- ``asyncio floor``: each producer awaits a plain future that one loop callback resolves for
  all waiting producers (what any batcher of awaited calls costs at least);
- ``batcher, no storage``: the real client with ``RedisStorage.write_marks`` replaced by one
  that reports every mark stored at once (validation, keys, queueing, flushes, wake-ups);
- ``batcher, no packing``: as above, plus one ``PING`` round trip per flush;
- ``batcher``: the real thing.

Not a target, a diagnosis (the set-ups are not alternatives): see docs/benchmarks.md.

    python -m benchmarks.marks_breakdown --producers 2000
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import resource
import statistics
from array import array
from collections.abc import Awaitable, Callable
from typing import Any

from bitmapist_async import Bitmapist
from bitmapist_async._async.redis_storage import RedisStorage
from bitmapist_async._wakeups import set_results

from ._support import private_redis
from .bench_marks import random_ids, split, timed_gather


async def _no_storage(
    self: RedisStorage, keys: Any, offsets: Any, value: int, progress: Any = None
) -> None:
    if progress is not None:
        progress(len(offsets))


async def _ping_only(
    self: RedisStorage, keys: Any, offsets: Any, value: int, progress: Any = None
) -> None:
    await self.ping()
    if progress is not None:
        progress(len(offsets))


async def _batcher(url: str, parts: list[array[int]]) -> float:
    async with Bitmapist(url) as bm:
        await bm.ping()
        return await timed_gather(parts, functools.partial(bm.mark_event, "breakdown"))


async def _floor(parts: list[array[int]]) -> float:
    loop = asyncio.get_running_loop()
    waiting: list[asyncio.Future[None]] = []
    scheduled = False

    def settle() -> None:
        nonlocal scheduled
        scheduled = False
        batch = waiting[:]
        waiting.clear()
        set_results(loop, batch, True)

    def mark(uid: int) -> Awaitable[None]:
        nonlocal scheduled
        future = loop.create_future()
        waiting.append(future)
        if not scheduled:
            scheduled = True
            loop.call_soon(settle)
        return future

    return await timed_gather(parts, mark)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--producers", type=int, default=2_000)
    parser.add_argument("--marks", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    parts = split(random_ids(args.marks, 3), args.producers)
    real = RedisStorage.write_marks
    cpu: dict[str, list[float]] = {}
    with private_redis() as server:
        setups: list[tuple[str, Callable[..., Any] | None]] = [
            ("asyncio floor", None),
            ("batcher, no storage", _no_storage),
            ("batcher, no packing", _ping_only),
            ("batcher", real),
        ]
        try:
            for _ in range(args.rounds):
                for name, write_marks in setups:
                    before = resource.getrusage(resource.RUSAGE_SELF)
                    if write_marks is None:
                        asyncio.run(_floor(parts))
                    else:
                        RedisStorage.write_marks = write_marks  # type: ignore[method-assign]
                        asyncio.run(_batcher(server.url, parts))
                    after = resource.getrusage(resource.RUSAGE_SELF)
                    user = after.ru_utime - before.ru_utime
                    system = after.ru_stime - before.ru_stime
                    cpu.setdefault(name, []).append((user + system) / args.marks * 1e6)
        finally:
            RedisStorage.write_marks = real  # type: ignore[method-assign]
    lines = [
        f"### CPU per awaited mark, {args.producers:,} producers ({args.rounds} rounds)",
        "",
        "| set-up | µs per mark, best | median |",
        "|---|---|---|",
        *(
            f"| {name} | {min(values):.2f} | {statistics.median(values):.2f} |"
            for name, values in cpu.items()
        ),
    ]
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
