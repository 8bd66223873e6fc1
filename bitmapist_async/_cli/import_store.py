"""``bitmapist-async import-store``: load a dump (or another store) into a store.

    bitmapist-async import-store --to redis://127.0.0.1:6379/0 events.jsonl
    bitmapist-async import-store --to file:events.db redis://old-server:6379/0
    gunzip -c events.jsonl.gz | bitmapist-async import-store --to file:events.db -

Each key of the dump replaces the key of the same name (other keys are left alone) and is read
back and compared. The whole dump is checked before anything is written, so a truncated or
corrupt dump changes nothing. (``import`` is the command for CSV/JSON event logs.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from typing import Any

from .._async.client import DEFAULT_URL
from .transfer import (
    CopyStats,
    DumpError,
    Entry,
    copy_entries,
    is_store_url,
    open_store,
    read_dump,
    read_store,
)

__all__ = ("load_dump", "register", "run_import_store")


async def run_import_store(
    source: str | Iterable[Entry], target_url: str, pattern: str = "*"
) -> CopyStats:
    """Copy *source* (a store URL, or the entries of a dump) into *target_url*."""
    target = open_store(target_url)
    try:
        if not isinstance(source, str):
            return await copy_entries(iter(source), target)
        store = open_store(source)
        try:
            return await copy_entries(read_store(store, pattern), target)
        finally:
            await store.aclose()
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
    except (DumpError, OSError, UnicodeDecodeError) as exc:
        print(f"bitmapist-async import-store: {exc}", file=sys.stderr)
        return 2
    stats = asyncio.run(run_import_store(source, args.target, args.match))
    print(
        f"imported {stats.keys:,} keys ({stats.ids:,} ids) into {args.target}; "
        f"{stats.verified:,} verified",
        file=sys.stderr,
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import-store",
        help="load a dump file (or another store) into a store (verified)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--to", dest="target", default=DEFAULT_URL, help=f"store URL (default {DEFAULT_URL})"
    )
    parser.add_argument(
        "--match", default="*", help="when copying from a store: only keys matching this glob"
    )
    parser.add_argument("source", help="dump file, '-' for standard input, or a store URL")
    parser.set_defaults(run=_run)
