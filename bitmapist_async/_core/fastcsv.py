"""A numpy parser for the usual shape of a CSV event log, used when numpy is installed.

It reads the bytes of a block directly (no Python object per row) and accepts only what it can
parse exactly as the text path (:func:`~bitmapist_async._core.eventlog.parse_csv_block` plus the
client's calendar) would: ASCII without quotes, ``\\r`` or NUL; every line with the header's
width; user ids of 1 to 10 digits; timestamps of one shape per block: ``YYYY-MM-DDTHH:MM:SS``
(``T`` or space) without an offset (the client's zone), with ``Z``, or with ``+HH:MM``, or epoch
seconds/milliseconds as plain digits (those two need a fixed-offset client zone such as UTC).
Anything else, including any bad row, makes it decline the block (``None``): the text path then
parses it and reports each bad row. Blocks it accepts give the same rows, byte for byte.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone, tzinfo
from typing import Any

from .eventlog import EPOCH_MS_THRESHOLD, CsvHeader, RowError
from .numpy_lazy import numpy as _numpy
from .validate import MAX_UID, RESERVED_NAME_PREFIX

__all__ = ("ArrayBlock", "fixed_offset_minutes", "have_numpy", "parse_csv_fast")


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Day ordinals the fast path handles; the first and last days of the calendar go the text path.
_MIN_ORDINAL, _MAX_ORDINAL = 2, date.max.toordinal() - 1
_MAX_NAME = 64
_MIX = 0x9E3779B97F4A7C15


def have_numpy() -> bool:
    return _numpy() is not None


def fixed_offset_minutes(tz: tzinfo) -> int | None:
    """The offset of *tz* in whole minutes when it never changes (``datetime.timezone``)."""
    if type(tz) is not timezone:
        return None
    offset = tz.utcoffset(None)
    if offset % timedelta(minutes=1):
        return None
    return offset // timedelta(minutes=1)


@dataclass(slots=True)
class ArrayBlock:
    """Rows of one block as numpy arrays: ``codes`` index ``names``; ``ordinals`` and
    ``hours`` are on the client's wall clock. Every row is valid and rows are consecutive
    lines from ``first_line``."""

    source: str
    first_line: int
    names: list[str]
    codes: Any
    ordinals: Any
    hours: Any
    uids: Any
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)

    def line_of(self, index: int) -> int:
        return self.first_line + index

    def split(self, count: int) -> tuple[ArrayBlock, ArrayBlock]:
        head = ArrayBlock(
            self.source,
            self.first_line,
            self.names,
            self.codes[:count],
            self.ordinals[:count],
            self.hours[:count],
            self.uids[:count],
            self.rows,
            self.errors,
        )
        tail = ArrayBlock(
            self.source,
            self.first_line + count,
            self.names,
            self.codes[count:],
            self.ordinals[count:],
            self.hours[count:],
            self.uids[count:],
        )
        return head, tail


def _numbers(buf: Any, starts: Any, ends: Any, most: int) -> Any:
    """The decimal numbers between *starts* and *ends* (1 to *most* ASCII digits each), or
    ``None`` if one is empty, too long or has another byte."""
    np = _numpy()
    lengths = ends - starts
    width = int(lengths.max())
    if int(lengths.min()) < 1 or width > most:
        return None
    index = ends[:, None] + (np.arange(width) - width)[None, :]  # right-aligned
    digits = buf[np.maximum(index, 0)].astype(np.int64) - 48
    digits[index < starts[:, None]] = 0
    if int(digits.min()) < 0 or int(digits.max()) > 9:
        return None
    return digits @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))


# ``YYYY-MM-DDTHH:MM:SS``: where the digits are, and how they make year, month, day, hour,
# minute and second.
_ISO_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_ISO_FIELDS = ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))
_OFFSET_DIGITS = (20, 21, 23, 24)


def _weights(fields: tuple[tuple[int, int], ...], count: int) -> Any:
    """A (digits x fields) matrix: ``digits @ weights`` gives each field's value."""
    table = [[0] * len(fields) for _ in range(count)]
    for column, (begin, end) in enumerate(fields):
        for position in range(begin, end):
            table[position][column] = 10 ** (end - 1 - position)
    np = _numpy()
    return np.array(table, dtype=np.int64)


@functools.cache
def _iso_weights() -> Any:
    return _weights(_ISO_FIELDS, len(_ISO_DIGITS))


def _timestamps(buf: Any, starts: Any, ends: Any, tz: tzinfo) -> tuple[Any, Any] | None:
    """Day ordinals and hours on the client's clock, or ``None`` to decline."""
    np = _numpy()
    lengths = ends - starts
    length = int(lengths.min())
    if int(lengths.max()) != length:
        return None
    shift = fixed_offset_minutes(tz)
    if length <= 15:  # epoch seconds or milliseconds: digits only
        values = _numbers(buf, starts, ends, 15)
        if values is None or shift is None:
            return None
        seconds = np.where(values >= EPOCH_MS_THRESHOLD, values // 1000, values)
        minutes = seconds // 60 + _EPOCH_ORDINAL * 1440 + shift
    elif length in (19, 20, 25):
        fields = _iso(buf[starts[:, None] + np.arange(length)[None, :]], length)
        if fields is None:
            return None
        ordinal, hour, minute, offset = fields
        if offset is None:  # no offset: already the client's wall clock
            return ordinal, hour
        if shift is None:
            return None
        minutes = ordinal * 1440 + hour * 60 + minute - offset + shift
    else:
        return None
    ordinals = minutes // 1440
    if int(ordinals.min()) < _MIN_ORDINAL or int(ordinals.max()) > _MAX_ORDINAL:
        return None
    return ordinals, (minutes % 1440) // 60


def _is(column: Any, *chars: str) -> bool:
    ok = column == ord(chars[0])
    for char in chars[1:]:
        ok |= column == ord(char)
    return bool(ok.all())


def _iso(text: Any, length: int) -> tuple[Any, Any, Any, Any] | None:
    """Day ordinal, hour, minute and UTC offset in minutes (``None``: no offset) of rows of
    ``YYYY-MM-DDTHH:MM:SS`` followed by nothing, ``Z`` or ``+HH:MM`` (*text*: one row of bytes
    per timestamp); ``None`` to decline."""
    np = _numpy()
    digits = text[:, _ISO_DIGITS].astype(np.int64) - 48
    if int(digits.min()) < 0 or int(digits.max()) > 9:
        return None
    if not (
        _is(text[:, 4], "-")
        and _is(text[:, 7], "-")
        and _is(text[:, 10], "T", " ")
        and _is(text[:, 13], ":")
        and _is(text[:, 16], ":")
    ):
        return None
    year, month, day, hour, minute, second = (digits @ _iso_weights()).T
    low = min(int(year.min()), int(month.min()), int(day.min()))
    high = (int(month.max()), int(hour.max()), int(minute.max()), int(second.max()))
    if low < 1 or high[0] > 12 or high[1] > 23 or high[2] > 59 or high[3] > 59:
        return None
    first = ((year - 1970) * 12 + (month - 1)).astype("M8[M]")
    days_in_month = ((first + 1).astype("M8[D]") - first.astype("M8[D]")).astype(np.int64)
    if (day > days_in_month).any():
        return None
    ordinal = first.astype("M8[D]").astype(np.int64) + (day - 1) + _EPOCH_ORDINAL
    if length == 19:
        return ordinal, hour, minute, None
    if length == 20:
        return (ordinal, hour, minute, 0) if _is(text[:, 19], "Z") else None
    offset = text[:, _OFFSET_DIGITS].astype(np.int64) - 48
    if int(offset.min()) < 0 or int(offset.max()) > 9:
        return None
    if not (_is(text[:, 19], "+", "-") and _is(text[:, 22], ":")):
        return None
    off_hours = offset[:, 0] * 10 + offset[:, 1]
    off_minutes = offset[:, 2] * 10 + offset[:, 3]
    if int(off_hours.max()) > 23 or int(off_minutes.max()) > 59:
        return None
    sign = np.where(text[:, 19] == ord("-"), -1, 1)
    return ordinal, hour, minute, sign * (off_hours * 60 + off_minutes)


def _names(data: bytes, buf: Any, starts: Any, ends: Any) -> tuple[list[str], Any] | None:
    """The distinct event names and each row's index into them, or ``None`` to decline."""
    np = _numpy()
    lengths = ends - starts
    longest = int(lengths.max())
    if int(lengths.min()) < 1 or longest > _MAX_NAME:
        return None
    width = (longest + 7) // 8 * 8
    offsets = np.arange(width)
    inside = offsets[None, :] < lengths[:, None]
    table = np.zeros((len(starts), width), dtype=np.uint8)
    table[inside] = buf[(starts[:, None] + offsets[None, :])[inside]]
    words = table.view(np.uint64)
    key = words[:, 0].copy()
    for column in range(1, words.shape[1]):
        key = key * np.uint64(_MIX) + words[:, column]
    _, first, codes = np.unique(key, return_index=True, return_inverse=True)
    if words.shape[1] > 1 and not (words == words[first[codes]]).all():
        return None  # two names with the same hash: leave them to the text path
    names = []
    for row in first.tolist():
        name = data[int(starts[row]) : int(ends[row])].decode("ascii")
        if name.startswith(RESERVED_NAME_PREFIX):
            return None
        names.append(name)
    return names, codes.reshape(-1)


def parse_csv_fast(
    data: bytes, first_line: int, header: CsvHeader, source: str, tz: tzinfo
) -> ArrayBlock | None:
    """Parse CSV data lines (after the header) the fast way, or decline with ``None``."""
    np = _numpy()
    if np is None or not data or b'"' in data or b"\r" in data:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    if int(buf.max()) >= 128 or int(buf.min()) == 0:
        return None
    ends = np.flatnonzero(buf == 10)
    if data[-1:] != b"\n":
        ends = np.append(ends, len(buf))
    rows = len(ends)
    starts = np.empty(rows, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    width = header.width
    commas = np.flatnonzero(buf == 44)
    if len(commas) != rows * (width - 1):
        return None
    commas = commas.reshape(rows, width - 1)
    if (commas[:, 0] < starts).any() or (commas[:, -1] >= ends).any():
        return None

    def column(index: int) -> tuple[Any, Any]:
        begin = starts if index == 0 else commas[:, index - 1] + 1
        end = ends if index == width - 1 else commas[:, index]
        return begin, end

    uids = _numbers(buf, *column(header.user_id), 10)
    if uids is None or int(uids.max()) >= MAX_UID:
        return None
    when = _timestamps(buf, *column(header.timestamp), tz)
    if when is None:
        return None
    named = _names(data, buf, *column(header.event))
    if named is None:
        return None
    return ArrayBlock(
        source,
        first_line,
        named[0],
        named[1].astype(np.int64),
        when[0].astype(np.int64),
        when[1].astype(np.int64),
        uids.astype(np.uint32),
        rows,
    )
