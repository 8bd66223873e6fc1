"""Marks per second: bitmapist 3.119's loop, a naive redis.asyncio client, this library's
batcher (200 and 2,000 concurrent producers, each awaiting every mark), and the SETBIT ceiling
of the server measured by ``redis-benchmark``. One private redis-server, one run; then the
batcher on a private bitmapist-server (``BITMAPIST_SERVER_PATH``, else ``PATH``) next to its own
``redis-benchmark`` SETBIT ceiling.

A mark is ``mark_event(name, uid)`` with the defaults: three SETBITs (month, ISO week, day).
Targets: the batcher at least 40x bitmapist's loop and at least 35% of the ceiling (SETBIT/s).

    python -m benchmarks.bench_marks
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import io
import os
import platform
import random
import re
import shutil
import subprocess
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis
import redis.asyncio as redis_api

from bitmapist_async import Bitmapist
from bitmapist_async._async.redis_storage import redis_connect_kwargs
from bitmapist_async._core.options import ClientOptions

from ._support import legacy_python, private_bitmapist_server, private_redis, run_legacy

SETBITS_PER_MARK = 3
SPAN = 1_000_000  # ids are random in [0, SPAN)

LEGACY_SCRIPT = """
import time
from bitmapist import mark_event
best = None
for _ in range(params["repeat"]):
    began = time.perf_counter()
    for uid in params["uids"]:
        mark_event(params["name"], uid)
    seconds = time.perf_counter() - began
    best = seconds if best is None else min(best, seconds)
result = {"seconds": best}
"""


@dataclass
class Throughput:
    name: str
    marks: int
    seconds: float
    note: str = ""

    @property
    def marks_per_second(self) -> float:
        return self.marks / self.seconds

    @property
    def setbits_per_second(self) -> float:
        return self.marks_per_second * SETBITS_PER_MARK


def random_ids(count: int, seed: int) -> array[int]:
    """Ids in an ``array('I')``: the collector walks every slot of a list in each full
    collection, and hundreds of thousands of them would weigh on whichever row runs while one
    happens, not on the library under test."""
    rnd = random.Random(seed)
    return array("I", [rnd.randrange(SPAN) for _ in range(count)])


def distinct_marked(admin: redis.Redis, name: str) -> int:
    """Distinct ids in the day bitmaps of *name* (a run may cross midnight)."""
    pattern = re.compile(rf"trackist_{re.escape(name)}_\d+-\d+-\d+")
    keys = [k.decode() if isinstance(k, bytes) else k for k in admin.keys(f"trackist_{name}_*")]
    days = [k for k in keys if pattern.fullmatch(k)]
    admin.bitop("OR", "bench_union", *days, *days)  # two sources at least: bitmapist-server
    count = int(admin.bitcount("bench_union"))
    admin.delete("bench_union", *keys)
    return count


def split(uids: array[int], producers: int) -> list[array[int]]:
    return [uids[i::producers] for i in range(producers)]


async def timed_gather(parts: list[array[int]], mark: Callable[[int], Awaitable[None]]) -> float:
    async def producer(ids: array[int]) -> None:
        for uid in ids:
            await mark(uid)

    began = time.perf_counter()
    await asyncio.gather(*(producer(ids) for ids in parts))
    return time.perf_counter() - began


async def run_naive(url: str, uids: array[int], tasks: int, name: str) -> float:
    """One pipeline (three SETBITs, no MULTI) per mark, 200 tasks, redis.asyncio."""
    client = redis_api.Redis.from_url(url, max_connections=tasks, **redis_connect_kwargs())
    options = ClientOptions()

    async def mark(uid: int) -> None:
        writes = options.event_writes(name, uid, None, 1, track_hourly=None, track_unique=None)
        async with client.pipeline(transaction=False) as pipe:
            for key, offset, value in writes:
                pipe.setbit(key, offset, value)
            await pipe.execute()

    try:
        await client.ping()
        return await timed_gather(split(uids, tasks), mark)
    finally:
        await client.aclose()


async def run_batcher(url: str, uids: array[int], producers: int, name: str) -> float:
    async with Bitmapist(url) as bm:
        await bm.ping()
        return await timed_gather(split(uids, producers), functools.partial(bm.mark_event, name))


def setbit_ceiling(port: int, requests: int) -> tuple[float, str] | None:
    """``redis-benchmark`` SETBIT requests/s (pipeline 128; a fixed offset, since its
    ``__rand_int__`` is not a valid bit offset)."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return None
    command = [
        binary, "-h", "127.0.0.1", "-p", str(port), "-P", "128", "-n", str(requests),
        "--csv", "setbit", "bench_ceiling", "7", "1",
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = float(list(csv.DictReader(io.StringIO(out)))[-1]["rps"])
    return rate, "redis-benchmark " + " ".join(command[1:])


def table(results: list[Throughput], baseline: Throughput, ceiling: float | None) -> str:
    lines = [
        "| what | marks/s | SETBIT/s | vs bitmapist | % of SETBIT ceiling | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.marks_per_second / baseline.marks_per_second
        share = f"{r.setbits_per_second / ceiling:.0%}" if ceiling else "n/a"
        lines.append(
            f"| {r.name} | {r.marks_per_second:,.0f} | {r.setbits_per_second:,.0f} | "
            f"{ratio:.1f}x | {share} | {r.note} |"
        )
    if ceiling:
        lines.append(
            f"| redis-benchmark SETBIT ceiling | - | {ceiling:,.0f} | - | 100% | server limit |"
        )
    return "\n".join(lines)


def bitmapist_server_rows(uids: array[int], rounds: int, ceiling_requests: int) -> str:
    """The batcher (200 producers) on a private bitmapist-server, next to the server's own
    ``redis-benchmark`` SETBIT ceiling (interleaved rounds, best of each)."""
    with private_bitmapist_server() as server:
        if server is None:
            return "bitmapist-server: not found (set BITMAPIST_SERVER_PATH)"
        admin = redis.Redis(port=server.port, **redis_connect_kwargs())
        times: list[float] = []
        ceilings: list[float] = []
        shown = ""
        for round_ in range(rounds):
            name = f"b_server{round_}"
            times.append(asyncio.run(run_batcher(server.url, uids, 200, name)))
            assert distinct_marked(admin, name) == len(set(uids)), name
            measured = setbit_ceiling(server.port, ceiling_requests)
            if measured is not None:
                ceilings.append(measured[0])
                shown = measured[1].replace(str(server.port), "PORT")
        admin.close()
    ours = Throughput("bitmapist-async batcher, 200 producers", len(uids), min(times))
    lines = [
        f"### On bitmapist-server (best of {rounds} rounds)",
        "",
        "| what | marks/s | SETBIT/s | % of SETBIT ceiling |",
        "|---|---|---|---|",
    ]
    ceiling = max(ceilings) if ceilings else None
    share = f"{ours.setbits_per_second / ceiling:.0%}" if ceiling else "n/a"
    lines.append(
        f"| {ours.name} | {ours.marks_per_second:,.0f} | {ours.setbits_per_second:,.0f} | {share} |"
    )
    if ceiling:
        lines.append(f"| redis-benchmark SETBIT ceiling | - | {ceiling:,.0f} | 100% |")
        lines += ["", f"Ceiling: `{shown}`"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--legacy-marks", type=int, default=10_000)
    parser.add_argument("--naive-marks", type=int, default=50_000)
    parser.add_argument("--marks", type=int, default=200_000, help="per batcher run")
    parser.add_argument("--rounds", type=int, default=3, help="each contender once per round")
    parser.add_argument("--ceiling-requests", type=int, default=2_000_000)
    args = parser.parse_args(argv)

    python = legacy_python()
    if python is None:
        raise SystemExit("could not install bitmapist 3.119 for the baseline")
    load = os.getloadavg()
    legacy_ids = random_ids(args.legacy_marks, 1)
    naive_ids = random_ids(args.naive_marks, 2)
    ours_ids = random_ids(args.marks, 3)
    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)

        def check(name: str, uids: array[int]) -> None:  # correctness before speed
            assert distinct_marked(admin, name) == len(set(uids)), name

        def legacy_run() -> float:
            script_params = {"uids": list(legacy_ids), "name": "b_legacy", "repeat": 1}
            seconds: float = run_legacy(python, server.port, LEGACY_SCRIPT, **script_params)[
                "seconds"
            ]
            check("b_legacy", legacy_ids)
            return seconds

        def naive_run() -> float:
            seconds = asyncio.run(run_naive(server.url, naive_ids, 200, "b_naive"))
            check("b_naive", naive_ids)
            return seconds

        def ours_run(producers: int) -> Callable[[], float]:
            def run() -> float:
                name = f"b_ours{producers}"
                seconds = asyncio.run(run_batcher(server.url, ours_ids, producers, name))
                check(name, ours_ids)
                return seconds

            return run

        contenders: list[tuple[str, int, str, Callable[[], float]]] = [
            ("bitmapist 3.119 `mark_event` loop", len(legacy_ids), "baseline", legacy_run),
            (
                "redis.asyncio, one pipeline per mark, 200 tasks",
                len(naive_ids),
                "naive async client",
                naive_run,
            ),
            *(
                (
                    f"bitmapist-async batcher, {p:,} producers",
                    len(ours_ids),
                    "each producer awaits every mark",
                    ours_run(p),
                )
                for p in (200, 2_000)
            ),
        ]
        # Rounds interleave the contenders, so that a busy moment of the machine does not fall
        # on one of them only; each keeps its best round, and so does the ceiling.
        times: dict[str, list[float]] = {name: [] for name, _, _, _ in contenders}
        ceilings: list[float] = []
        shown = ""
        for _ in range(args.rounds):
            for name, _, _, run in contenders:
                times[name].append(run())
            measured = setbit_ceiling(server.port, args.ceiling_requests)
            if measured is not None:
                ceilings.append(measured[0])
                shown = measured[1].replace(str(server.port), "PORT")
        admin.close()
    server_rows = bitmapist_server_rows(ours_ids, args.rounds, args.ceiling_requests)

    results = [
        Throughput(name, marks, min(times[name]), note) for name, marks, note, _ in contenders
    ]
    ceiling = max(ceilings) if ceilings else None
    text = "\n".join(
        [
            f"### Marks per second (Python {platform.python_version()}, "
            f"load average {load[0]:.2f} at start, best of {args.rounds} rounds)",
            "",
            table(results, results[0], ceiling),
            "",
            f"Ceiling: `{shown}`" if ceiling else "Ceiling: redis-benchmark not found",
            "",
            server_rows,
        ]
    )
    print(text)
    return text


if __name__ == "__main__":
    main()
