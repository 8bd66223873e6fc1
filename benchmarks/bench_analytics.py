"""Trends, rolling actives and funnels for 50,000 users over 90 days (~20% active per day, the
cohort benchmark's data shape).

Baselines: what a bitmapist 3.119 user writes today, on the same keys, same server, same run:
a loop of ``len(DayEvents(...))`` for the trend, ``len(BitOpOr(*30 DayEvents))`` per day for
rolling MAU, and per weekly cohort a chain of ``BitOpAnd(previous, BitOpOr(3 WeekEvents))``
for the funnel. Every answer is checked equal to the baseline's before anything is timed.
Round trips are counted at the connection (one ``send_packed_command`` per command or
pipeline) on both sides. Targets: trend and rolling >= 20x and <= 2 round trips; the funnel
(4 steps x 12 weekly cohorts, ``within=2``) <= 2 round trips.

    python -m benchmarks.bench_analytics
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import redis

from bitmapist_async import Bitmapist
from bitmapist_async import sync as bitmapist_sync

from ._support import Result, legacy_python, private_redis, report, run_legacy
from .bench_cohort import _SendCounter, _SyncSendCounter, build_days

LEGACY_SCRIPT = """
import datetime
import time
import redis.connection
from bitmapist import BitOpAnd, BitOpOr, DayEvents, WeekEvents

sends = [0]
original = redis.connection.Connection.send_packed_command
def counting(self, *args, **kwargs):
    sends[0] += 1
    return original(self, *args, **kwargs)
redis.connection.Connection.send_packed_command = counting

start = datetime.date.fromisoformat(params["start"])
days = [start + datetime.timedelta(days=i) for i in range(params["days"])]
window = params["window"]

def trend():
    return [len(DayEvents("active", d.year, d.month, d.day)) for d in days]

def rolling():
    out = []
    for d in days:
        back = [d - datetime.timedelta(days=k) for k in range(window)]
        out.append(len(BitOpOr(*[DayEvents("active", b.year, b.month, b.day) for b in back])))
    return out

def funnel():
    monday = datetime.date.fromisoformat(params["funnel_start"])
    rows = []
    for week in range(params["cohorts"]):
        first = monday + datetime.timedelta(weeks=week)
        def ev(name, k):
            iso = (first + datetime.timedelta(weeks=k)).isocalendar()
            return WeekEvents(name, iso[0], iso[1])
        current = ev(params["steps"][0], 0)
        row = [len(current)]
        for name in params["steps"][1:]:
            reach = BitOpOr(*[ev(name, k) for k in range(params["within"] + 1)])
            current = BitOpAnd(current, reach)
            row.append(len(current))
        rows.append(row)
    return rows

result = {}
for name, fn in (("trend", trend), ("rolling", rolling), ("funnel", funnel)):
    answer = fn()  # warm-up, and the answer to compare
    sends[0] = 0
    fn()
    trips = sends[0]
    times = []
    for _ in range(params["repeat"]):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    result[name] = {"seconds": min(times), "round_trips": trips, "answer": answer}
"""

STEPS = ("signup", "search", "cart", "buy")
STEP_RATES = (0.2, 0.3, 0.25, 0.2)


def _week_bitmaps(users: int, rate: float, rng: random.Random) -> bytes:
    data = bytearray((users + 7) // 8)
    for uid in range(users):
        if rng.random() < rate:
            data[uid >> 3] |= 0x80 >> (uid & 7)
    return bytes(data)


async def _timed(
    url: str, repeat: int, call: Callable[[Bitmapist], Awaitable[Any]], **options: Any
) -> tuple[float, int, Any]:
    async with Bitmapist(url, **options) as bm:
        answer = await call(bm)
        with _SendCounter() as counter:
            await call(bm)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            await call(bm)
            times.append(time.perf_counter() - began)
        return min(times), counter.count, answer


def _raw_floor(port: int, keys: list[str], repeat: int) -> float:
    """One pipeline of ``BITCOUNT``s written and read on a bare socket: what the server and
    the loopback cost, a floor no client goes under."""
    packed = b"".join(b"*2\r\n$8\r\nBITCOUNT\r\n$%d\r\n%b\r\n" % (len(k), k.encode()) for k in keys)
    times = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(repeat):
            began = time.perf_counter()
            sock.sendall(packed)
            got = b""
            while got.count(b"\r\n") < len(keys):
                got += sock.recv(1 << 16)
            times.append(time.perf_counter() - began)
    return min(times)


def _timed_sync(
    url: str, repeat: int, call: Callable[[bitmapist_sync.Bitmapist], Any]
) -> tuple[float, int, Any]:
    with bitmapist_sync.Bitmapist(url) as bm:
        answer = call(bm)
        with _SyncSendCounter() as counter:
            call(bm)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            call(bm)
            times.append(time.perf_counter() - began)
        return min(times), counter.count, answer


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    end = date(2026, 11, 29)
    start = end - timedelta(days=args.days - 1)
    first = start - timedelta(days=args.window - 1)
    bitmaps = build_days(args.users, args.days + args.window - 1, args.rate)
    funnel_start = date(2026, 8, 31)  # a Monday: 12 weekly cohorts + 2 weeks to look ahead
    cohorts, within = 12, 2
    rng = random.Random(7)
    with private_redis() as server:
        admin = redis.Redis(port=server.port, protocol=2)
        for n, data in enumerate(bitmaps):
            day = first + timedelta(days=n)
            admin.set(f"trackist_active_{day.year}-{day.month}-{day.day}", data)
        for week in range(cohorts + within):
            iso = (funnel_start + timedelta(weeks=week)).isocalendar()
            for name, rate in zip(STEPS, STEP_RATES, strict=True):
                admin.set(
                    f"trackist_{name}_W{iso[0]}-{iso[1]}", _week_bitmaps(args.users, rate, rng)
                )

        python = legacy_python()
        if python is None:
            raise SystemExit("could not install bitmapist 3.119 for the baseline")
        params = {
            "start": start.isoformat(),
            "days": args.days,
            "window": args.window,
            "funnel_start": funnel_start.isoformat(),
            "cohorts": cohorts,
            "within": within,
            "steps": list(STEPS),
            "repeat": max(3, args.repeat // 4),
        }
        legacy = run_legacy(python, server.port, LEGACY_SCRIPT, **params)
        admin.delete(*admin.keys("trackist_bitop_*"))  # bitmapist 3.x leaves its results

        last_week = funnel_start + timedelta(weeks=cohorts - 1)
        variants: dict[str, tuple[str, Callable[[Bitmapist], Awaitable[Any]], dict[str, Any]]] = {
            "trend": ("trend", lambda bm: bm.trend("active", "days", start, end), {}),
            'rolling(compute="storage")': (
                "rolling",
                lambda bm: bm.rolling("active", args.window, "days", start, end),
                {},
            ),
            'rolling(compute="local"), numpy': (
                "rolling",
                lambda bm: bm.rolling("active", args.window, "days", start, end, compute="local"),
                {},
            ),
            'rolling(compute="local"), pure Python': (
                "rolling",
                lambda bm: bm.rolling("active", args.window, "days", start, end, compute="local"),
                {"use_numpy": False},
            ),
            'funnel(compute="storage")': (
                "funnel",
                lambda bm: bm.funnel(list(STEPS), "weeks", funnel_start, last_week, within),
                {},
            ),
            'funnel(compute="local")': (
                "funnel",
                lambda bm: bm.funnel(
                    list(STEPS), "weeks", funnel_start, last_week, within, compute="local"
                ),
                {},
            ),
        }
        measured: dict[str, list[Result]] = {"trend": [], "rolling": [], "funnel": []}
        for label, (kind, call, options) in variants.items():
            seconds, trips, answer = asyncio.run(_timed(server.url, args.repeat, call, **options))
            counts = [c for _, c in answer.cohorts] if kind == "funnel" else [c for _, c in answer]
            assert counts == legacy[kind]["answer"], f"{label} differs from bitmapist 3.119"
            measured[kind].append(
                Result(f"bitmapist-async {label}", seconds, f"{trips} round trip(s)")
            )
        sync_variants: dict[str, tuple[str, Callable[[bitmapist_sync.Bitmapist], Any]]] = {
            "sync trend": ("trend", lambda bm: bm.trend("active", "days", start, end)),
            'sync rolling(compute="local")': (
                "rolling",
                lambda bm: bm.rolling("active", args.window, "days", start, end, compute="local"),
            ),
        }
        for label, (kind, sync_call) in sync_variants.items():
            seconds, trips, answer = _timed_sync(server.url, args.repeat, sync_call)
            assert [c for _, c in answer] == legacy[kind]["answer"], f"{label} differs"
            measured[kind].append(
                Result(f"bitmapist-async {label}", seconds, f"{trips} round trip(s)")
            )
        days = [start + timedelta(days=i) for i in range(args.days)]
        keys = [f"trackist_active_{d.year}-{d.month}-{d.day}" for d in days]
        measured["trend"].append(
            Result(
                f"floor: {args.days} BITCOUNTs pipelined on a bare socket",
                _raw_floor(server.port, keys, args.repeat),
                "no client library: server + loopback only",
            )
        )
        leftovers = admin.keys("trackist_bitop_analytics_*")
        admin.close()
        assert leftovers == [], leftovers

    titles = {
        "trend": f"trend: {args.days} days, {args.users:,} users, ~{args.rate:.0%} active per day",
        "rolling": f"rolling(window={args.window}) over {args.days} days, {args.users:,} users",
        "funnel": f"funnel: {len(STEPS)} steps x {cohorts} weekly cohorts, within={within}",
    }
    baselines = {
        "trend": "bitmapist 3.119 loop of len(DayEvents)",
        "rolling": f"bitmapist 3.119 len(BitOpOr(*{args.window} DayEvents)) per day",
        "funnel": "bitmapist 3.119 BitOpAnd/BitOpOr chain per cohort",
    }
    tables = []
    for kind, results in measured.items():
        base = legacy[kind]
        baseline = Result(
            baselines[kind], base["seconds"], f"baseline, {base['round_trips']:,} round trips"
        )
        tables.append(report(titles[kind], baseline, results))
    text = "\n\n".join(tables)
    print(text)
    return text


if __name__ == "__main__":
    main()
