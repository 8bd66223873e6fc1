"""A 31-day x 13-column cohort table for 50,000 users (about 20% active per day).

Baseline: bitmapist 3.119's ``get_dates_data`` on the same keys, same server, same run; the two
tables are checked to be equal (cell types included) before anything is timed. Round trips are
counted at the connection (one ``send_packed_command`` per command or per pipeline) on both
sides. Both compute modes are measured: ``"storage"`` (one BITOP + BITCOUNT per cell, two round
trips) and ``"local"`` (one GET per bitmap, cells counted here; numpy and pure Python), and
the drop-in ``bitmapist_async.compat.cohort.get_dates_data`` in both modes.
Target: >= 30x.

    python -m benchmarks.bench_cohort
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import redis
import redis.asyncio.connection as async_connection
import redis.connection as sync_connection

from bitmapist_async import Bitmapist
from bitmapist_async._async.cohort import Compute
from bitmapist_async.compat import cohort as compat_cohort
from bitmapist_async.compat import setup_redis

from ._support import Result, legacy_python, private_redis, report, run_legacy

LEGACY_SCRIPT = """
import time
import redis.connection
from bitmapist.cohort import get_dates_data

sends = [0]
original = redis.connection.Connection.send_packed_command
def counting(self, *args, **kwargs):
    sends[0] += 1
    return original(self, *args, **kwargs)
redis.connection.Connection.send_packed_command = counting

kwargs = params["kwargs"]
rows = get_dates_data(**kwargs)  # warm-up, and the table to compare
sends[0] = 0
get_dates_data(**kwargs)
round_trips = sends[0]
times = []
for _ in range(params["repeat"]):
    began = time.perf_counter()
    get_dates_data(**kwargs)
    times.append(time.perf_counter() - began)
result = {
    "seconds": min(times),
    "round_trips": round_trips,
    "rows": [[row[0].isoformat(), *row[1:]] for row in rows],
}
"""


def build_days(users: int, days: int, rate: float, seed: int = 31) -> list[bytes]:
    """One day bitmap per day, each user active with probability *rate*."""
    rng = random.Random(seed)
    bitmaps = []
    for _ in range(days):
        data = bytearray((users + 7) // 8)
        for uid in range(users):
            if rng.random() < rate:
                data[uid >> 3] |= 0x80 >> (uid & 7)
        bitmaps.append(bytes(data))
    return bitmaps


class _SendCounter:
    """Counts ``send_packed_command`` calls of redis.asyncio connections while active."""

    def __init__(self) -> None:
        self.count = 0
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> _SendCounter:
        cls = async_connection.AbstractConnection
        original = cls.send_packed_command
        self._original = original

        async def counting(conn: Any, *args: Any, **kwargs: Any) -> None:
            self.count += 1
            await original(conn, *args, **kwargs)

        cls.send_packed_command = counting  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        async_connection.AbstractConnection.send_packed_command = self._original  # type: ignore[method-assign, assignment]


class _SyncSendCounter:
    """Counts ``send_packed_command`` calls of sync redis-py connections while active."""

    def __init__(self) -> None:
        self.count = 0
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> _SyncSendCounter:
        cls = sync_connection.AbstractConnection
        original: Callable[..., Any] = cls.send_packed_command
        self._original = original

        def counting(conn: Any, *args: Any, **kwargs: Any) -> None:
            self.count += 1
            original(conn, *args, **kwargs)

        cls.send_packed_command = counting  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        sync_connection.AbstractConnection.send_packed_command = self._original  # type: ignore[method-assign, assignment]


def _compat(
    port: int, kwargs: dict[str, Any], compute: Compute, repeat: int, legacy: Any
) -> tuple[float, int]:
    """``compat.cohort.get_dates_data``, the drop-in, on the same keys."""
    setup_redis("bench", "127.0.0.1", port)
    rows = compat_cohort.get_dates_data(**kwargs, system="bench", compute=compute)
    encoded = [[row[0].isoformat(), *row[1:]] for row in rows]  # type: ignore[union-attr]
    assert _typed(encoded) == _typed(legacy["rows"]), "compat table differs"
    with _SyncSendCounter() as counter:
        compat_cohort.get_dates_data(**kwargs, system="bench", compute=compute)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        compat_cohort.get_dates_data(**kwargs, system="bench", compute=compute)
        times.append(time.perf_counter() - began)
    return min(times), counter.count


def _typed(rows: list[list[Any]]) -> list[list[tuple[str, Any]]]:
    return [[(type(c).__name__, c) for c in row] for row in rows]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--num-results", type=int, default=31)
    parser.add_argument("--num-of-rows", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    today = datetime.now(timezone.utc).date()
    first = today - timedelta(days=args.num_results - 1)
    kwargs = {
        "select1": "active",
        "select2": "active",
        "time_group": "days",
        "as_percent": True,
        "num_results": args.num_results,
        "num_of_rows": args.num_of_rows,
        "start_date": first.isoformat(),
    }
    bitmaps = build_days(args.users, args.num_results, args.rate)
    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)
        for n, data in enumerate(bitmaps):  # data up to today: later cells are ""
            day = first + timedelta(days=n)
            admin.set(f"trackist_active_{day.year}-{day.month}-{day.day}", data)

        python = legacy_python()
        if python is None:
            raise SystemExit("could not install bitmapist 3.119 for the baseline")
        legacy = run_legacy(python, server.port, LEGACY_SCRIPT, kwargs=kwargs, repeat=10)

        async def ours(compute: Compute, use_numpy: bool | None) -> tuple[float, int]:
            async with Bitmapist(server.url, use_numpy=use_numpy) as bm:
                table = await bm.cohort(**kwargs, compute=compute)
                rows = [[row[0].isoformat(), *row[1:]] for row in table.rows]  # type: ignore[union-attr]
                assert _typed(rows) == _typed(legacy["rows"]), "tables differ"
                with _SendCounter() as counter:
                    await bm.cohort(**kwargs, compute=compute)
                times = []
                for _ in range(args.repeat):
                    began = time.perf_counter()
                    await bm.cohort(**kwargs, compute=compute)
                    times.append(time.perf_counter() - began)
                return min(times), counter.count

        variants: tuple[tuple[str, Compute, bool | None], ...] = (
            ('cohort() default (compute="auto")', "auto", None),
            ('cohort(compute="storage")', "storage", None),
            ('cohort(compute="local"), numpy', "local", None),
            ('cohort(compute="local"), pure Python', "local", False),
        )
        measured = {name: asyncio.run(ours(compute, numpy)) for name, compute, numpy in variants}
        for compute in ("auto", "storage", "local"):
            name = f'compat get_dates_data(compute="{compute}")'
            measured[name] = _compat(server.port, kwargs, compute, args.repeat, legacy)
        leftovers = admin.keys("trackist_bitop_*")
        admin.close()
        assert leftovers == [], leftovers

    size = f"{args.num_results} x {args.num_of_rows + 1}"
    table = report(
        f"cohort table {size}, {args.users:,} users, ~{args.rate:.0%} active per day",
        Result(
            "bitmapist 3.119 get_dates_data",
            legacy["seconds"],
            f"baseline, {legacy['round_trips']:,} round trips",
        ),
        [
            Result(f"bitmapist-async {name}", seconds, f"{trips} round trip(s)")
            for name, (seconds, trips) in measured.items()
        ],
    )
    print(table)
    return table


if __name__ == "__main__":
    main()
