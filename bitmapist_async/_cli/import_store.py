"""``bitmapist-async import-store``: load a dump (or another store) into a store (see
:data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from typing import Any

from .._async.client import DEFAULT_URL
from .._core.url import read_only_url, redact_url
from .common import EXIT_STATUS_TEXT, CommandError, add_store_option
from .progress import PROGRESS_HELP, CountProgress, Progress
from .transfer import (
    CopyStats,
    DumpError,
    Entry,
    add_timeout_option,
    copy_entries,
    guarded,
    is_store_url,
    list_keys,
    open_store,
    read_dump,
    read_store,
    round_trip_seconds,
)

__all__ = ("DESCRIPTION", "load_dump", "register", "run_import_store")

DESCRIPTION = f"""\
Load a dump file (written by export) or the keys of another store into a store.

  bitmapist-async import-store --to redis://127.0.0.1:6379/0 events.jsonl
  bitmapist-async import-store --to file:events.db redis://old-server:6379/0
  gunzip -c events.jsonl.gz | bitmapist-async import-store --to file:events.db -

Each key of the dump replaces the key of the same name (other keys are left alone) and is
read back and compared. The whole dump is checked before anything is written, so a
truncated or corrupt dump changes nothing (and creates no store). A source store is opened
read-only. The summary and the progress go to standard error. (import is the command for
CSV/JSON event logs.)

{EXIT_STATUS_TEXT}; a bad or truncated dump is a failure (1).
"""


async def run_import_store(
    source: str | Iterable[Entry],
    target_url: str,
    pattern: str = "*",
    progress: Progress | None = None,
) -> CopyStats:
    """Copy *source* (a store URL, or the entries of a dump) into *target_url*."""
    shown = progress or Progress(sys.stderr, False)
    if not isinstance(source, str):
        entries = list(source)
        return await _copy(iter(entries), len(entries), target_url, shown)
    store = open_store(read_only_url(source))
    try:
        keys = await list_keys(store, pattern)
        return await _copy(read_store(store, keys), len(keys), target_url, shown)
    finally:
        await store.aclose()


async def _copy(entries: Any, total: int, target_url: str, progress: Progress) -> CopyStats:
    report = CountProgress(progress, total)
    target = open_store(target_url)
    try:
        await guarded(target, target.ping())  # fail before writing, even with no keys
        return await copy_entries(entries, target, lambda s: report(s.keys, s.nbytes))
    finally:
        await target.aclose()


def load_dump(path: str) -> list[Entry]:
    """Every entry of the dump at *path* (``-``: standard input), all checked.

    :raises DumpError: not a valid, complete dump.
    """
    if path == "-":
        return list(read_dump(sys.stdin))
    with open(path, encoding="ascii") as lines:
        return list(read_dump(lines))


def _run(args: argparse.Namespace) -> int:
    try:
        source: str | list[Entry] = (
            args.source if is_store_url(args.source) else load_dump(args.source)
        )
    except (DumpError, UnicodeDecodeError) as exc:
        where = "standard input" if args.source == "-" else args.source
        raise CommandError(f"{where}: {exc}") from exc
    round_trip_seconds.set(args.timeout)
    progress = Progress(sys.stderr, args.progress)
    try:
        stats = asyncio.run(run_import_store(source, args.target, args.match, progress))
    finally:
        progress.close()
    print(
        f"imported {stats.keys:,} keys ({stats.ids:,} ids) into {redact_url(args.target)}; "
        f"{stats.verified:,} verified",
        file=sys.stderr,
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import-store",
        help="load a dump file (or another store) into a store (verified)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(
        parser,
        "--to",
        dest="target",
        default=DEFAULT_URL,
        help=f"the store to write to (default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--match",
        default="*",
        metavar="GLOB",
        help="when copying from a store: only keys matching this glob (default *)",
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help=PROGRESS_HELP
    )
    add_timeout_option(parser)
    parser.add_argument("source", help="dump file, '-' for standard input, or a store URL")
    parser.set_defaults(run=_run)
