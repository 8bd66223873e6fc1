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

from dataclasses import dataclass, field
from datetime import date, timedelta, timezone, tzinfo
from typing import Any

from .eventlog import EPOCH_MS_THRESHOLD, CsvHeader, RowError
from .validate import MAX_UID, RESERVED_NAME_PREFIX

__all__ = ("ArrayBlock", "fixed_offset_minutes", "have_numpy", "parse_csv_fast")

_np: Any
try:  # pragma: no cover - depends on the environment
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Day ordinals the fast path handles; the first and last days of the calendar go the text path.
_MIN_ORDINAL, _MAX_ORDINAL = 2, date.max.toordinal() - 1
_MAX_NAME = 64
_MIX = 0x9E3779B97F4A7C15


def have_numpy() -> bool:
    return _np is not None


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


def _digits(buf: Any, starts: Any, lengths: Any) -> Any:
    """The decimal numbers at *starts* (*lengths* digits each), or ``None`` if a byte is not an
    ASCII digit."""
    np = _np
    value = np.zeros(len(starts), dtype=np.int64)
    last = len(buf) - 1
    uniform = int(lengths.min()) == int(lengths.max())
    for k in range(int(lengths.max())):
        digit = buf[np.minimum(starts + k, last)].astype(np.int64) - 48
        if uniform:
            if ((digit < 0) | (digit > 9)).any():
                return None
            value = value * 10 + digit
        else:
            active = lengths > k
            if (((digit < 0) | (digit > 9)) & active).any():
                return None
            value = np.where(active, value * 10 + digit, value)
    return value


def _fixed(buf: Any, starts: Any, offset: int, width: int) -> Any:
    return _digits(buf, starts + offset, _np.full(len(starts), width))


def _is(buf: Any, positions: Any, *chars: str) -> bool:
    found = buf[positions]
    ok = found == ord(chars[0])
    for char in chars[1:]:
        ok |= found == ord(char)
    return bool(ok.all())


def _timestamps(buf: Any, starts: Any, lengths: Any, tz: tzinfo) -> tuple[Any, Any] | None:
    """Day ordinals and hours on the client's clock, or ``None`` to decline."""
    length = int(lengths[0])
    if int(lengths.min()) != length or int(lengths.max()) != length:
        return None
    shift = fixed_offset_minutes(tz)
    if length <= 15:  # epoch seconds or milliseconds: digits only
        values = _digits(buf, starts, lengths)
        if values is None or shift is None:
            return None
        seconds = _np.where(values >= EPOCH_MS_THRESHOLD, values // 1000, values)
        minutes = seconds // 60 + _EPOCH_ORDINAL * 1440 + shift
    elif length in (19, 20, 25):
        fields = _iso(buf, starts, length)
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


def _iso(buf: Any, starts: Any, length: int) -> tuple[Any, Any, Any, Any] | None:
    """Day ordinal, hour, minute and UTC offset in minutes (``None``: no offset) of
    ``YYYY-MM-DDTHH:MM:SS`` followed by nothing, ``Z`` or ``+HH:MM``; ``None`` to decline."""
    np = _np
    parts = [_fixed(buf, starts, at, n) for at, n in ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2))]
    second = _fixed(buf, starts, 17, 2)
    if any(p is None for p in parts) or second is None:
        return None
    year, month, day, hour, minute = parts
    if not (
        _is(buf, starts + 4, "-")
        and _is(buf, starts + 7, "-")
        and _is(buf, starts + 10, "T", " ")
        and _is(buf, starts + 13, ":")
        and _is(buf, starts + 16, ":")
    ):
        return None
    low = min(int(year.min()), int(month.min()), int(day.min()))
    if low < 1 or (month > 12).any() or (hour > 23).any() or (minute > 59).any():
        return None
    if (second > 59).any():
        return None
    first = ((year - 1970) * 12 + (month - 1)).astype("M8[M]")
    days_in_month = ((first + 1).astype("M8[D]") - first.astype("M8[D]")).astype(np.int64)
    if (day > days_in_month).any():
        return None
    ordinal = first.astype("M8[D]").astype(np.int64) + (day - 1) + _EPOCH_ORDINAL
    if length == 19:
        return ordinal, hour, minute, None
    if length == 20:
        return (ordinal, hour, minute, 0) if _is(buf, starts + 19, "Z") else None
    off_hours = _fixed(buf, starts, 20, 2)
    off_minutes = _fixed(buf, starts, 23, 2)
    if (
        off_hours is None
        or off_minutes is None
        or not _is(buf, starts + 19, "+", "-")
        or not _is(buf, starts + 22, ":")
        or (off_hours > 23).any()
        or (off_minutes > 59).any()
    ):
        return None
    sign = np.where(buf[starts + 19] == ord("-"), -1, 1)
    return ordinal, hour, minute, sign * (off_hours * 60 + off_minutes)


def _names(data: bytes, buf: Any, starts: Any, ends: Any) -> tuple[list[str], Any] | None:
    """The distinct event names and each row's index into them, or ``None`` to decline."""
    np = _np
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
    np = _np
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

    begin, end = column(header.user_id)
    lengths = end - begin
    if int(lengths.min()) < 1 or int(lengths.max()) > 10:
        return None
    uids = _digits(buf, begin, lengths)
    if uids is None or int(uids.max()) >= MAX_UID:
        return None
    begin, end = column(header.timestamp)
    when = _timestamps(buf, begin, end - begin, tz)
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
