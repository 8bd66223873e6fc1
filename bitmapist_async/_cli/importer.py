"""``bitmapist-async import``: load event logs into Redis as if ``mark_event`` had been called
for every row (see :data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import signal
import sys
import traceback
from datetime import timezone, tzinfo
from types import FrameType
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis

from .._async.client import DEFAULT_URL, Bitmapist
from .._async.importer import DEFAULT_CHUNK_ROWS
from .._core.bulk import ImportSummary
from .._core.errors import BitmapistError, ImportAbortedError, ImportInputError
from .._reader import EventLog
from .common import (
    EXIT_FAILED,
    EXIT_TOO_MANY_BAD_ROWS,
    EXIT_USAGE,
    CommandError,
    add_store_option,
)
from .progress import PROGRESS_HELP, Progress, Snapshot

__all__ = ("DESCRIPTION", "register")

DESCRIPTION = """\
Load event logs (CSV with a header, or JSON lines; gzip-compressed or not; - for standard
input) into a store, as if mark_event had been called for every row.

  bitmapist-async import --store redis://127.0.0.1:6379/0 events.csv.gz
  zcat events.jsonl.gz | bitmapist-async import --store file:events.db --format jsonl -

Rows are aggregated per key in chunks and each key is merged with one atomic change, so the
import is fast, re-running it gives the same result, and stopping it (Ctrl-C, kill) leaves
every key either untouched or fully merged for its chunk. The summary (standard output) says
how far it got; the error and the rejected rows go to standard error.

exit status: 0 done (bad rows within --max-errors are only reported), 1 failed (missing
file, truncated or corrupt gzip, storage unreachable), 2 usage, 3 more bad rows than
--max-errors, 130 interrupted (SIGINT), 143 terminated (SIGTERM).
"""


class _Stopped(KeyboardInterrupt):
    """Raised by the SIGINT/SIGTERM handler wherever the program is (even in a blocking read
    of standard input), so it stops at once; keys stay consistent on the server side."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


def _snapshot(summary: ImportSummary) -> Snapshot:
    return Snapshot(
        done=summary.rows_read,
        unit="rows",
        seconds=summary.seconds,
        nbytes=summary.bytes_read,
        bytes_total=summary.bytes_total,
        rejected=summary.rows_rejected,
    )


class _Progress:
    """The import's progress: the bar on a terminal, else a line per chunk written (which the
    tests synchronise on); ``last`` is the latest summary, for an interrupted import."""

    def __init__(self, stream: IO[str], enabled: bool | None) -> None:
        self._out = Progress(stream, enabled)
        self._chunks = 0
        self.last = ImportSummary()

    def update(self, summary: ImportSummary) -> None:
        self.last = summary
        self._out.draw(_snapshot(summary), final=summary.complete)
        if summary.chunks_written > self._chunks:
            self._chunks = summary.chunks_written
            self._out.line(
                f"chunk {summary.chunks_written} written: {summary.rows_imported:,} rows "
                f"imported through {summary.position}"
            )

    def close(self) -> None:
        self._out.close()


async def _import(args: argparse.Namespace, log: EventLog, progress: _Progress) -> ImportSummary:
    async with Bitmapist(args.store, key_prefix=args.key_prefix, tz=args.tz) as bm:
        return await bm.import_events(
            log,
            track_hourly=args.track_hourly or None,
            track_unique=args.track_unique or None,
            unmark=args.unmark,
            max_errors=args.max_errors,
            dry_run=args.dry_run,
            chunk_rows=args.chunk_rows,
            on_progress=progress.update,
        )


def _run(args: argparse.Namespace) -> int:
    try:
        log = EventLog(
            args.paths,
            format=args.format,
            event_column=args.event_column,
            user_id_column=args.user_id_column,
            timestamp_column=args.timestamp_column,
        )
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    progress = _Progress(sys.stderr, args.progress)
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    error: str | None = None
    try:
        summary = asyncio.run(_import(args, log, progress))
        status, code = "complete", 0
    except _Stopped as exc:
        summary = progress.last
        status, code = (
            ("interrupted" if exc.signum == signal.SIGINT else "terminated"),
            (128 + exc.signum),
        )
    except ImportAbortedError as exc:
        summary, status, code, error = exc.summary, "aborted", EXIT_TOO_MANY_BAD_ROWS, str(exc)
    except ImportInputError as exc:  # a truncated or corrupt gzip stream
        summary, status, code, error = exc.summary, "failed", EXIT_FAILED, str(exc)
    except (OSError, ValueError, redis.RedisError, BitmapistError) as exc:
        if args.debug:
            traceback.print_exc()
        summary, status, code = progress.last, "failed", EXIT_FAILED
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.close()
    _print_summary(summary, status, error, as_json=args.json)
    return code


def _print_summary(
    summary: ImportSummary, status: str, error: str | None, *, as_json: bool
) -> None:
    """The summary (the result) on standard output; the failure and the rejected rows (the
    diagnostics) on standard error."""
    if error is not None:
        print(f"bitmapist-async import: error: import {status}: {error}", file=sys.stderr)
    elif status != "complete":
        print(f"bitmapist-async import: import {status}", file=sys.stderr)
    if summary.errors:
        shown = len(summary.errors)
        print(f"first {shown} rejected row(s):" if shown > 1 else "rejected row:", file=sys.stderr)
        for row in summary.errors:
            print(f"  {row}", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": status, "error": error, **summary.as_dict()}, indent=2))
        return
    print(f"import {status}")
    print(dataclasses.replace(summary, errors=()).describe())  # rows: on stderr


def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return timezone.utc  # the same calendar, and the importer's fastest path
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {name!r}") from None


def _count(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="load CSV / JSON-lines event logs (gzip, stdin) as if marking every row",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="CSV or JSON-lines file (.gz too), - for stdin"
    )
    add_store_option(
        parser,
        "--store",
        dest="store",
        default=DEFAULT_URL,
        help=f"the store to write to: redis://..., file:..., memory:// (default {DEFAULT_URL})",
        old=("--redis-url",),
    )
    parser.add_argument(
        "--key-prefix",
        default="trackist_",
        metavar="PREFIX",
        help="prefix of every key written (default trackist_, as bitmapist)",
    )
    parser.add_argument(
        "--tz",
        type=_zone,
        default=timezone.utc,
        help="IANA zone of the calendar and of timestamps without an offset (default UTC)",
    )
    parser.add_argument("--track-hourly", action="store_true", help="also mark hour bitmaps")
    parser.add_argument("--track-unique", action="store_true", help="also mark unique bitmaps")
    parser.add_argument("--unmark", action="store_true", help="clear the bits instead")
    parser.add_argument(
        "--max-errors",
        type=_count(0),
        default=None,
        metavar="N",
        help="stop (exit 3) after more than N bad rows (default: no limit)",
    )
    parser.add_argument("--dry-run", action="store_true", help="read and validate, write nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--format",
        choices=("auto", "csv", "jsonl"),
        default="auto",
        help="input format (default auto: from the file name, else from the first line)",
    )
    parser.add_argument(
        "--event-column", default="event", metavar="NAME", help="event name column (default event)"
    )
    parser.add_argument(
        "--user-id-column",
        default="user_id",
        metavar="NAME",
        help="user id column (default user_id)",
    )
    parser.add_argument(
        "--timestamp-column",
        default="timestamp",
        metavar="NAME",
        help="timestamp column: ISO 8601, or epoch seconds or milliseconds (default timestamp)",
    )
    parser.add_argument(
        "--chunk-rows",
        type=_count(1),
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"rows aggregated in memory per chunk (default {DEFAULT_CHUNK_ROWS:,})",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=PROGRESS_HELP,
    )
    parser.set_defaults(run=_run)
