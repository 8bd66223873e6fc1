"""``bitmapist-async import``: load event logs into Redis as if ``mark_event`` had been called
for every row (see :data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
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

__all__ = ("DESCRIPTION", "register")

DESCRIPTION = """\
Load event logs (CSV with a header, or JSON lines; gzip-compressed or not; - for standard
input) into Redis, as if mark_event had been called for every row.

Rows are aggregated per key in chunks and each key is merged with one atomic change, so the
import is fast, re-running it gives the same result, and stopping it (Ctrl-C, kill) leaves
every key either untouched or fully merged for its chunk. The summary says how far it got.

exit status: 0 done (bad rows within --max-errors are only reported), 1 failed (file,
truncated or corrupt gzip, Redis), 2 usage, 3 more bad rows than --max-errors, 130
interrupted (SIGINT), 143 terminated (SIGTERM).
"""

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TOO_MANY_ERRORS = 3


class _Stopped(KeyboardInterrupt):
    """Raised by the SIGINT/SIGTERM handler wherever the program is (even in a blocking read
    of standard input), so it stops at once; keys stay consistent on the server side."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Progress:
    """Progress on *stream*: a line rewritten in place on a terminal, else one line per chunk
    written (only when asked for with ``--progress``)."""

    def __init__(self, stream: IO[str], enabled: bool | None) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._enabled = self._tty if enabled is None else enabled
        self._chunks = 0
        self._shown_at = 0.0
        self._drawn = False
        self.last = ImportSummary()

    def update(self, summary: ImportSummary) -> None:
        self.last = summary
        if not self._enabled:
            return
        if self._tty:
            now = time.monotonic()
            if now - self._shown_at >= 0.2 or summary.complete:
                self._shown_at = now
                self._stream.write("\r\x1b[K" + self._line(summary))
                self._stream.flush()
                self._drawn = True
        elif summary.chunks_written > self._chunks:
            self._chunks = summary.chunks_written
            self._stream.write(
                f"chunk {summary.chunks_written} written: {summary.rows_imported:,} rows "
                f"imported through {summary.position}\n"
            )
            self._stream.flush()

    @staticmethod
    def _line(summary: ImportSummary) -> str:
        text = f"{summary.rows_read:,} rows read, {summary.rows_per_second:,.0f} rows/s"
        if summary.bytes_total and summary.bytes_read is not None:
            text += f", {100 * summary.bytes_read / summary.bytes_total:.0f}%"
            eta = summary.eta_seconds()
            if eta is not None:
                text += f", ETA {_duration(eta)}"
        if summary.rows_rejected:
            text += f", {summary.rows_rejected:,} rejected"
        return text

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


async def _import(args: argparse.Namespace, log: EventLog, progress: _Progress) -> ImportSummary:
    async with Bitmapist(args.redis_url, key_prefix=args.key_prefix, tz=args.tz) as bm:
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
        print(f"bitmapist-async import: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
        summary, status, code, error = exc.summary, "aborted", EXIT_TOO_MANY_ERRORS, str(exc)
    except ImportInputError as exc:  # a truncated or corrupt gzip stream
        summary, status, code, error = exc.summary, "failed", EXIT_FAILED, str(exc)
    except (OSError, ValueError, redis.RedisError, BitmapistError) as exc:
        summary, status, code = progress.last, "failed", EXIT_FAILED
        error = f"{type(exc).__name__}: {exc}"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.close()
    _print_summary(summary, status, error, as_json=args.json)
    return code


def _print_summary(
    summary: ImportSummary, status: str, error: str | None, *, as_json: bool
) -> None:
    if as_json:
        print(json.dumps({"status": status, "error": error, **summary.as_dict()}, indent=2))
        return
    print(f"import {status}" + ("" if error is None else f": {error}"))
    print(summary.describe())


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
    parser.add_argument("--redis-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--key-prefix", default="trackist_", help="default trackist_ (bitmapist)")
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
    parser.add_argument("--format", choices=("auto", "csv", "jsonl"), default="auto")
    parser.add_argument("--event-column", default="event", metavar="NAME")
    parser.add_argument("--user-id-column", default="user_id", metavar="NAME")
    parser.add_argument("--timestamp-column", default="timestamp", metavar="NAME")
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
        help="progress on stderr (default: when stderr is a terminal; elsewhere one line per "
        "chunk written)",
    )
    parser.set_defaults(run=_run)
