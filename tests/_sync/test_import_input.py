# This file is generated from tests/_async/test_import_input.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Import input that is broken or only looks valid: a truncated or corrupt gzip stream ends
with a typed error naming the file and position (what was written stays written); a signed
epoch and an event name that cannot be encoded as UTF-8 are bad rows, never a failed import."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bitmapist_async.sync import Bitmapist, BitmapistError, EventLog, ImportInputError

NOV = datetime(2026, 11, 3, 12, tzinfo=timezone.utc)
STAMP = "2026-11-03T12:00:00Z"


def _jsonl(count: int, *, event: str = "e", first: int = 0) -> bytes:
    return "".join(
        json.dumps({"event": event, "user_id": uid, "timestamp": STAMP}) + "\n"
        for uid in range(first, first + count)
    ).encode()


def _truncated(path: Path, data: bytes) -> Path:
    packed = gzip.compress(data)
    path.write_bytes(packed[: len(packed) * 2 // 3])
    return path


def test_a_truncated_gzip_is_a_typed_error_naming_file_and_position(
    bm: Bitmapist, tmp_path: Path
) -> None:
    path = _truncated(tmp_path / "cut.jsonl.gz", _jsonl(60_000))
    with pytest.raises(ImportInputError) as info:
        bm.import_events(EventLog(path, block_bytes=50_000), chunk_rows=10_000)
    error = info.value
    assert isinstance(error, BitmapistError)
    assert isinstance(error.__cause__, EOFError)
    summary = error.summary
    assert summary.chunks_written >= 1
    assert not summary.complete
    assert summary.position == f"{path}:{summary.rows_imported}"
    message = str(error)
    assert message.startswith(f"{path}: truncated or corrupt input (EOFError")
    assert f"written through {summary.position}" in message
    # What was written stays written: every row up to the position, nothing of the next chunk.
    assert bm.DayEvents("e", 2026, 11, 3).count() == summary.rows_imported
    assert bm.DayEvents("e", 2026, 11, 3).contains(summary.rows_imported - 1)
    assert not bm.DayEvents("e", 2026, 11, 3).contains(summary.rows_imported)


def test_a_corrupt_gzip_is_a_typed_error(bm: Bitmapist, tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(_jsonl(60_000)))
    packed[len(packed) // 2 : len(packed) // 2 + 8] = b"\xff" * 8
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(ImportInputError, match=r"bad\.jsonl\.gz: truncated or corrupt") as info:
        # Garbage may come out before zlib or the CRC notices: those lines are bad rows.
        bm.import_events(
            EventLog(path, block_bytes=50_000), chunk_rows=10_000, max_errors=None
        )
    assert info.value.summary.rows_imported == bm.DayEvents("e", 2026, 11, 3).count()


@pytest.mark.layouts("redis")
def test_the_error_names_the_file_that_broke(bm: Bitmapist, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl.gz"
    good.write_bytes(gzip.compress(_jsonl(10)))
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    small = _truncated(tmp_path / "small.jsonl.gz", _jsonl(200, first=100))
    big = _truncated(tmp_path / "big.jsonl.gz", _jsonl(5_000, first=100))
    # Broken within the first block: found while the files are checked, before any write.
    with pytest.raises(ImportInputError, match=r"^\S*small\.jsonl\.gz: .*no row read") as info:
        bm.import_events(EventLog([good, small]))
    assert info.value.summary.rows_read == 0
    # Broken further on: found while reading, after what was written.
    with pytest.raises(ImportInputError, match=r"^\S*big\.jsonl\.gz: ") as info:
        bm.import_events(EventLog([good, empty, big], block_bytes=1_000), chunk_rows=5)
    assert str(info.value.summary.position).startswith(str(big))
    with pytest.raises(ImportInputError, match=r"^\S*big\.jsonl\.gz: ") as info:
        bm.import_events(EventLog([big, good], block_bytes=1_000), chunk_rows=5)
    assert f"read through {big}:" in str(info.value)


def test_signed_epochs_and_unencodable_names_are_bad_rows(
    bm: Bitmapist, tmp_path: Path
) -> None:
    rows = [
        {"event": "ok", "user_id": 1, "timestamp": STAMP},
        {"event": "bad\ud800", "user_id": 2, "timestamp": STAMP},  # json.loads gives this
        {"event": "ok", "user_id": 3, "timestamp": -5},
        {"event": "ok", "user_id": 4, "timestamp": "-5"},
        {"event": "ok", "user_id": 5, "timestamp": "+1793707200"},
        {"event": "ok", "user_id": 6, "timestamp": -1.5},
        {"event": "ok", "user_id": 7, "timestamp": 1793707200},  # 2026-11-03T12:00:00Z
    ]
    path = tmp_path / "rows.jsonl"
    # ensure_ascii (the default) writes the lone surrogate as the escape "\ud800"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    summary = bm.import_events(EventLog(path), max_errors=None)
    assert [(e.line, e.kind) for e in summary.errors] == [
        (2, "bad_event"),
        (3, "bad_timestamp"),
        (4, "bad_timestamp"),
        (5, "bad_timestamp"),
        (6, "bad_timestamp"),
    ]
    assert "cannot be encoded as UTF-8" in summary.errors[0].message
    assert "negative epoch" in summary.errors[1].message
    assert "signed epoch" in summary.errors[2].message
    assert (summary.rows_read, summary.rows_imported, summary.rows_rejected) == (7, 2, 5)
    assert bm.DayEvents("ok", 2026, 11, 3).ids() == [1, 7]
    assert bm.get_event_names() == ["ok"]
    assert bm.DayEvents("ok", 1969, 12, 31).count() == 0


def test_unencodable_names_in_tuples_are_bad_rows(bm: Bitmapist) -> None:
    summary = bm.import_events(
        [("fine", 1, NOV), ("bad\udcff", 2, NOV), ("fine", 3, NOV)], max_errors=1
    )
    assert [(e.line, e.kind) for e in summary.errors] == [(2, "bad_event")]
    assert bm.DayEvents("fine", 2026, 11, 3).ids() == [1, 3]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_times_that_leave_the_calendar_in_the_clients_zone_are_bad_rows(
    bm: Bitmapist, tmp_path: Path, suffix: str
) -> None:
    """Valid ISO timestamps, outside years 1 to 9999 once on the client's clock (UTC): bad
    rows, not an ``OverflowError`` that aborts the import."""
    rows = [
        ("edge", 1, "2026-11-28T13:05:00Z"),
        ("edge", 14, "9999-12-31T23:59:59-05:00"),
        ("edge", 15, "0001-01-01T00:00:00+01:00"),
        ("edge", 2, "2026-11-28T14:05:00Z"),
    ]
    path = tmp_path / f"rows.{suffix}"
    if suffix == "csv":
        text = "event,user_id,timestamp\n" + "".join(f"{e},{u},{t}\n" for e, u, t in rows)
    else:
        text = "".join(
            json.dumps({"event": e, "user_id": u, "timestamp": t}) + "\n" for e, u, t in rows
        )
    path.write_text(text)
    summary = bm.import_events(EventLog(path), max_errors=5)
    line = 1 if suffix == "csv" else 0
    assert [(e.line, e.kind) for e in summary.errors] == [
        (line + 2, "bad_timestamp"),
        (line + 3, "bad_timestamp"),
    ]
    assert "outside the calendar" in summary.errors[0].message
    assert summary.rows_imported == 2
    assert bm.DayEvents("edge", 2026, 11, 28).ids() == [1, 2]
