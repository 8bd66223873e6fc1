"""Reading event-log files for bulk import.

CSV with a header line, or JSON lines (one object per line); either may be gzip-compressed
(detected from the content, whatever the name); ``-`` reads standard input. Files are read in
blocks of about 256 KiB that end at a record boundary, decoded as UTF-8 (a byte-order mark
is skipped) and parsed by :mod:`bitmapist_async._core.eventlog`. Reading is plain blocking file
I/O, shared by the async and the sync client.
"""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Literal

from ._core.eventlog import (
    Columns,
    CsvHeader,
    ParsedBlock,
    RowError,
    parse_csv_block,
    parse_jsonl_block,
)
from ._core.fastcsv import ArrayBlock

__all__ = ("DEFAULT_BLOCK_BYTES", "EventLog", "LogFormat")

#: Bytes read (and parsed) at a time: a block of parsed rows takes about 20 to 40 times its
#: text size in memory for a moment.
DEFAULT_BLOCK_BYTES = 1 << 18

#: ``"csv"``, ``"jsonl"``, or ``"auto"``: from the name (``.csv``, ``.jsonl``, ``.ndjson``,
#: ``.json``, each optionally ``.gz``), else from the first character (``{`` means JSON lines).
LogFormat = Literal["auto", "csv", "jsonl"]

#: A fast CSV parser: ``(data lines, first line number, header, source)`` to rows, or ``None``.
FastParser = Callable[[bytes, int, CsvHeader, str], "ArrayBlock | None"]

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_MAX_QUOTED_SPAN = 64 << 20  # a quoted CSV field may span lines; stop waiting for it past this


class _Counting:
    """Counts the bytes read through it (the compressed bytes, for gzip input). Reads return
    what is available (``read1``), so a pipe is parsed as its data arrives."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0
        # The first two bytes, read up front to recognise gzip, are handed out again first.
        self.head = raw.read(2)

    def read(self, size: int = -1) -> bytes:
        head, self.head = self.head, b""
        if size < 0:
            data = head + self.raw.read()
        elif len(head) >= size:
            data, self.head = head[:size], head[size:]
        else:
            read1 = getattr(self.raw, "read1", self.raw.read)
            data = head + read1(size - len(head))
        self.count += len(data)
        return data

    read1 = read


def _format_from_name(path: str) -> LogFormat:
    name = path.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "auto"


def _sniff(data: bytes) -> LogFormat:
    return "jsonl" if data.lstrip()[:1] == b"{" else "csv"


class EventLog:
    """Event-log files to import with ``import_events``.

    :param paths: one path or several (read in order); ``"-"`` is standard input.
    :param format: ``"auto"`` (default), ``"csv"`` or ``"jsonl"`` (see :data:`LogFormat`).
    :param event_column: CSV column (or JSON key) of the event name.
    :param user_id_column: CSV column (or JSON key) of the user id.
    :param timestamp_column: CSV column (or JSON key) of the timestamp: ISO 8601 (no offset
        means the client's ``tz``) or epoch seconds/milliseconds.
    :param block_bytes: bytes read and parsed at a time.
    :raises TypeError: a path that is not a string or path.
    :raises ValueError: no paths, ``"-"`` twice, an unknown format, empty or equal column
        names.

    Constructing it does no I/O; :meth:`check` (called by ``import_events`` before anything is
    written) looks at the files.

    Example::

        summary = await bm.import_events(EventLog(["may.csv.gz", "june.jsonl"]), max_errors=100)
    """

    def __init__(
        self,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        format: LogFormat = "auto",
        event_column: str = "event",
        user_id_column: str = "user_id",
        timestamp_column: str = "timestamp",
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ) -> None:
        items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        if not items:
            raise ValueError("no paths given")
        for item in items:
            if not isinstance(item, (str, os.PathLike)):
                raise TypeError(f"a path must be a str or os.PathLike, got {item!r}")
        self._paths = tuple(os.fspath(p) for p in items)
        if self._paths.count("-") > 1:
            raise ValueError("standard input ('-') can be read only once")
        if format not in ("auto", "csv", "jsonl"):
            raise ValueError(f"format must be 'auto', 'csv' or 'jsonl', got {format!r}")
        if isinstance(block_bytes, bool) or not isinstance(block_bytes, int) or block_bytes < 1:
            raise ValueError(f"block_bytes must be a positive int, got {block_bytes!r}")
        self._format: LogFormat = format
        self._columns = Columns(event_column, user_id_column, timestamp_column)
        self._block_bytes = block_bytes
        self._done_bytes = 0
        self._current: _Counting | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths

    @property
    def columns(self) -> Columns:
        return self._columns

    @property
    def bytes_read(self) -> int:
        """Input bytes read so far (compressed bytes for gzip input)."""
        return self._done_bytes + (self._current.count if self._current is not None else 0)

    def __repr__(self) -> str:
        return f"EventLog({list(self._paths)!r}, format={self._format!r})"

    def total_bytes(self) -> int | None:
        """The input size in bytes, or ``None`` when it is not known (standard input, pipes)."""
        total = 0
        for path in self._paths:
            if path == "-":
                return None
            info = os.stat(path)
            if not os.path.isfile(path):
                return None
            total += info.st_size
        return total

    def check(self) -> None:
        """Check that every file can be read and that CSV headers have the needed columns.

        :raises OSError: a file is missing or unreadable (``FileNotFoundError``, ...).
        :raises ValueError: a CSV header lacks a column.
        """
        for path in self._paths:
            if path == "-":
                continue
            if os.path.isdir(path):
                raise IsADirectoryError(f"{path} is a directory")
            with self._open(path) as stream:
                first = stream.read(self._block_bytes)
            first = first.removeprefix(_BOM)
            fmt = self._format_of(path, first)
            if fmt == "csv" and first:
                header = first.split(b"\n", 1)[0].decode("utf-8", "replace")
                CsvHeader.parse(header, self._columns, path)

    def read_blocks(self, fast: FastParser | None = None) -> Iterator[ParsedBlock | ArrayBlock]:
        """Parse every file in order, block by block (used by ``import_events``).

        :param fast: tried first on each CSV block; when it declines (``None``), the block is
            decoded and parsed as text.
        """
        self._done_bytes = 0
        for path in self._paths:
            yield from self._read_file(path, fast)

    def _format_of(self, path: str, first: bytes) -> LogFormat:
        fmt = self._format if self._format != "auto" else _format_from_name(path)
        return _sniff(first) if fmt == "auto" else fmt

    @contextmanager
    def _open(self, path: str) -> Iterator[_Counting | gzip.GzipFile]:
        raw: IO[bytes]
        if path == "-":
            raw = sys.stdin.buffer
            owned = False
        else:
            raw = open(path, "rb")  # noqa: SIM115 - closed below
            owned = True
        try:
            counting = _Counting(raw)
            self._current = counting
            if counting.head == _GZIP_MAGIC:
                with gzip.GzipFile(fileobj=counting, mode="rb") as unzipped:  # type: ignore[call-overload]
                    yield unzipped
            else:
                yield counting
        finally:
            self._current = None
            if owned:
                raw.close()

    def _read_file(self, path: str, fast: FastParser | None) -> Iterator[ParsedBlock | ArrayBlock]:
        source = "<stdin>" if path == "-" else path
        with self._open(path) as stream:
            counting = self._current
            first = _read_some(stream, self._block_bytes).removeprefix(_BOM)
            fmt = self._format_of(path, first)
            line = 1
            header: CsvHeader | None = None
            for chunk in self._records(stream, first, quoted=fmt == "csv"):
                if fmt == "csv" and header is None:
                    head, _, chunk = chunk.partition(b"\n")
                    header = CsvHeader.parse(head.decode("utf-8", "replace"), self._columns, source)
                    line += 1
                    if not chunk:
                        continue
                if header is not None and fast is not None:
                    quick = fast(chunk, line, header, source)
                    if quick is not None:
                        line += quick.rows
                        yield quick
                        del quick, chunk
                        continue
                text, bad = _decode(chunk, line, source)
                if header is not None:
                    block = parse_csv_block(text, line, header, self._columns, source)
                else:
                    lines = text.split("\n")
                    if lines[-1] == "":
                        lines.pop()
                    block = parse_jsonl_block(lines, line, self._columns, source)
                if bad:
                    block.errors = sorted([*block.errors, *bad], key=lambda e: e.line)
                    block.rows += len(bad)
                line += chunk.count(b"\n")
                yield block
                del block, text, chunk  # free them before the next block is read
            if counting is not None:
                self._done_bytes += counting.count

    def _records(
        self, stream: _Counting | gzip.GzipFile, first: bytes, *, quoted: bool
    ) -> Iterator[bytes]:
        """Chunks of about ``block_bytes`` that end with a newline at a record boundary (the
        last one may lack the newline). With *quoted* (CSV), a cut never falls inside a quoted
        field: an odd number of quotes before it means the field spans it, so reading goes on.
        """
        pending = b""
        data = first
        while data:
            buf = pending + data if pending else data
            cut = buf.rfind(b"\n") + 1
            if cut == 0 or (quoted and buf.count(b'"', 0, cut) % 2 and len(buf) < _MAX_QUOTED_SPAN):
                pending = buf
            else:
                pending = buf[cut:]
                yield buf[:cut]
            del buf
            data = stream.read1(self._block_bytes)
        if pending:
            yield pending


def _read_some(stream: _Counting | gzip.GzipFile, size: int) -> bytes:
    """At least one byte (unless at the end), at most *size*: enough to tell the format."""
    data = stream.read1(size)
    while data and not data.strip():
        more = stream.read1(size)
        if not more:
            break
        data += more
    return data


def _decode(chunk: bytes, line: int, source: str) -> tuple[str, list[RowError]]:
    """UTF-8 text of *chunk*; undecodable lines become empty and are reported."""
    try:
        return chunk.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    bad: list[RowError] = []
    for index, raw in enumerate(chunk.split(b"\n")):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            out.append("")
            bad.append(RowError(source, line + index, "bad_encoding", f"not UTF-8: {exc}"))
    return "\n".join(out), bad
