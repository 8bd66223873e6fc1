"""Bulk import of a 2,000,000-row CSV (200,000 users, 20 events, 90 days) against bitmapist
3.119's ``mark_event`` loop over a sample of the same rows, in one run on one private
redis-server. Target: >= 100x bitmapist's per-event rate.

The imported keys are checked byte for byte against what marking every row one by one gives
(the SETBITs of ``mark_event``, applied locally), and the sample marked by bitmapist against
an import of the same sample.

    python -m benchmarks.bench_import                 # the figures in docs/benchmarks.md
    python -m benchmarks.bench_import --calibrate     # the sparse/dense write threshold
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from array import array
from bisect import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

import redis

from bitmapist_async import Bitmapist, EventLog, ImportSummary
from bitmapist_async._core.bulk import SPARSE_BYTES_PER_BIT, build_bitmap
from bitmapist_async._core.options import ClientOptions

from ._support import legacy_python, private_redis, run_legacy

START = datetime(2026, 8, 1, tzinfo=timezone.utc)

# What a script moving a log into bitmapist does: read the rows, mark each one (timed whole,
# like the importer, which also reads and parses the file). Best of ``repeat`` runs, like ours.
LEGACY_SCRIPT = """
import csv, time
from datetime import datetime
from bitmapist import mark_event
times = []
for _ in range(params["repeat"]):
    began = time.perf_counter()
    rows = 0
    with open(params["path"], newline="") as f:
        for event, uid, stamp in csv.reader(f):
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            mark_event(event, int(uid), now=when)
            rows += 1
    times.append(time.perf_counter() - began)
result = {"seconds": min(times), "rows": rows}
"""


def generate(path: Path, rows: int, users: int, events: int, days: int, seed: int = 2026) -> None:
    """A realistic log, in time order: event popularity and user activity both skewed (a few
    events and users account for most rows), ISO 8601 UTC timestamps."""
    rng = random.Random(seed)
    names = [f"event_{i:02d}" for i in range(events)]
    name_weights = list(accumulate(1 / (i + 1) for i in range(events)))
    per_day, extra = divmod(rows, days)
    with open(path, "w", newline="") as out:
        out.write("event,user_id,timestamp\n")
        for day in range(days):
            base = START + timedelta(days=day)
            count = per_day + (1 if day < extra else 0)
            lines = []
            for second in sorted(rng.randrange(86400) for _ in range(count)):
                name = names[bisect(name_weights, rng.random() * name_weights[-1])]
                uid = int(users * rng.random() ** 2)  # heavy users have small ids
                when = base + timedelta(seconds=second)
                lines.append(f"{name},{uid},{when:%Y-%m-%dT%H:%M:%S}Z\n")
            out.writelines(lines)


def sample(path: Path, out: Path, every: int) -> int:
    """Every *every*-th data row of *path* into *out* (no header); returns the count."""
    kept = 0
    with open(path) as src, open(out, "w") as dst:
        next(src)
        for index, line in enumerate(src):
            if index % every == 0:
                dst.write(line)
                kept += 1
    return kept


def reference(path: Path, options: ClientOptions) -> dict[str, bytes]:
    """Every key as marking each row with ``mark_event`` leaves it: its SETBITs, applied to
    local bitmaps (``event_writes`` is what ``mark_event`` sends)."""
    bitmaps: dict[str, bytearray] = {}
    writes_of: dict[tuple[str, str], list[str]] = {}
    with open(path) as src:
        next(src)
        for line in src:
            name, uid_text, stamp = line.rstrip("\n").split(",")
            uid = int(uid_text)
            hour = (name, stamp[:13])  # the keys depend on the event and the hour only
            keys = writes_of.get(hour)
            if keys is None:
                when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                keys = [
                    k
                    for k, _, _ in options.event_writes(
                        name, uid, when, 1, track_hourly=None, track_unique=None
                    )
                ]
                writes_of[hour] = keys
            for key in keys:
                bitmap = bitmaps.get(key)
                if bitmap is None:
                    bitmap = bitmaps[key] = bytearray()
                if len(bitmap) <= uid >> 3:
                    bitmap.extend(bytes((uid >> 3) + 1 - len(bitmap)))
                bitmap[uid >> 3] |= 0x80 >> (uid & 7)
    return {k: bytes(v) for k, v in bitmaps.items()}


def stored(admin: redis.Redis, prefix: str) -> dict[str, bytes]:
    found = {}
    for key in admin.scan_iter(match=f"{prefix}*", count=1000):
        value = admin.get(key)
        assert isinstance(value, bytes)
        found[key.decode()[len(prefix) :]] = value
    return found


async def import_file(url: str, path: Path, prefix: str, use_numpy: bool) -> ImportSummary:
    async with Bitmapist(url, key_prefix=prefix, use_numpy=use_numpy) as bm:
        return await bm.import_events(EventLog(path))


def best_import(url: str, admin: redis.Redis, path: Path, repeat: int, use_numpy: bool) -> float:
    times = []
    for _ in range(repeat):
        admin.flushdb()
        summary = asyncio.run(import_file(url, path, "imp_", use_numpy))
        assert summary.complete
        times.append(summary.seconds)
    return min(times)


def run_cli(url: str, path: Path) -> tuple[float, float]:
    """Wall time of ``bitmapist-async import`` (process start included), and the import's own
    seconds from its JSON summary."""
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bitmapist_async",
            "import",
            str(path),
            "--store",
            url,
            "--key-prefix",
            "cli_",
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - began
    return wall, float(json.loads(done.stdout)["seconds"])


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sample-every", type=int, default=100, help="legacy sample stride")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calibrate", action="store_true", help="measure the write threshold")
    parser.add_argument("--ids", type=int, default=32, help="ids per key for --calibrate")
    args = parser.parse_args(argv)
    if args.calibrate:
        return calibrate(ids=args.ids)

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        path = Path(tmp) / "events.csv"
        began = time.perf_counter()
        generate(path, args.rows, args.users, args.events, args.days)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - began:.1f} s",
            file=sys.stderr,
        )
        sample_path = Path(tmp) / "sample.csv"
        sampled = sample(path, sample_path, args.sample_every)
        python = legacy_python()
        if python is None:
            raise SystemExit("could not install bitmapist 3.119 for the baseline")
        with private_redis() as server:
            admin = redis.Redis(port=server.port, protocol=2)
            # the baseline, and the same sample imported: byte-equal keys
            legacy = run_legacy(
                python, server.port, LEGACY_SCRIPT, path=str(sample_path), repeat=args.repeat
            )
            assert legacy["rows"] == sampled
            header = Path(tmp) / "sample-with-header.csv"
            header.write_text("event,user_id,timestamp\n" + sample_path.read_text())
            asyncio.run(import_file(server.url, header, "samp_", True))
            assert stored(admin, "samp_") == stored(admin, "trackist_"), "sample mismatch"

            numpy_s = best_import(server.url, admin, path, args.repeat, True)
            python_s = best_import(server.url, admin, path, args.repeat, False)
            expected = reference(path, ClientOptions(key_prefix="imp_"))
            got = stored(admin, "imp_")
            assert got == {k[len("imp_") :]: v for k, v in expected.items()}, "import mismatch"
            admin.flushdb()
            cli_wall, cli_s = run_cli(server.url, path)
            admin.close()

    legacy_rate = legacy["rows"] / legacy["seconds"]
    lines = [
        f"### Bulk import: {args.rows:,} rows, {args.users:,} users, {args.events} events, "
        f"{args.days} days",
        "",
        "| what | rows | seconds | rows/s | vs bitmapist |",
        "|---|---|---|---|---|",
        f"| bitmapist 3.119 `mark_event` loop (sample: every {args.sample_every}th row, "
        f"best of {args.repeat}) "
        f"| {legacy['rows']:,} | {legacy['seconds']:.2f} | {legacy_rate:,.0f} | 1x (baseline) |",
    ]
    for name, seconds in (
        (f"`import_events(EventLog(...))`, numpy, best of {args.repeat}", numpy_s),
        (f"`import_events(EventLog(...))`, pure Python, best of {args.repeat}", python_s),
        ("`bitmapist-async import` CLI, one run, its own summary", cli_s),
        ("`bitmapist-async import` CLI, same run, wall time with process start", cli_wall),
    ):
        rate = args.rows / seconds
        lines.append(
            f"| {name} | {args.rows:,} | {seconds:.2f} | {rate:,.0f} | {rate / legacy_rate:,.0f}x |"
        )
    lines += [
        "",
        f"Keys checked: the {len(expected):,} imported keys equal, byte for byte, what marking "
        "every row one by one gives; bitmapist's sample keys equal an import of the sample.",
    ]
    table = "\n".join(lines)
    print(table)
    return table


def calibrate(keys: int = 200, ids: int = 32) -> str:
    """Seconds per key for the two multi-bit write paths, with *ids* ids per key spread over
    bitmaps of growing size: where the sparse path starts winning is the threshold."""

    async def measure(url: str) -> list[str]:
        rng = random.Random(5)
        out = []
        async with Bitmapist(url, use_numpy=True) as bm:
            storage, prefix = bm.storage, bm.options.scheme.bitop_prefix
            await storage.write_bits([(f"cal_warm_{i}", 1, 1) for i in range(1000)])
            size = 1024
            while size <= 16 << 20:
                count = max(4, min(keys, (32 << 20) // size))  # at most ~32 MiB a pipeline
                sets = [sorted(rng.sample(range(size * 8), ids)) for _ in range(count)]
                began = time.perf_counter()
                await storage.merge_bits(
                    [(f"cal_s_{size}_{i}", s) for i, s in enumerate(sets)], temp_prefix=prefix
                )
                sparse = (time.perf_counter() - began) / count
                began = time.perf_counter()
                dense = [
                    (
                        f"cal_d_{size}_{i}",
                        build_bitmap([array("I", s)], s[-1] // 8 + 1, use_numpy=True),
                    )
                    for i, s in enumerate(sets)
                ]
                await storage.merge_bitmaps(dense, temp_prefix=prefix)
                dense_s = (time.perf_counter() - began) / count
                del dense
                await bm.delete_all_events()
                winner = "sparse" if sparse < dense_s else "dense"
                out.append(
                    f"| {size:,} | {size / ids:,.0f} | {sparse * 1e6:,.0f} | "
                    f"{dense_s * 1e6:,.0f} | {winner} |"
                )
                size *= 2
        return out

    with private_redis() as server:
        rows = asyncio.run(measure(server.url))
    table = "\n".join(
        [
            f"### Write threshold: {ids} ids per key, up to {keys} keys per pipeline "
            f"(SPARSE_BYTES_PER_BIT = {SPARSE_BYTES_PER_BIT:,})",
            "",
            "| bitmap bytes | bytes per id | sparse (SETBITs on a scratch key), µs/key "
            "| dense (SET bytes), µs/key | cheaper |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    return table


if __name__ == "__main__":
    main()
