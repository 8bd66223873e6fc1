"""Parsing and validating event-log rows, without I/O.

Rows arrive in blocks (a few thousand lines of a CSV or JSON-lines file, or a slice of an
iterable of tuples) and leave as three parallel columns (event names, user ids, datetimes) plus
the rejected rows. Each column is converted with one C-level ``map`` over the whole block; only
when that fails (a bad value somewhere in the block) does the block fall back to converting
value by value, which finds every bad row and its reason. Clean blocks never run per-row Python
code here, which is what makes bulk import fast.

Timestamps: ISO 8601 (``datetime.fromisoformat``; an offset or ``Z`` is converted to the
client's zone, no offset means the client's zone), or epoch seconds (a value of digits only,
optionally with a fraction; a JSON number >= 0), read as milliseconds when it is at least
``10**11`` (year 5138 in seconds). A sign makes it a bad row: ``-5`` is not 1969.

Event names must be encodable as UTF-8 (``json.loads`` gives lone surrogates such as
``"\\ud800"``): they become Redis keys, so a name that cannot be a key is a bad row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import partial
from itertools import repeat
from operator import itemgetter, truediv
from typing import Any

from .validate import MAX_UID, RESERVED_NAME_PREFIX

__all__ = (
    "EPOCH_MS_THRESHOLD",
    "MAX_REPORTED_ERRORS",
    "Columns",
    "CsvHeader",
    "ParsedBlock",
    "RowError",
    "parse_csv_block",
    "parse_jsonl_block",
    "parse_timestamp",
    "parse_tuples",
)

#: Epoch values whose magnitude reaches this are milliseconds, smaller ones seconds.
EPOCH_MS_THRESHOLD = 10**11

#: How many rejected rows a summary keeps (the rest are only counted).
MAX_REPORTED_ERRORS = 20

_EPOCH = re.compile(r"\d+(?:\.\d+)?\Z")
_SIGNED_EPOCH = re.compile(r"[+-]\d+(?:\.\d+)?\Z")
_utc_from_timestamp = partial(datetime.fromtimestamp, tz=timezone.utc)


@dataclass(frozen=True, slots=True)
class Columns:
    """Names of the three fields every row needs (CSV header names or JSON keys)."""

    event: str = "event"
    user_id: str = "user_id"
    timestamp: str = "timestamp"

    def __post_init__(self) -> None:
        for role in ("event", "user_id", "timestamp"):
            value = getattr(self, role)
            if not isinstance(value, str) or not value:
                raise ValueError(f"the {role} column name must be a non-empty str, got {value!r}")
        if len({self.event, self.user_id, self.timestamp}) != 3:
            raise ValueError(f"column names must differ, got {self!r}")

    def names(self) -> tuple[str, str, str]:
        return (self.event, self.user_id, self.timestamp)


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: where it is and why.

    ``kind`` is one of ``missing_field``, ``bad_event``, ``bad_user_id``,
    ``user_id_out_of_range``, ``bad_timestamp``, ``bad_json``, ``bad_csv_row``,
    ``bad_encoding``, ``bad_row`` (an API row that is not a 3-tuple).
    """

    source: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(slots=True)
class ParsedBlock:
    """Valid rows of one block as parallel columns, plus what was rejected.

    ``lines`` gives the line of each valid row; ``None`` means they are consecutive from
    ``first_line`` (the common, clean case, which then costs no list).
    """

    source: str
    names: list[str]
    uids: list[int]
    times: list[Any]  # datetime, or date from the API
    first_line: int
    rows: int
    lines: list[int] | None = None
    errors: list[RowError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def line_of(self, index: int) -> int:
        """The line (or 1-based row number) of valid row *index*."""
        return self.first_line + index if self.lines is None else self.lines[index]

    def split(self, count: int) -> tuple[ParsedBlock, ParsedBlock]:
        """The first *count* valid rows, and the rest (which carries no counts or errors)."""
        head_lines = None if self.lines is None else self.lines[:count]
        tail_lines = None if self.lines is None else self.lines[count:]
        head = ParsedBlock(
            self.source,
            self.names[:count],
            self.uids[:count],
            self.times[:count],
            self.first_line,
            self.rows,
            head_lines,
            self.errors,
        )
        tail = ParsedBlock(
            self.source,
            self.names[count:],
            self.uids[count:],
            self.times[count:],
            self.first_line + count,
            0,
            tail_lines,
        )
        return head, tail


# -- single values (the slow path, and the reference for the fast one) ----------------------


class _Bad(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _missing(value: object) -> bool:
    return value is None or value == ""


def _encodable(name: str) -> bool:
    """Whether *name* can be encoded as UTF-8 (no lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _name(value: object, role: str) -> str:
    if _missing(value):
        raise _Bad("missing_field", f"missing field {role!r}")
    if not isinstance(value, str):
        raise _Bad("bad_event", f"event name must be a string, got {_show(value)}")
    if not _encodable(value):
        raise _Bad("bad_event", f"event name cannot be encoded as UTF-8: {_show(value)}")
    if value.startswith(RESERVED_NAME_PREFIX):
        raise _Bad(
            "bad_event",
            f"event name must not start with {RESERVED_NAME_PREFIX!r}, got {_show(value)}",
        )
    return value


def _uid(value: object, role: str, text_ok: bool) -> int:
    if _missing(value):
        raise _Bad("missing_field", f"missing field {role!r}")
    if type(value) is int:
        uid = value
    elif isinstance(value, int) and not isinstance(value, bool):
        uid = int(value)
    elif text_ok and isinstance(value, str):
        try:
            uid = int(value)
        except ValueError:
            raise _Bad("bad_user_id", f"user id is not an integer: {_show(value)}") from None
    else:
        raise _Bad("bad_user_id", f"user id is not an integer: {_show(value)}")
    if not 0 <= uid < MAX_UID:
        raise _Bad("user_id_out_of_range", f"user id is outside [0, 2**32): {uid}")
    return uid


def _from_epoch(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= EPOCH_MS_THRESHOLD else value
    return _utc_from_timestamp(seconds)


def parse_timestamp(value: object) -> datetime:
    """Parse one timestamp from a file: an ISO 8601 string, or epoch seconds/milliseconds (a
    string of digits or a JSON number). The result is aware, except for ISO strings without an
    offset (which mean the client's zone).

    :raises ValueError: *value* is not a timestamp (the message names it).
    """
    if isinstance(value, str):
        if _SIGNED_EPOCH.match(value):
            raise ValueError(f"a signed epoch is not a timestamp: {_show(value)}")
        if _EPOCH.match(value):
            number: float = float(value) if "." in value else int(value)
            return _epoch_datetime(number, value)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            if value[-1:] in ("Z", "z"):  # Python 3.10's fromisoformat lacks "Z"
                try:
                    return datetime.fromisoformat(value[:-1] + "+00:00")
                except ValueError:
                    pass
        raise ValueError(f"unparseable timestamp: {_show(value)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a negative epoch is not a timestamp: {_show(value)}")
        return _epoch_datetime(value, value)
    raise ValueError(f"unparseable timestamp: {_show(value)}")


def _epoch_datetime(number: float, shown: object) -> datetime:
    try:
        return _from_epoch(number)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"timestamp out of range: {_show(shown)}") from None


def _time(value: object, role: str, text_ok: bool) -> Any:
    if _missing(value):
        raise _Bad("missing_field", f"missing field {role!r}")
    if isinstance(value, date):  # datetime is a date
        return value
    if not text_ok:
        raise _Bad("bad_timestamp", f"timestamp must be a datetime or date, got {_show(value)}")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise _Bad("bad_timestamp", str(exc)) from None


# -- whole columns (the fast path) -----------------------------------------------------------


def _names_fast(names: list[Any]) -> bool:
    try:
        distinct = set(names)
    except TypeError:  # unhashable JSON values
        return False
    return all(
        isinstance(n, str) and n and not n.startswith(RESERVED_NAME_PREFIX) and _encodable(n)
        for n in distinct
    )


def _uids_fast(raw: list[Any], text_ok: bool, all_str: bool) -> list[int] | None:
    kinds = {str} if all_str else set(map(type, raw))
    if kinds == {int}:
        uids: list[int] = raw
    elif text_ok and kinds == {str}:
        try:
            uids = list(map(int, raw))
        except ValueError:
            return None
    else:
        return None
    if uids and (min(uids) < 0 or max(uids) >= MAX_UID):
        return None
    return uids


def _times_fast(raw: list[Any], text_ok: bool, all_str: bool) -> list[Any] | None:
    if not raw:
        return []
    kinds = {str} if all_str else set(map(type, raw))
    if kinds <= {datetime, date}:
        return raw
    if not text_ok:
        return None
    try:
        if kinds == {str}:
            if raw[0][:1].isdigit() and _EPOCH.match(raw[0]):
                if not all(map(str.isdigit, raw)):  # int() would take " 1", "1_0"
                    return None
                return _epochs_fast(list(map(int, raw)))
            # Only 8-character values can be digits-only strings fromisoformat accepts
            # (YYYYMMDD); those are epochs here, so leave such blocks to the slow path.
            if min(map(len, raw)) <= 8:
                return None
            return list(map(datetime.fromisoformat, raw))
        if kinds == {int}:
            return _epochs_fast(raw)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _epochs_fast(values: list[int]) -> list[datetime] | None:
    low, high = min(values), max(values)
    if low < 0:  # negative epochs are bad rows: the slow path says which
        return None
    if high < EPOCH_MS_THRESHOLD:
        return list(map(_utc_from_timestamp, values))
    if low >= EPOCH_MS_THRESHOLD:  # all milliseconds
        return list(map(_utc_from_timestamp, map(truediv, values, repeat(1000))))
    return None


# -- blocks ---------------------------------------------------------------------------------


def _columns_to_block(
    source: str,
    first_line: int,
    names: list[Any],
    uids: list[Any],
    times: list[Any],
    columns: Columns,
    *,
    text_ok: bool,
    lines: list[int] | None = None,
    errors: list[RowError] | None = None,
    rows: int | None = None,
    all_str: bool = False,
) -> ParsedBlock:
    """Convert raw columns; fast when clean, value by value otherwise. *all_str*: every value
    is known to be a ``str`` (CSV)."""
    errors = [] if errors is None else errors
    rows = len(names) + len(errors) if rows is None else rows
    if _names_fast(names):
        fast_uids = _uids_fast(uids, text_ok, all_str)
        fast_times = None if fast_uids is None else _times_fast(times, text_ok, all_str)
        if fast_uids is not None and fast_times is not None:
            return ParsedBlock(
                source, names, fast_uids, fast_times, first_line, rows, lines, errors
            )
    ok_names: list[str] = []
    ok_uids: list[int] = []
    ok_times: list[Any] = []
    ok_lines: list[int] = []
    for index, (name, uid, when) in enumerate(zip(names, uids, times, strict=True)):
        line = first_line + index if lines is None else lines[index]
        try:
            checked = (
                _name(name, columns.event),
                _uid(uid, columns.user_id, text_ok),
                _time(when, columns.timestamp, text_ok),
            )
        except _Bad as bad:
            errors.append(RowError(source, line, bad.kind, bad.message))
            continue
        ok_names.append(checked[0])
        ok_uids.append(checked[1])
        ok_times.append(checked[2])
        ok_lines.append(line)
    errors.sort(key=lambda e: e.line)
    return ParsedBlock(source, ok_names, ok_uids, ok_times, first_line, rows, ok_lines, errors)


def parse_tuples(rows: Sequence[Any], source: str, first_row: int, columns: Columns) -> ParsedBlock:
    """Validate ``(event name, user id, datetime)`` tuples from the API (rows numbered from
    *first_row*). Types are strict, as in ``mark_event``: ids are ``int``, times ``datetime``
    or ``date``."""
    try:
        names, uids, times = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [])
    except (TypeError, ValueError):
        return _tuples_slowly(rows, source, first_row, columns)
    return _columns_to_block(source, first_row, names, uids, times, columns, text_ok=False)


def _tuples_slowly(
    rows: Sequence[Any], source: str, first_row: int, columns: Columns
) -> ParsedBlock:
    names: list[Any] = []
    uids: list[Any] = []
    times: list[Any] = []
    lines: list[int] = []
    errors: list[RowError] = []
    for index, row in enumerate(rows):
        if not isinstance(row, (tuple, list)) or len(row) != 3:
            errors.append(
                RowError(
                    source,
                    first_row + index,
                    "bad_row",
                    f"expected an (event, user id, datetime) tuple, got {_show(row)}",
                )
            )
            continue
        names.append(row[0])
        uids.append(row[1])
        times.append(row[2])
        lines.append(first_row + index)
    return _columns_to_block(
        source,
        first_row,
        names,
        uids,
        times,
        columns,
        text_ok=False,
        lines=lines,
        errors=errors,
        rows=len(rows),
    )


@dataclass(frozen=True, slots=True)
class CsvHeader:
    """Where the three fields sit in a CSV file's rows."""

    width: int
    event: int
    user_id: int
    timestamp: int

    @classmethod
    def parse(cls, line: str, columns: Columns, source: str) -> CsvHeader:
        """Read the header line.

        :raises ValueError: a needed column is missing (the message lists what is there).
        """
        found = [name.strip() for name in next(csv.reader([line]), [])]
        missing = [name for name in columns.names() if name not in found]
        if missing:
            raise ValueError(
                f"{source}: the CSV header has no column {', '.join(map(repr, missing))} "
                f"(it has {', '.join(map(repr, found)) or 'nothing'}); choose the columns with "
                "the event/user id/timestamp column options"
            )
        return cls(
            len(found),
            found.index(columns.event),
            found.index(columns.user_id),
            found.index(columns.timestamp),
        )


def parse_csv_block(
    text: str, first_line: int, header: CsvHeader, columns: Columns, source: str
) -> ParsedBlock:
    """Parse CSV data lines (*text* ends at a record boundary; line numbers from *first_line*).

    Blocks without quotes are split with ``str.split``, checked line by line for the header's
    width; others go through :mod:`csv`.
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return ParsedBlock(source, [], [], [], first_line, 0)
    if '"' not in text and "\r" not in text:
        # Every line break becomes a field of its own: the split is a clean table exactly when
        # those fields sit at every (width + 1)-th position.
        fields = text.replace("\n", ",\n,").split(",")
        width = header.width
        stride = width + 1
        breaks = text.count("\n")
        if len(fields) == stride * (breaks + 1) - 1 and fields[width::stride].count("\n") == breaks:
            return _columns_to_block(
                source,
                first_line,
                fields[header.event :: stride],
                fields[header.user_id :: stride],
                fields[header.timestamp :: stride],
                columns,
                text_ok=True,
                all_str=True,
            )
    return _csv_slowly(text, first_line, header, columns, source)


def _csv_slowly(
    text: str, first_line: int, header: CsvHeader, columns: Columns, source: str
) -> ParsedBlock:
    names: list[str] = []
    uids: list[str] = []
    times: list[str] = []
    lines: list[int] = []
    errors: list[RowError] = []
    rows = 0
    reader = csv.reader(io.StringIO(text, newline=""))
    get = itemgetter(header.event, header.user_id, header.timestamp)
    start = 1
    for row in reader:
        line = first_line + start - 1
        start = reader.line_num + 1
        if not row:
            continue  # blank line
        rows += 1
        if len(row) != header.width:
            kind = "missing_field" if len(row) < header.width else "bad_csv_row"
            errors.append(
                RowError(source, line, kind, f"{len(row)} fields, the header has {header.width}")
            )
            continue
        name, uid, when = get(row)
        names.append(name)
        uids.append(uid)
        times.append(when)
        lines.append(line)
    return _columns_to_block(
        source,
        first_line,
        names,
        uids,
        times,
        columns,
        text_ok=True,
        lines=lines,
        errors=errors,
        rows=rows,
    )


def parse_jsonl_block(
    lines: list[str], first_line: int, columns: Columns, source: str
) -> ParsedBlock:
    """Parse JSON lines (one object per line; blank lines are skipped). A clean block is
    decoded by one ``json.loads`` call."""
    objects: list[Any] | None = None
    if all(lines):
        try:
            objects = json.loads("[" + ",".join(lines) + "]")
        except ValueError:
            objects = None
        if objects is not None and (
            len(objects) != len(lines) or set(map(type, objects)) != {dict}
        ):
            objects = None
    if objects is not None:
        try:
            names = list(map(itemgetter(columns.event), objects))
            uids = list(map(itemgetter(columns.user_id), objects))
            times = list(map(itemgetter(columns.timestamp), objects))
        except KeyError:
            pass
        else:
            return _columns_to_block(source, first_line, names, uids, times, columns, text_ok=True)
    return _jsonl_slowly(lines, first_line, columns, source)


def _jsonl_slowly(lines: list[str], first_line: int, columns: Columns, source: str) -> ParsedBlock:
    names: list[Any] = []
    uids: list[Any] = []
    times: list[Any] = []
    numbers: list[int] = []
    errors: list[RowError] = []
    rows = 0
    for index, text in enumerate(lines):
        line = first_line + index
        if not text.strip():
            continue
        rows += 1
        try:
            obj = json.loads(text)
        except ValueError as exc:
            errors.append(RowError(source, line, "bad_json", f"bad JSON: {exc}"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(source, line, "bad_json", f"not a JSON object: {_show(obj)}"))
            continue
        names.append(obj.get(columns.event))
        uids.append(obj.get(columns.user_id))
        times.append(obj.get(columns.timestamp))
        numbers.append(line)
    return _columns_to_block(
        source,
        first_line,
        names,
        uids,
        times,
        columns,
        text_ok=True,
        lines=numbers,
        errors=errors,
        rows=rows,
    )
