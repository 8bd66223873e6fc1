"""``bitmapist-async export``: copy every bitmap of a store to a dump file or another store
(see :data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

from .._async.client import DEFAULT_URL
from .._core.url import read_only_url, redact_url
from .common import EXIT_STATUS_TEXT, add_store_option
from .progress import PROGRESS_HELP, CountProgress, Progress
from .transfer import (
    CopyStats,
    add_timeout_option,
    copy_entries,
    guarded,
    is_store_url,
    list_keys,
    open_store,
    read_store,
    round_trip_seconds,
    write_dump,
)

__all__ = ("DESCRIPTION", "register", "run_export")

DESCRIPTION = f"""\
Copy every bitmap of a store to a dump file or to another store.

  bitmapist-async export --from file:events.db events.jsonl      # dump (JSON Lines, roaring)
  bitmapist-async export --from file:events.db redis://127.0.0.1:6379/0   # direct copy
  bitmapist-async export --from redis://127.0.0.1:6379/0 - | gzip > events.jsonl.gz

Keys are copied exactly (ids and Redis byte length); every written key is read back and
compared. The source is only read: an embedded source is opened read-only, so a missing
file is an error, never created. A dump file appears only once complete (it is written
under NAME.partial, then renamed). Temporary bit-operation keys are skipped unless
--include-bitop-keys. The dump goes to standard output with '-'; the summary and the
progress go to standard error.

{EXIT_STATUS_TEXT}.
"""


async def run_export(
    source_url: str,
    output: str,
    pattern: str = "*",
    *,
    include_bitop_keys: bool = False,
    progress: Progress | None = None,
) -> CopyStats:
    """Copy the keys of *source_url* matching *pattern* to *output*: a store URL, ``-``
    (standard output) or a dump file. An embedded source is opened read-only (``?mode=ro``)."""
    source = open_store(read_only_url(source_url))
    try:
        keys = await list_keys(source, pattern, include_bitop_keys=include_bitop_keys)
        report = CountProgress(progress or Progress(sys.stderr, False), len(keys))
        entries = read_store(source, keys)

        def copied(stats: CopyStats) -> None:
            report(stats.keys, stats.nbytes)

        if is_store_url(output):
            target = open_store(output)
            try:
                await guarded(target, target.ping())  # fail before reading, even with no keys
                return await copy_entries(entries, target, copied)
            finally:
                await target.aclose()
        if output == "-":
            return await write_dump(entries, sys.stdout, copied)
        partial = output + ".partial"
        try:
            with open(partial, "w", encoding="ascii") as out:  # noqa: ASYNC230 (one file)
                stats = await write_dump(entries, out, copied)
            os.replace(partial, output)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(partial)
        return stats
    finally:
        await source.aclose()


def _run(args: argparse.Namespace) -> int:
    round_trip_seconds.set(args.timeout)
    progress = Progress(sys.stderr, args.progress)
    try:
        stats = asyncio.run(
            run_export(
                args.source,
                args.output,
                args.match,
                include_bitop_keys=args.include_bitop,
                progress=progress,
            )
        )
    finally:
        progress.close()
    where = "standard output" if args.output == "-" else redact_url(args.output)
    print(
        f"exported {stats.keys:,} keys ({stats.ids:,} ids) to {where}; {stats.verified:,} verified",
        file=sys.stderr,
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="copy a store's bitmaps to a dump file or another store (verified)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(
        parser,
        "--from",
        dest="source",
        default=DEFAULT_URL,
        help=f"the store to read (default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--match", default="*", metavar="GLOB", help="only keys matching this glob (default *)"
    )
    parser.add_argument(
        "--include-bitop-keys",
        dest="include_bitop",
        action="store_true",
        help="also copy temporary bit-operation keys",
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help=PROGRESS_HELP
    )
    add_timeout_option(parser)
    parser.add_argument("output", help="dump file, '-' for standard output, or a store URL")
    parser.set_defaults(run=_run)
