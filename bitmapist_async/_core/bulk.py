"""Bulk import without I/O: rows aggregated per key in a chunk, the writes planned per key, and
the summary of an import.

A chunk holds user ids as ``array('I')`` per (event, local day[, hour]) group, 4 bytes a row,
so its memory is bounded by the chunk size, never by the file. When the chunk is written,
every key it touches (the keys ``mark_event`` would set for those rows: month, ISO week, day,
and hour/unique when tracked) gets one :class:`KeyWrite`, planned by cost:

* one distinct id: a plain ``SETBIT`` (atomic by itself);
* few ids spread over many bytes (more than :data:`SPARSE_BYTES_PER_BIT` bitmap bytes per id,
  or a bitmap above :data:`MAX_DENSE_BYTES`): the sorted offsets, merged through a scratch key;
* otherwise the bitmap bytes, built locally and merged through a scratch key.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from itertools import chain
from operator import attrgetter, methodcaller
from typing import Any, Literal

from .eventlog import MAX_REPORTED_ERRORS, ParsedBlock, RowError
from .fastcsv import ArrayBlock
from .numpy_lazy import numpy as _numpy
from .options import ClientOptions

__all__ = (
    "MAX_DENSE_BYTES",
    "SPARSE_BYTES_PER_BIT",
    "ChunkAggregator",
    "ImportSummary",
    "KeyWrite",
    "build_bitmap",
)

#: Above this many bitmap bytes per distinct id, setting the bits one by one is cheaper than
#: sending the bytes (measured with ``python -m benchmarks.bench_import --calibrate``; see
#: docs/benchmarks.md).
SPARSE_BYTES_PER_BIT = 4096

#: Bitmaps larger than this are never built locally (ids up to ~134 million stay dense); keys
#: with higher ids are written bit by bit, which keeps memory flat whatever the ids.
MAX_DENSE_BYTES = 16 << 20

_MASKS = bytes(0x80 >> i for i in range(8))
#: Bitmaps up to this size are built through a byte per bit (8 times the memory).
_PACKBITS_BYTES = 1 << 20
_tzinfo = attrgetter("tzinfo")
_hour = attrgetter("hour")


assert array("I").itemsize == 4, "array('I') must hold 32-bit ids"


@dataclass(frozen=True, slots=True)
class KeyWrite:
    """One key's change for a chunk: ``kind`` is ``"bit"`` (``offsets`` has one offset),
    ``"bits"`` (sorted distinct offsets) or ``"bytes"`` (``data`` is the bitmap)."""

    key: str
    kind: Literal["bit", "bits", "bytes"]
    offsets: Sequence[int] = ()
    data: bytes = b""


def _as_numpy(ids: Any) -> Any:
    if isinstance(ids, array):
        np = _numpy()
        return np.frombuffer(ids, dtype=np.uint32)
    return ids


def build_bitmap(arrays: Sequence[Any], size: int, *, use_numpy: bool) -> bytes:
    """The bitmap (most significant bit first, *size* bytes) with every id of *arrays*
    (``array('I')`` or numpy ``uint32`` arrays) set."""
    if use_numpy and _numpy() is not None:
        np = _numpy()
        ids = np.concatenate([_as_numpy(a) for a in arrays]) if len(arrays) > 1 else arrays[0]
        if size <= _PACKBITS_BYTES:  # a flag per bit (8x the bitmap), then packbits: fastest
            flags = np.zeros(size * 8, dtype=np.bool_)
            flags[_as_numpy(ids)] = True
            return bytes(np.packbits(flags).tobytes())
        out = np.zeros(size, dtype=np.uint8)  # no temporary larger than the bitmap
        ids = _as_numpy(ids)
        np.bitwise_or.at(out, ids >> 3, (0x80 >> (ids & 7)).astype(np.uint8))
        return bytes(out.tobytes())
    buf = bytearray(size)
    masks = _MASKS
    for ids in arrays:
        for uid in ids:
            buf[uid >> 3] |= masks[uid & 7]
    return bytes(buf)


#: A group of a chunk: event name, local day ordinal, hour (0 unless hourly), user ids.
_Group = tuple[str, int, int, Any]


class ChunkAggregator:
    """Collects the rows of one chunk and plans its writes.

    Without numpy, ids are appended to an ``array('I')`` per (event, day[, hour]) group. With
    numpy, each block's rows become two arrays (a packed group key and the ids), sorted by
    group when the chunk is written: no Python code runs per row.

    :param options: the client's options (key prefix, time zone, tracking defaults).
    :param track_hourly: as in ``mark_event`` (``None``: the client's default).
    :param track_unique: as in ``mark_event``.
    :param use_numpy: use numpy (``None``: when installed).
    """

    def __init__(
        self,
        options: ClientOptions,
        *,
        track_hourly: bool | None,
        track_unique: bool | None,
        use_numpy: bool | None,
    ) -> None:
        self._options = options
        self._hourly, self._unique = options.tracking(track_hourly, track_unique)
        self._numpy = (_numpy() is not None) if use_numpy is None else bool(use_numpy)
        if self._numpy and _numpy() is None:
            raise ValueError("use_numpy=True, but numpy is not installed")
        self._groups: dict[tuple[Any, ...], array[int]] = {}
        self._keys: list[Any] = []
        self._ids: list[Any] = []
        self._codes: dict[str, int] = {}
        self._names: list[str] = []
        self.rows = 0

    @property
    def uses_numpy(self) -> bool:
        return self._numpy

    def add(self, block: ParsedBlock | ArrayBlock) -> None:
        """Add every valid row of *block* to the chunk."""
        if not len(block):
            return
        if self._numpy:
            self._add_arrays(block)
        else:
            assert isinstance(block, ParsedBlock)
            self._add_lists(block)
        self.rows += len(block)

    def within_calendar(self, block: ParsedBlock) -> ParsedBlock:
        """*block* without the rows whose time leaves the calendar (years 1 to 9999) on the
        client's wall clock (``9999-12-31T23:59:59-05:00`` in UTC), each a ``bad_timestamp``
        row error instead: :meth:`add` raises for such a block, before changing anything."""
        keep: list[int] = []
        errors = list(block.errors)
        for i, moment in enumerate(block.times):
            try:
                self._options.local(moment)
            except (OverflowError, ValueError):
                errors.append(
                    RowError(
                        block.source,
                        block.line_of(i),
                        "bad_timestamp",
                        f"timestamp {moment.isoformat()} is outside the calendar (years 1 to "
                        f"9999) in the time zone {self._options.tz}",
                    )
                )
            else:
                keep.append(i)
        return ParsedBlock(
            block.source,
            [block.names[i] for i in keep],
            [block.uids[i] for i in keep],
            [block.times[i] for i in keep],
            block.first_line,
            block.rows,
            [block.line_of(i) for i in keep],
            errors,
        )

    def _add_lists(self, block: ParsedBlock) -> None:
        ordinals, hours = self._local_buckets(block.times)
        groups = self._groups
        keys: Iterator[tuple[Any, ...]] = (
            zip(block.names, ordinals, hours, strict=True)
            if self._hourly
            else zip(block.names, ordinals, strict=True)
        )
        for key, uid in zip(keys, block.uids, strict=True):
            try:
                groups[key].append(uid)
            except KeyError:
                groups[key] = array("I", (uid,))

    def _code(self, name: str) -> int:
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    def _add_arrays(self, block: ParsedBlock | ArrayBlock) -> None:
        np = _numpy()
        if isinstance(block, ArrayBlock):
            remap = np.array([self._code(n) for n in block.names], dtype=np.int64)
            codes, ordinals, hours, ids = (
                remap[block.codes],
                block.ordinals,
                block.hours,
                block.uids,
            )
        else:
            day_list, hour_list = self._local_buckets(block.times, hours=True)
            codes = np.array([self._code(n) for n in block.names], dtype=np.int64)
            ordinals = np.array(day_list, dtype=np.int64)
            hours = np.array(hour_list, dtype=np.int64)
            ids = np.array(block.uids, dtype=np.uint32)
        # code | day ordinal (< 2**22) | hour (< 2**5): one sortable int64 per row
        key = (codes << 32) | (ordinals << 5)
        if self._hourly:
            key |= hours
        self._keys.append(key)
        self._ids.append(ids)

    def _local_buckets(
        self, times: list[Any], *, hours: bool = False
    ) -> tuple[list[int], list[int]]:
        """Day ordinals (and hours) of *times* on the client's wall clock."""
        tz = self._options.tz
        try:
            zones = set(map(_tzinfo, times))
        except AttributeError:  # plain dates from the API
            zones = {False}
        if zones == {None} or zones == {tz}:
            local = times  # naive, or already on the client's clock
        elif None not in zones and all(type(z) is timezone for z in zones):
            local = list(map(methodcaller("astimezone", tz), times))
        else:
            local = [self._options.local(t) for t in times]
        ordinals = list(map(date.toordinal, local))
        hour_list = list(map(_hour, local)) if self._hourly or hours else []
        return ordinals, hour_list

    def _grouped(self) -> Iterator[_Group]:
        if not self._numpy:
            for group, ids in self._groups.items():
                yield group[0], group[1], group[2] if self._hourly else 0, ids
            return
        if not self._keys:
            return
        np = _numpy()
        keys = np.concatenate(self._keys)
        ids = np.concatenate(self._ids)
        order = np.argsort(keys)  # few distinct keys: quicksort is fast, order is irrelevant
        keys, ids = keys[order], ids[order]
        cuts = (np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist()
        for begin, end in zip([0, *cuts], [*cuts, len(keys)], strict=True):
            key = int(keys[begin])
            yield self._names[key >> 32], (key >> 5) & 0x7FFFFFF, key & 31, ids[begin:end]

    def writes(self) -> Iterator[KeyWrite]:
        """Plan the chunk's writes, one key at a time (bitmaps are built lazily)."""
        by_key: dict[str, _KeyIds] = {}
        for name, ordinal, hour, ids in self._grouped():
            day = date.fromordinal(ordinal)
            when = datetime(day.year, day.month, day.day, hour)
            low, high = (int(ids.min()), int(ids.max())) if self._numpy else (min(ids), max(ids))
            for key, _, _ in self._options.event_writes(
                name, 0, when, 1, track_hourly=self._hourly, track_unique=self._unique
            ):
                found = by_key.get(key)
                if found is None:
                    by_key[key] = _KeyIds([ids], len(ids), low, high)
                else:
                    found.add(ids, low, high)
        for key, found in by_key.items():
            yield plan_write(key, found, use_numpy=self._numpy)

    def clear(self) -> None:
        """Forget the chunk (after it is written)."""
        self._groups = {}
        self._keys = []
        self._ids = []
        self.rows = 0


@dataclass(slots=True)
class _KeyIds:
    """The id arrays of one key in a chunk, with their count and range."""

    arrays: list[Any]
    total: int
    low: int
    high: int

    def add(self, ids: Any, low: int, high: int) -> None:
        self.arrays.append(ids)
        self.total += len(ids)
        self.low = min(self.low, low)
        self.high = max(self.high, high)


def plan_write(key: str, ids: _KeyIds, *, use_numpy: bool) -> KeyWrite:
    """Choose how to write *key*'s ids (see the module docstring)."""
    if ids.low == ids.high:
        return KeyWrite(key, "bit", (ids.high,))
    size = (ids.high >> 3) + 1
    if size > SPARSE_BYTES_PER_BIT * ids.total or size > MAX_DENSE_BYTES:
        if use_numpy:
            np = _numpy()
            offsets = np.unique(np.concatenate([_as_numpy(a) for a in ids.arrays])).tolist()
        else:
            offsets = sorted(set(chain.from_iterable(ids.arrays)))
        return KeyWrite(key, "bits", offsets)
    return KeyWrite(key, "bytes", data=build_bitmap(ids.arrays, size, use_numpy=use_numpy))


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did (or, for a dry run, would do).

    :ivar rows_read: data rows read, valid or not.
    :ivar rows_imported: valid rows whose chunk is fully written.
    :ivar rows_rejected: bad rows (each is in ``errors`` while there are at most 20).
    :ivar keys_written: key writes acknowledged by storage (a key changed by n chunks counts
        n times).
    :ivar chunks_written: chunks fully written.
    :ivar seconds: wall time so far.
    :ivar position: ``"source:line"`` of the last row of the last chunk fully written: every
        row up to it is stored (``None`` before the first chunk).
    :ivar complete: the whole input was read and written.
    :ivar dry_run: nothing was written (counts are what would have been).
    :ivar errors: the first 20 rejected rows.
    :ivar bytes_read: input bytes read (compressed size for ``.gz``), when known.
    :ivar bytes_total: input size, when known (regular files only).
    """

    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    keys_written: int = 0
    chunks_written: int = 0
    seconds: float = 0.0
    position: str | None = None
    complete: bool = False
    dry_run: bool = False
    errors: tuple[RowError, ...] = field(default=())
    bytes_read: int | None = None
    bytes_total: int | None = None

    @property
    def rows_per_second(self) -> float:
        """Rows read per second so far."""
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def eta_seconds(self) -> float | None:
        """Seconds left, estimated from the bytes read (``None`` when the size is unknown)."""
        if not self.bytes_total or not self.bytes_read or self.seconds <= 0:
            return None
        left = max(self.bytes_total - self.bytes_read, 0)
        return self.seconds * left / self.bytes_read

    def with_errors(self, errors: Sequence[RowError]) -> ImportSummary:
        """Count *errors*, keeping the first :data:`MAX_REPORTED_ERRORS`."""
        room = MAX_REPORTED_ERRORS - len(self.errors)
        kept = self.errors + tuple(errors[:room]) if room > 0 else self.errors
        return replace(self, rows_rejected=self.rows_rejected + len(errors), errors=kept)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (errors as ``{"source", "line", "kind", "message"}``)."""
        return {
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "keys_written": self.keys_written,
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "position": self.position,
            "complete": self.complete,
            "dry_run": self.dry_run,
            "errors": [
                {"source": e.source, "line": e.line, "kind": e.kind, "message": e.message}
                for e in self.errors
            ],
        }

    def describe(self) -> str:
        """A human-readable report, several lines."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"rows read: {self.rows_read:,}, {verb}: {self.rows_imported:,}, "
            f"rejected: {self.rows_rejected:,}",
            f"keys {'to write' if self.dry_run else 'written'}: {self.keys_written:,} "
            f"in {self.chunks_written:,} chunk(s); {self.seconds:.2f} s "
            f"({self.rows_per_second:,.0f} rows/s)",
            f"written through: {self.position or 'nothing yet'}"
            + ("" if self.complete else " (incomplete)"),
        ]
        if self.errors:
            shown = len(self.errors)
            lines.append(f"first {shown} rejected row(s):" if shown > 1 else "rejected row:")
            lines.extend(f"  {e}" for e in self.errors)
        return "\n".join(lines)
