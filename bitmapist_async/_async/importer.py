"""Bulk import: rows from event-log files or iterables, aggregated per key in chunks, merged into
storage with few commands per key.

The rows of a chunk (``chunk_rows`` valid rows) are grouped in memory
(:class:`~bitmapist_async._core.bulk.ChunkAggregator`); then every key the chunk touches is
written with one atomic change (a ``SETBIT`` or a ``BITOP`` from a scratch key, through the
storage seam's ``write_bits``/``merge_bitmaps``/``merge_bits``). So an interrupted import leaves
each key either untouched by the chunk in progress or fully merged with it, and running the same
import again gives the same result (OR and the exact clear are idempotent).
"""

from __future__ import annotations

import gzip
import os
import time
import zlib
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Sequence
from datetime import date, datetime
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeAlias

from .._core.bulk import ChunkAggregator, ImportSummary
from .._core.errors import ClientClosedError, ImportAbortedError, ImportInputError
from .._core.eventlog import (
    MAX_REPORTED_ERRORS,
    Columns,
    ParsedBlock,
    RowError,
    parse_tuples,
)
from .._core.fastcsv import ArrayBlock, parse_csv_fast
from .._core.options import Write
from .._pairs import AsyncCheckpoint
from .._reader import EventLog

if TYPE_CHECKING:
    from .client import Bitmapist

__all__ = ("DEFAULT_CHUNK_ROWS", "AsyncImporter", "ImportRows", "ProgressCallback")

#: Valid rows aggregated before a chunk is written (about 4 bytes each in memory).
DEFAULT_CHUNK_ROWS = 1_000_000

#: Rows taken at a time from an iterable.
TUPLE_BLOCK_ROWS = 8192

#: A write batch (one round trip per write kind) holds about this many bytes.
_BATCH_BYTES = 8 << 20
#: What one queued SETBIT counts for in a batch (redis-py's per-command overhead).
_COMMAND_BYTES = 256
#: What reading a truncated or corrupt gzip stream raises.
_BROKEN_INPUT = (EOFError, gzip.BadGzipFile, zlib.error)
#: How much of each file is decompressed to find which one broke while checking them.
_PROBE_BYTES = 64 << 20

Row: TypeAlias = "tuple[str, int, datetime | date]"
#: What ``import_events`` takes.
ImportRows: TypeAlias = "EventLog | Iterable[Row] | AsyncIterable[Row]"
#: Called with a summary so far after each block read and each chunk written.
ProgressCallback: TypeAlias = Callable[[ImportSummary], None]


def _check_count(name: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value!r}")
    return value


class AsyncImporter:
    """One import run through a client (see ``Bitmapist.import_events`` for the parameters).

    :raises TypeError: a parameter of the wrong type (before any I/O).
    :raises ValueError: an out-of-range parameter (before any I/O).
    """

    def __init__(
        self,
        bm: Bitmapist,
        *,
        track_hourly: bool | None = None,
        track_unique: bool | None = None,
        unmark: bool = False,
        max_errors: int | None = 0,
        dry_run: bool = False,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        for flag, value in (("unmark", unmark), ("dry_run", dry_run)):
            if not isinstance(value, bool):
                raise TypeError(f"{flag} must be a bool, got {value!r}")
        if on_progress is not None and not callable(on_progress):
            raise TypeError(f"on_progress must be callable, got {on_progress!r}")
        self._bm = bm
        self._storage = bm._queries  # each chunk's write under the client's deadline
        self._aggregator = ChunkAggregator(
            bm.options, track_hourly=track_hourly, track_unique=track_unique, use_numpy=bm.use_numpy
        )
        self._temp_prefix = bm.options.scheme.bitop_prefix
        self._value = 0 if unmark else 1
        self._unmark = unmark
        self._max_errors = (
            None if max_errors is None else _check_count("max_errors", max_errors, low=0)
        )
        self._dry_run = dry_run
        self._chunk_rows = _check_count("chunk_rows", chunk_rows, low=1)
        self._on_progress = on_progress
        self._log: EventLog | None = None
        self._started = 0.0
        self._rows_read = 0
        self._rows_imported = 0
        self._rejected = 0
        self._errors: list[RowError] = []
        self._keys_written = 0
        self._chunks_written = 0
        self._position: str | None = None
        self._chunk_end: str | None = None
        self._read_through: str | None = None
        self._bytes_total: int | None = None
        self._complete = False

    def summary(self) -> ImportSummary:
        """How far the import has got."""
        return ImportSummary(
            rows_read=self._rows_read,
            rows_imported=self._rows_imported,
            rows_rejected=self._rejected,
            keys_written=self._keys_written,
            chunks_written=self._chunks_written,
            seconds=time.perf_counter() - self._started if self._started else 0.0,
            position=self._position,
            complete=self._complete,
            dry_run=self._dry_run,
            errors=tuple(self._errors),
            bytes_read=self._log.bytes_read if self._log is not None else None,
            bytes_total=self._bytes_total,
        )

    async def run(self, rows: ImportRows) -> ImportSummary:
        """Import every row of *rows*; return the summary.

        :raises TypeError: *rows* is not an :class:`EventLog` or an (async) iterable.
        :raises OSError: a file is missing or unreadable (checked before anything is written).
        :raises ValueError: a CSV header lacks a column (checked likewise).
        :raises ImportAbortedError: more than ``max_errors`` bad rows.
        :raises ImportInputError: a file could not be read to its end (a truncated or corrupt
            gzip stream); chunks written before stay written.
        :raises ClientClosedError: the client is closed.
        """
        if isinstance(rows, (str, bytes)) or not isinstance(
            rows, (EventLog, Iterable, AsyncIterable)
        ):
            raise TypeError(
                "rows must be an EventLog or an iterable of (event, user id, datetime) tuples, "
                f"got {rows!r}"
            )
        if self._bm.closed:
            raise ClientClosedError(f"{self._bm!r} is closed")
        if isinstance(rows, EventLog):
            self._log = rows
            try:
                rows.check()
            except _BROKEN_INPUT as exc:
                raise self._broken(rows, exc, checking=True) from exc
            self._bytes_total = rows.total_bytes()
        self._started = time.perf_counter()
        blocks = self._blocks(rows)
        try:
            async for block in blocks:
                self._count(block)
                await self._add(block)
                del block  # before the next block is parsed: one block in memory at a time
                self._report()
                await AsyncCheckpoint.now()
        finally:
            await blocks.aclose()
        if self._aggregator.rows:
            await self._write_chunk()
        self._complete = True
        summary = self.summary()
        if self._on_progress is not None:
            self._on_progress(summary)
        return summary

    async def _add(self, block: ParsedBlock | ArrayBlock) -> None:
        """Aggregate *block*, writing each chunk as soon as it is full."""
        aggregator = self._aggregator
        rest: ParsedBlock | ArrayBlock | None = block
        while rest is not None and len(rest):
            room = self._chunk_rows - aggregator.rows
            head, rest = rest.split(room) if len(rest) > room else (rest, None)
            try:
                aggregator.add(head)
            except (OverflowError, ValueError):  # a time outside the calendar in the client's zone
                if not isinstance(head, ParsedBlock):
                    raise
                known = len(head.errors)  # counted with the block already
                head = aggregator.within_calendar(head)
                self._count_errors(head.errors[known:])
                aggregator.add(head)
                if not len(head):
                    continue
            self._chunk_end = f"{head.source}:{head.line_of(len(head) - 1)}"
            if aggregator.rows >= self._chunk_rows:
                await self._write_chunk()

    def _count(self, block: ParsedBlock | ArrayBlock) -> None:
        self._rows_read += block.rows
        self._count_errors(block.errors)

    def _count_errors(self, errors: Sequence[RowError]) -> None:
        if not errors:
            return
        self._rejected += len(errors)
        room = MAX_REPORTED_ERRORS - len(self._errors)
        if room > 0:
            self._errors.extend(errors[:room])
        if self._max_errors is not None and self._rejected > self._max_errors:
            first = self._errors[0]
            raise ImportAbortedError(
                f"import stopped: {self._rejected} bad row(s), more than max_errors="
                f"{self._max_errors}; first: {first}",
                self.summary(),
            )

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.summary())

    async def _blocks(self, rows: ImportRows) -> AsyncGenerator[ParsedBlock | ArrayBlock, None]:
        columns = Columns()
        if isinstance(rows, EventLog):
            # the numpy parser for CSV, when numpy aggregates the rows
            uses_numpy = self._aggregator.uses_numpy
            fast = partial(parse_csv_fast, tz=self._bm.options.tz) if uses_numpy else None
            reading = rows.read_blocks(fast)
            while True:
                try:
                    block = next(reading)
                except StopIteration:
                    break
                except _BROKEN_INPUT as exc:
                    raise self._broken(rows, exc) from exc
                last = block.line_of(len(block) - 1) if len(block) else 0
                if block.errors:
                    last = max(last, block.errors[-1].line)
                if last:
                    self._read_through = f"{block.source}:{last}"
                yield block
        elif isinstance(rows, AsyncIterable):
            pending: list[Any] = []
            first = 1
            async for row in rows:
                pending.append(row)
                if len(pending) >= TUPLE_BLOCK_ROWS:
                    yield parse_tuples(pending, "<rows>", first, columns)
                    first += len(pending)
                    pending = []
            if pending:
                yield parse_tuples(pending, "<rows>", first, columns)
        else:
            iterator = iter(rows)
            first = 1
            while batch := list(islice(iterator, TUPLE_BLOCK_ROWS)):
                yield parse_tuples(batch, "<rows>", first, columns)
                first += len(batch)

    def _broken(
        self, rows: EventLog, exc: BaseException, *, checking: bool = False
    ) -> ImportInputError:
        """The error for input that ends in a broken gzip stream, naming the file."""
        where = _first_broken(rows.paths) if checking else _failing_path(rows, self._read_through)
        read = f"read through {self._read_through}" if self._read_through else "no row read"
        return ImportInputError(
            f"{where}: truncated or corrupt input ({type(exc).__name__}: {exc}); {read}, "
            f"written through {self._position or 'nothing yet'}",
            self.summary(),
        )

    async def _write_chunk(self) -> None:
        """Write every key of the chunk, in batches of about ``_BATCH_BYTES``."""
        aggregator = self._aggregator
        singles: list[Write] = []
        dense: list[tuple[str, bytes]] = []
        sparse: list[tuple[str, Sequence[int]]] = []
        weight = 0
        for write in aggregator.writes():
            if write.kind == "bit":
                singles.append((write.key, write.offsets[0], self._value))
                weight += _COMMAND_BYTES
            elif write.kind == "bits":
                sparse.append((write.key, write.offsets))
                weight += _COMMAND_BYTES * len(write.offsets)
            else:
                dense.append((write.key, write.data))
                weight += len(write.data)
            if weight >= _BATCH_BYTES:
                await self._send(singles, dense, sparse)
                singles, dense, sparse, weight = [], [], [], 0
        await self._send(singles, dense, sparse)
        self._rows_imported += aggregator.rows
        self._chunks_written += 1
        self._position = self._chunk_end
        aggregator.clear()
        self._report()

    async def _send(
        self,
        singles: list[Write],
        dense: list[tuple[str, bytes]],
        sparse: list[tuple[str, Sequence[int]]],
    ) -> None:
        if not self._dry_run:
            if singles:
                await self._storage.write_bits(singles)
            if dense:
                await self._storage.merge_bitmaps(
                    dense, temp_prefix=self._temp_prefix, unmark=self._unmark
                )
            if sparse:
                await self._storage.merge_bits(
                    sparse, temp_prefix=self._temp_prefix, unmark=self._unmark
                )
        self._keys_written += len(singles) + len(dense) + len(sparse)


def _failing_path(rows: EventLog, read_through: str | None) -> str:
    """The file *rows* was reading when it failed: the first one not fully read, found from
    the bytes read so far (each finished file adds its size), else the last one a row came
    from."""
    done = rows.bytes_read
    total = 0
    for path in rows.paths:
        if total == done:
            size = None if path == "-" else os.stat(path).st_size
            if size != 0:
                return "<stdin>" if path == "-" else path
        if path == "-":
            break
        total += os.stat(path).st_size
    return read_through.rpartition(":")[0] if read_through else rows.paths[0]


def _first_broken(paths: Sequence[str]) -> str:
    """The first of *paths* whose gzip stream breaks within its first ``_PROBE_BYTES`` (what
    ``EventLog.check`` reads of each file is less), for an error met while checking them;
    standard input, which cannot be read twice, when no file breaks."""
    for path in paths:
        if path == "-":
            continue
        try:
            with gzip.open(path, "rb") as stream:
                left = _PROBE_BYTES
                while left > 0 and (data := stream.read(min(left, 1 << 20))):
                    left -= len(data)
        except gzip.BadGzipFile as exc:
            if "Not a gzipped file" in str(exc):
                continue
            return path
        except (EOFError, zlib.error):
            return path
    return "<stdin>" if "-" in paths else ", ".join(paths)
