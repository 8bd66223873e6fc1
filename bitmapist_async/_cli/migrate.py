"""``bitmapist-async migrate``: copy every event key between key layouts and servers, verifying
counts (see :data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._async.client import Bitmapist
from .._async.sharded_storage import ShardedStorage
from .._core.errors import BitmapistError, ShardLayoutError
from .._core.plan import Query
from .._core.shards import DEFAULT_SHARD_BITS, LAYOUTS, Layout, ShardLayout, check_shard_bits
from .._core.url import cluster_node_url, is_embedded_url, read_only_url
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError
from .progress import PROGRESS_HELP, CountProgress, Progress
from .transfer import add_timeout_option, guarded, round_trip_seconds

__all__ = ("DESCRIPTION", "MigrationReport", "detect_layout", "migrate", "register")

DESCRIPTION = """\
Copy every event key between key layouts and servers, verifying counts.

  bitmapist-async migrate --from redis://127.0.0.1:6379/0 \\
      --to redis+cluster://10.0.0.1:7000 --layout sharded

The source layout is detected (a sharded keyspace records its shard_bits under
{prefix}{shards}layout; a redis+cluster:// source is always sharded) unless
--from-layout says it. Each event key (temporary bit-operation keys are skipped) is read as
its logical bitmap, the destination key of the same name is replaced by it, and at the end every
key's BITCOUNT must be the same on both sides. Keys that exist only at the destination are
left alone. Nothing is written or deleted at the source (an embedded source is opened
read-only). The report goes to standard output; count mismatches and errors to standard
error, progress too.

Memory: one batch of logical bitmaps at a time; a single bitmap is as large as in the classic
layout (ids near 3e9 mean about 375 MiB), whatever the source layout.

exit status: 0 every count verified, 1 failure (a count mismatch, storage unreachable or
refusing), 2 usage (a bad option, source and destination the same keys, wrong
--from-shard-bits).
"""

#: Bytes of logical bitmaps to hold in memory at once (a larger single bitmap is its own batch).
BATCH_BYTES = 64 * 2**20
#: Keys read per round trip at most (fewer once large bitmaps have been seen).
MAX_GROUP = 64


@dataclass
class MigrationReport:
    """What :func:`migrate` copied."""

    source: str
    destination: str
    keys: int = 0
    ids: int = 0
    skipped: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatched

    def text(self) -> str:
        lines = [
            f"copied {self.keys:,} event keys ({self.ids:,} ids in all) "
            f"from {self.source} to {self.destination}"
        ]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped):,} keys of the other layout under the prefix")
        if self.mismatched:
            lines.append(f"{len(self.mismatched):,} keys' counts differ (listed on standard error)")
        else:
            lines.append("every key's count verified")
        return "\n".join(lines)

    def mismatch_text(self) -> str:
        """The keys whose counts differ, one line each (empty when none)."""
        if not self.mismatched:
            return ""
        lines = [f"COUNT MISMATCH on {len(self.mismatched):,} keys:"]
        lines += [f"  {key}: source {a:,}, destination {b:,}" for key, a, b in self.mismatched]
        return "\n".join(lines)


async def detect_layout(url: str, key_prefix: str) -> tuple[Layout, int]:
    """The layout of the keys under *key_prefix* at *url*: ``("sharded", shard_bits)`` when a
    sharded client recorded its ``shard_bits`` there (or *url* is a cluster), else
    ``("classic", DEFAULT_SHARD_BITS)``."""
    if is_embedded_url(url):  # the embedded store keeps one layout: the classic one
        return "classic", DEFAULT_SHARD_BITS
    try:
        layout = ShardLayout(key_prefix)
    except ValueError:  # braces in the prefix: only the classic layout can use it
        return "classic", DEFAULT_SHARD_BITS
    storage = ShardedStorage(url, layout=layout, bitop_ttl=60)
    try:
        bits = await guarded(storage, storage.stored_shard_bits())
    finally:
        await storage.aclose()
    if bits is not None:
        return "sharded", bits
    if cluster_node_url(url) is not None:
        return "sharded", DEFAULT_SHARD_BITS
    return "classic", DEFAULT_SHARD_BITS


def _foreign(key: str, prefix: str) -> bool:
    """Whether a key found by a classic scan belongs to the sharded layout."""
    try:
        layout = ShardLayout(prefix)
    except ValueError:
        return False
    return layout.parse(key) is not None or key.startswith(layout.index_key)


async def _counts(bm: Bitmapist, keys: Sequence[str]) -> list[int]:
    results = await guarded(bm.storage, bm.storage.evaluate([], [Query("count", k) for k in keys]))
    return [int(r) for r in results]


async def migrate(
    source: str,
    destination: str,
    *,
    layout: Layout,
    key_prefix: str = "trackist_",
    to_key_prefix: str | None = None,
    shard_bits: int = DEFAULT_SHARD_BITS,
    from_layout: Layout | None = None,
    from_shard_bits: int | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> MigrationReport:
    """Copy every event key under *key_prefix* at *source* to *destination* (under
    *to_key_prefix*, default the same) in *layout*, then verify every key's count.
    *on_progress* is called with (keys copied, keys in all, bytes copied) after each batch.

    :raises ValueError: source and destination are the same keys, or a bad option.
    """
    to_prefix = key_prefix if to_key_prefix is None else to_key_prefix
    if source == destination and key_prefix == to_prefix:
        raise ValueError("source and destination are the same keys: give another --to-key-prefix")
    if from_layout is None:
        from_layout, detected_bits = await detect_layout(source, key_prefix)
        from_shard_bits = from_shard_bits or detected_bits
    src_options: dict[str, Any] = {"key_prefix": key_prefix, "layout": from_layout}
    if from_layout == "sharded":
        src_options["shard_bits"] = from_shard_bits or DEFAULT_SHARD_BITS
    dst_options: dict[str, Any] = {"key_prefix": to_prefix, "layout": layout}
    if layout == "sharded":
        dst_options["shard_bits"] = check_shard_bits(shard_bits)
    async with (
        Bitmapist(read_only_url(source), **src_options) as src,
        Bitmapist(destination, **dst_options) as dst,
    ):
        report = MigrationReport(src.storage.describe(), dst.storage.describe())
        scheme = src.options.scheme
        keys = []
        for key in sorted(await guarded(src.storage, src.storage.scan(scheme.events_pattern()))):
            if scheme.event_name(key) is None:
                continue
            if from_layout == "classic" and _foreign(key, key_prefix):
                report.skipped.append(key)
                continue
            keys.append(key)
        renamed = {key: to_prefix + key[len(key_prefix) :] for key in keys}
        start, group, nbytes = 0, MAX_GROUP, 0
        while start < len(keys):
            largest, size = await _copy_keys(src, dst, keys[start : start + group], renamed, report)
            start += group
            nbytes += size
            if on_progress is not None:
                on_progress(min(start, len(keys)), len(keys), nbytes)
            group = max(1, min(MAX_GROUP, BATCH_BYTES // max(largest, 1)))
    return report


async def _copy_keys(
    src: Bitmapist,
    dst: Bitmapist,
    keys: list[str],
    renamed: dict[str, str],
    report: MigrationReport,
) -> tuple[int, int]:
    """Copy and verify *keys*; return the size of the largest bitmap and of them all."""
    replies = await guarded(src.storage, src.storage.evaluate([], [Query("get", k) for k in keys]))
    bitmaps = [bytes(data) for data in replies if isinstance(data, bytes)]
    pending: list[tuple[str, bytes]] = []
    size = 0
    for key, data in zip(keys, bitmaps, strict=True):
        pending.append((renamed[key], data))
        size += len(data)
        if size >= BATCH_BYTES:
            await _write(dst, pending)
            pending, size = [], 0
    if pending:
        await _write(dst, pending)
    expected = await _counts(src, keys)
    got = await _counts(dst, [renamed[key] for key in keys])
    for key, a, b in zip(keys, expected, got, strict=True):
        if a != b:
            report.mismatched.append((key, a, b))
    report.keys += len(keys)
    report.ids += sum(expected)
    sizes = [len(data) for data in bitmaps]
    return max(sizes, default=0), sum(sizes)


async def _write(dst: Bitmapist, merges: list[tuple[str, bytes]]) -> None:
    storage = dst.storage
    await guarded(storage, storage.delete([key for key, _ in merges]))
    await guarded(
        storage,
        storage.merge_bitmaps(
            [(key, data) for key, data in merges if data],
            temp_prefix=dst.options.scheme.bitop_prefix,
        ),
    )


def _run(args: argparse.Namespace) -> int:
    round_trip_seconds.set(args.timeout)
    progress = Progress(sys.stderr, args.progress)
    reporter: list[CountProgress] = []

    def shown(done: int, total: int, nbytes: int) -> None:
        if not reporter:
            reporter.append(CountProgress(progress, total, every=1))
        reporter[0](done, nbytes)

    try:
        report = asyncio.run(
            migrate(
                args.source,
                args.destination,
                layout=args.layout,
                key_prefix=args.key_prefix,
                to_key_prefix=args.to_key_prefix,
                shard_bits=args.shard_bits,
                from_layout=None if args.from_layout == "auto" else args.from_layout,
                from_shard_bits=args.from_shard_bits,
                on_progress=shown,
            )
        )
    except (ValueError, TypeError) as exc:
        if isinstance(exc, BitmapistError) and not isinstance(exc, ShardLayoutError):
            raise  # a failure, not a usage error
        raise CommandError(str(exc), EXIT_USAGE) from exc
    finally:
        progress.close()
    print(report.text())
    if not report.ok:
        print(report.mismatch_text(), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="copy every event key between key layouts and servers, verifying counts",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="the store to read (required)"
    )
    parser.add_argument(
        "--to",
        dest="destination",
        required=True,
        metavar="URL",
        help="the store to write to, e.g. redis+cluster://host:7000 (required)",
    )
    parser.add_argument(
        "--layout", choices=LAYOUTS, required=True, help="destination key layout (required)"
    )
    parser.add_argument(
        "--key-prefix",
        default="trackist_",
        metavar="PREFIX",
        help="source key prefix (default trackist_)",
    )
    parser.add_argument(
        "--to-key-prefix", metavar="PREFIX", help="destination key prefix (default: the same)"
    )
    parser.add_argument(
        "--shard-bits",
        type=int,
        default=DEFAULT_SHARD_BITS,
        metavar="N",
        help=f"destination shard_bits, sharded layout only (default {DEFAULT_SHARD_BITS})",
    )
    parser.add_argument(
        "--from-layout",
        choices=("auto", *LAYOUTS),
        default="auto",
        help="source key layout (default auto: detected)",
    )
    parser.add_argument(
        "--from-shard-bits",
        type=int,
        metavar="N",
        help="source shard_bits (default: the recorded one)",
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help=PROGRESS_HELP
    )
    add_timeout_option(parser)
    parser.set_defaults(run=_run)
