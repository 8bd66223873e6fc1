"""``bitmapist-async export``: copy every bitmap of a store to a dump file or another store.

    bitmapist-async export --from file:events.db events.jsonl     # dump (JSON Lines, roaring)
    bitmapist-async export --from file:events.db redis://127.0.0.1:6379/0   # direct copy
    bitmapist-async export --from redis://... - | gzip > events.jsonl.gz

Keys are copied exactly (ids and Redis byte length); every written key is read back and
compared. An embedded source is opened read-only (?mode=ro): nothing is written to it.
Temporary bit-operation keys are skipped unless ``--include-bitop-keys``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import IO, Any

from .._async.client import DEFAULT_URL
from .._core.url import read_only_url
from .transfer import CopyStats, copy_entries, is_store_url, open_store, read_store, write_dump

__all__ = ("register", "run_export")


async def run_export(
    source_url: str, output: str | IO[str], pattern: str = "*", *, include_bitop_keys: bool = False
) -> CopyStats:
    """Copy the keys of *source_url* matching *pattern* to *output*: a store URL, or an open
    text stream that receives a dump. An embedded source is opened read-only (``?mode=ro``)."""
    source = open_store(read_only_url(source_url))
    try:
        entries = read_store(source, pattern, include_bitop_keys=include_bitop_keys)
        if not isinstance(output, str):
            return await write_dump(entries, output)
        target = open_store(output)
        try:
            return await copy_entries(entries, target)
        finally:
            await target.aclose()
    finally:
        await source.aclose()


def _run(args: argparse.Namespace) -> int:
    def run(output: str | IO[str]) -> CopyStats:
        return asyncio.run(
            run_export(args.source, output, args.match, include_bitop_keys=args.include_bitop)
        )

    if is_store_url(args.output):
        stats = run(args.output)
    elif args.output == "-":
        stats = run(sys.stdout)
    else:
        with open(args.output, "w", encoding="ascii") as out:
            stats = run(out)
    where = "standard output" if args.output == "-" else args.output
    print(
        f"exported {stats.keys:,} keys ({stats.ids:,} ids) to {where}; {stats.verified:,} verified",
        file=sys.stderr,
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="copy a store's bitmaps to a dump file or another store (verified)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from", dest="source", default=DEFAULT_URL, help=f"store URL (default {DEFAULT_URL})"
    )
    parser.add_argument("--match", default="*", help="only keys matching this glob (default *)")
    parser.add_argument(
        "--include-bitop-keys",
        dest="include_bitop",
        action="store_true",
        help="also copy temporary bit-operation keys",
    )
    parser.add_argument("output", help="dump file, '-' for standard output, or a store URL")
    parser.set_defaults(run=_run)
