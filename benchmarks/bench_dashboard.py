"""Server time of each dashboard page for 50,000 users over 90 days (~20% active per day, the
cohort benchmark's data shape), on the embedded store and on Redis.

The pages are called in-process through ASGI (``tests/asgi_driver.call_asgi``): the time is the
application's, from the request to the last body byte, with the store a local file or a private
``redis-server`` on loopback (no HTTP parsing, no browser). The event-name cache is warm (one
call first), as it is for every request but one per ``names_ttl``. Target: under 100 ms.

    python -m benchmarks.bench_dashboard [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bitmapist_async import Bitmapist
from bitmapist_async.cohort.asgi import CohortApp
from tests.asgi_driver import call_asgi

from ._support import private_redis
from .bench_cohort import build_days

END = date(2026, 11, 29)
EVENTS = {"active": 0.2, "search": 0.08, "add_to_cart": 0.04, "purchase": 0.02}


def _or(bitmaps: list[bytes]) -> bytes:
    width = max(len(b) for b in bitmaps)
    value = 0
    for b in bitmaps:
        value |= int.from_bytes(b.ljust(width, b"\0"), "big")
    return value.to_bytes(width, "big")


async def _fill(bm: Bitmapist, users: int, days: int) -> None:
    start = END - timedelta(days=days - 1)
    merges: list[tuple[str, bytes]] = []
    signups = [bytearray((users + 7) // 8) for _ in range(days)]
    rng = random.Random(3)
    for uid in range(users):
        d = rng.randrange(days)
        signups[d][uid >> 3] |= 0x80 >> (uid & 7)
    per_event = {name: build_days(users, days, rate, seed=11 + k)
                 for k, (name, rate) in enumerate(EVENTS.items())}  # fmt: skip
    per_event["signup"] = [bytes(b) for b in signups]
    for name, bitmaps in per_event.items():
        weeks: dict[tuple[int, int], list[bytes]] = {}
        months: dict[tuple[int, int], list[bytes]] = {}
        for n, data in enumerate(bitmaps):
            day = start + timedelta(days=n)
            merges.append((bm.DayEvents(name, day.year, day.month, day.day).redis_key, data))
            iso = day.isocalendar()
            weeks.setdefault((iso[0], iso[1]), []).append(data)
            months.setdefault((day.year, day.month), []).append(data)
        merges += [(bm.WeekEvents(name, y, w).redis_key, _or(b)) for (y, w), b in weeks.items()]
        merges += [(bm.MonthEvents(name, y, m).redis_key, _or(b)) for (y, m), b in months.items()]
    await bm.storage.merge_bitmaps(merges, temp_prefix=bm.options.scheme.bitop_prefix)


def _pages(days: int) -> dict[str, str]:
    start = END - timedelta(days=days - 1)
    monday = start - timedelta(days=start.weekday())
    return {
        "overview (5 events: DAU, WAU, MAU)": f"/?end={END}",
        "trends (90 days + WAU + MAU lines)": f"/trends?event=active&start={start}&end={END}",
        "retention (days, 31 x 13 cells)": (
            f"/retention?select1=signup&select2=active&start_date={END - timedelta(days=30)}"
        ),
        "retention (weeks, 12 x 9 cells)": (
            "/retention?select1=signup&select2=active&time_group=weeks&num_results=12"
            f"&num_of_rows=8&start_date={monday}"
        ),
        "funnel (4 steps x 12 weeks, within=2)": (
            f"/funnel?step1=active&step2=search&step3=add_to_cart&step4=purchase&unit=weeks"
            f"&start={monday}&end={monday + timedelta(weeks=11)}&within=2"
        ),
    }


async def _measure(
    url: str, users: int, days: int, repeat: int, fill: bool
) -> list[tuple[str, float, float]]:
    out = []
    async with Bitmapist(url) as bm:
        if fill:
            await _fill(bm, users, days)
        app = CohortApp(bm)
        for name, target in _pages(days).items():
            path, _, query = target.partition("?")
            first = await call_asgi(app, path, query.encode())
            assert first.status == 200, (name, first.text[:300])
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                response = await call_asgi(app, path, query.encode())
                times.append(time.perf_counter() - began)
                assert response.status == 200
            out.append((name, min(times) * 1000, statistics.median(times) * 1000))
    return out


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    results: dict[str, list[tuple[str, float, float]]] = {}
    with tempfile.TemporaryDirectory() as work:
        url = f"file:{Path(work) / 'bench.db'}"
        results["embedded"] = asyncio.run(_measure(url, args.users, args.days, args.repeat, True))
    with private_redis() as server:
        results["Redis"] = asyncio.run(
            _measure(server.url, args.users, args.days, args.repeat, True)
        )
    lines = [f"Dashboard pages, {args.users:,} users over {args.days} days, best / median of "
             f"{args.repeat} (ms, server time in-process)", "",
             "| page | embedded best | embedded median | Redis best | Redis median |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for (name, eb, em), (_, rb, rm) in zip(results["embedded"], results["Redis"], strict=True):
        lines.append(f"| {name} | {eb:.1f} | {em:.1f} | {rb:.1f} | {rm:.1f} |")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
