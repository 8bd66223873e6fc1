# This file is generated from tests/_async/test_import.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Bulk import: the keys equal what marking every row with ``mark_event`` gives, byte for byte."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from bitmapist_async.sync import (
    Bitmapist,
    EventLog,
    ImportAbortedError,
    ImportSummary,
)
from bitmapist_async._sync import importer
from bitmapist_async._core.fastcsv import parse_csv_fast

from ..conftest import CommandLog
from ..eventlogs import LogRow, make_rows, mark_reference, snapshot, write_csv, write_jsonl
from ..grammar import violation

NEW_YORK = ZoneInfo("America/New_York")


def _import(url: str, source: Any, *, tz: Any = timezone.utc, **kwargs: Any) -> ImportSummary:
    with Bitmapist(url, key_prefix="imp_", tz=tz) as bm:
        return bm.import_events(source, **kwargs)


def _assert_same_keys(admin: redis.Redis) -> dict[str, bytes]:
    imported, reference = snapshot(admin, "imp_"), snapshot(admin, "ref_")
    assert reference
    assert sorted(imported) == sorted(reference)
    for key, value in reference.items():
        assert imported[key] == value, key
    return imported


@pytest.mark.parametrize(
    ("kind", "gz"), [("csv", False), ("jsonl", False), ("csv", True), ("jsonl", True)]
)
@pytest.mark.parametrize("use_numpy", [True, False])
def test_round_trip_files(
    redis_url: str, admin: redis.Redis, tmp_path: Path, kind: str, gz: bool, use_numpy: bool
) -> None:
    rows = make_rows(700, seed=3, tz=NEW_YORK)
    name = f"log.{kind}" + (".gz" if gz else "")
    path = (write_csv if kind == "csv" else write_jsonl)(tmp_path / name, rows, gz=gz)
    mark_reference(redis_url, rows, tz=NEW_YORK)
    with Bitmapist(redis_url, key_prefix="imp_", tz=NEW_YORK, use_numpy=use_numpy) as bm:
        summary = bm.import_events(EventLog(path, block_bytes=700), chunk_rows=97)
    _assert_same_keys(admin)
    assert summary.rows_read == summary.rows_imported == 700
    assert summary.rows_rejected == 0
    assert summary.chunks_written == 8
    assert summary.complete
    assert summary.position == f"{path}:{700 if kind == 'jsonl' else 701}"
    assert summary.keys_written >= len(snapshot(admin, "imp_"))
    assert admin.keys("imp_bitop_*") == []


@pytest.mark.parametrize("form", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("tz", [timezone.utc, timezone(timedelta(hours=-4, minutes=-30))])
def test_round_trip_through_the_numpy_parser(
    redis_url: str,
    admin: redis.Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    form: int,
    tz: Any,
) -> None:
    rows = make_rows(500, seed=30 + form, tz=tz, forms=(form,), max_uid=20_000)
    lines = ["event,country,user_id,timestamp", *(f"{r.event},fr,{r.uid},{r.text}" for r in rows)]
    lines.insert(300, "active,fr,-1,2026-05-01T00:00:00Z")  # one block goes the text path
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    mark_reference(redis_url, rows, tz=tz, track_hourly=True)
    parsed = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        block = parse_csv_fast(*args, **kwargs)
        parsed.append(block is not None)
        return block

    monkeypatch.setattr(importer, "parse_csv_fast", spy)
    with Bitmapist(redis_url, key_prefix="imp_", tz=tz, use_numpy=True) as bm:
        summary = bm.import_events(
            EventLog(path, block_bytes=1000), track_hourly=True, chunk_rows=150, max_errors=1
        )
    _assert_same_keys(admin)
    assert summary.rows_imported == 500
    assert [e.line for e in summary.errors] == [301]
    assert parsed.count(False) == 1
    assert parsed.count(True) > 10


@pytest.mark.parametrize(("hourly", "unique"), [(True, False), (False, True), (True, True)])
def test_round_trip_tracking_options(
    redis_url: str, admin: redis.Redis, tmp_path: Path, hourly: bool, unique: bool
) -> None:
    rows = make_rows(400, seed=5)
    path = write_csv(tmp_path / "log.csv", rows)
    mark_reference(redis_url, rows, track_hourly=hourly, track_unique=unique)
    _import(
        redis_url, EventLog(path), track_hourly=hourly, track_unique=unique, chunk_rows=150
    )
    keys = _assert_same_keys(admin)
    assert any(k.endswith("_u") for k in keys) == unique
    assert any(k.count("-") == 3 for k in keys) == hourly


def test_client_defaults_for_tracking(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    rows = make_rows(200, seed=6)
    mark_reference(redis_url, rows, track_hourly=True, track_unique=True)
    with Bitmapist(redis_url, key_prefix="imp_", track_hourly=True, track_unique=True) as bm:
        bm.import_events(EventLog(write_jsonl(tmp_path / "a.jsonl", rows)))
    _assert_same_keys(admin)


def test_several_files_and_column_names(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    rows = make_rows(600, seed=7)
    columns = ("what", "who", "when")
    first = write_csv(tmp_path / "a.csv", rows[:250], columns=columns)
    second = write_jsonl(tmp_path / "b.ndjson.gz", rows[250:], gz=True, columns=columns)
    mark_reference(redis_url, rows)
    log = EventLog(
        [first, second], event_column="what", user_id_column="who", timestamp_column="when"
    )
    summary = _import(redis_url, log, chunk_rows=100)
    _assert_same_keys(admin)
    assert summary.position == f"{second}:350"
    assert summary.bytes_total == first.stat().st_size + second.stat().st_size
    assert summary.bytes_read == summary.bytes_total


def test_quoted_fields_spanning_lines_and_blocks(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    rows = make_rows(120, seed=19)
    lines = ["event,note,user_id,timestamp\r"]
    for index, row in enumerate(rows):
        note = '"two\nlines, ""quoted"""' if index % 3 else "plain"
        lines.append(f'"{row.event}",{note},{row.uid},{row.text}\r')
    path = tmp_path / "quoted.csv"
    path.write_text("\n".join(lines) + "\n")
    mark_reference(redis_url, rows)
    summary = _import(redis_url, EventLog(path, block_bytes=50), chunk_rows=25)
    _assert_same_keys(admin)
    assert (summary.rows_read, summary.rows_imported, summary.rows_rejected) == (120, 120, 0)
    # the last record starts on line 200: the header, then 119 records of which 79 take 2 lines
    assert summary.position == f"{path}:200"


def test_round_trip_tuples(redis_url: str, admin: redis.Redis) -> None:
    rows = make_rows(500, seed=8)
    rows.append(LogRow("signup", 77, datetime(2026, 3, 8, 2, 30), ""))  # naive: client's tz
    mark_reference(redis_url, [*rows, LogRow("visit", 5, datetime(2026, 3, 8), "")], tz=NEW_YORK)
    tuples: list[tuple[str, int, datetime | date]] = [(r.event, r.uid, r.when) for r in rows]
    tuples.append(("visit", 5, date(2026, 3, 8)))  # a date means its midnight
    summary = _import(redis_url, tuples, tz=NEW_YORK, chunk_rows=64)
    _assert_same_keys(admin)
    assert summary.rows_imported == 502
    assert summary.position == "<rows>:502"


def test_round_trip_async_iterable_and_dates(redis_url: str, admin: redis.Redis) -> None:
    rows = make_rows(300, seed=9)
    days = [LogRow("visit", r.uid, datetime(2026, 4, 1 + r.uid % 20), "") for r in rows]
    mark_reference(redis_url, [*rows, *days])

    def produce() -> Iterator[tuple[str, int, datetime | date]]:
        for r in rows:
            yield (r.event, r.uid, r.when)
        for r in days:
            yield (r.event, r.uid, r.when.date())

    summary = _import(redis_url, produce(), chunk_rows=1000)
    _assert_same_keys(admin)
    assert summary.rows_imported == 600
    assert summary.chunks_written == 1


def test_unmark_matches_unmark_event(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    rows = make_rows(500, seed=10)
    for prefix in ("ref_", "imp_"):
        mark_reference(redis_url, rows, prefix=prefix, track_unique=True)
    gone = [*rows[::3], LogRow("never-marked", 4000, rows[0].when, rows[0].text)]
    mark_reference(redis_url, gone, unmark=True, track_unique=True)
    _import(
        redis_url,
        EventLog(write_csv(tmp_path / "gone.csv", gone)),
        unmark=True,
        track_unique=True,
        chunk_rows=50,
    )
    _assert_same_keys(admin)


def test_import_is_idempotent(redis_url: str, admin: redis.Redis, tmp_path: Path) -> None:
    rows = make_rows(400, seed=11)
    path = write_csv(tmp_path / "log.csv", rows)
    mark_reference(redis_url, rows, track_hourly=True)
    first = _import(redis_url, EventLog(path), track_hourly=True, chunk_rows=90)
    once = _assert_same_keys(admin)
    second = _import(redis_url, EventLog(path), track_hourly=True, chunk_rows=90)
    assert _assert_same_keys(admin) == once
    assert (first.rows_imported, first.keys_written) == (second.rows_imported, second.keys_written)


def test_sparse_high_ids_are_merged_bit_by_bit(
    redis_url: str, admin: redis.Redis, command_log: CommandLog, tmp_path: Path
) -> None:
    high = [2**24 + 5, 2**24 - 9, 2**23, 3]  # 2 MiB bitmaps holding 4 or 5 ids
    may_1 = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    may_2 = datetime(2026, 5, 2, tzinfo=timezone.utc)
    rows = [LogRow("rare", uid, may_1, "2026-05-01T12:00:00Z") for uid in high]
    rows.append(LogRow("rare", 5, may_2, str(int(may_2.timestamp()))))
    mark_reference(redis_url, rows)
    start = command_log.mark()
    _import(redis_url, EventLog(write_csv(tmp_path / "rare.csv", rows)))
    with Bitmapist(redis_url) as bm:
        bm.UniqueEvents("end-marker").contains(4)
    sent = command_log.wait_for(["GETBIT", "trackist_end-marker_u", "4"], start)
    _assert_same_keys(admin)
    scratch_bits = [int(c[2]) for c in sent if c[0] == "SETBIT" and "_bitop_merge_" in c[1]]
    # day 05-01 (4 ids), ISO week 18 and May (5 ids each), through scratch keys
    assert sorted(scratch_bits) == sorted(high * 3 + [5, 5])
    assert ["SETBIT", "imp_rare_2026-5-2", "5", "1"] in sent  # one id: a plain SETBIT
    assert not any(c[0] == "SET" for c in sent)  # no bitmap bytes built or sent
    assert admin.keys("imp_bitop_*") == []


def test_few_commands_per_key_and_grammar(
    redis_url: str, admin: redis.Redis, command_log: CommandLog, tmp_path: Path
) -> None:
    rows = make_rows(1500, seed=12, max_uid=2000)
    path = write_csv(tmp_path / "log.csv", rows)
    start = command_log.mark()
    summary = _import(redis_url, EventLog(path))
    with Bitmapist(redis_url) as bm:
        bm.UniqueEvents("end-marker").contains(3)
    sent = command_log.wait_for(["GETBIT", "trackist_end-marker_u", "3"], start)
    assert [v for c in sent if (v := violation(c))] == []
    keys = len(snapshot(admin, "imp_"))
    assert summary.keys_written == keys
    assert {c[0] for c in sent} <= {"SET", "EXPIRE", "BITOP", "DEL", "SETBIT"}
    assert len(sent) <= 3 * keys + 10  # vs 3 SETBITs per row for mark_event
    assert len(sent) < len(rows)


def test_bad_rows_are_counted_and_reported(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    good = make_rows(30, seed=13, forms=(0,))
    lines = ["event,user_id,timestamp"]
    lines += [f"{r.event},{r.uid},{r.text}" for r in good[:10]]
    bad = [
        ("active,,2026-05-01T00:00:00Z", "missing_field"),
        ("active,12", "missing_field"),
        (",12,2026-05-01T00:00:00Z", "missing_field"),
        ("active,abc,2026-05-01T00:00:00Z", "bad_user_id"),
        ("active,1.5,2026-05-01T00:00:00Z", "bad_user_id"),
        ("active,-1,2026-05-01T00:00:00Z", "user_id_out_of_range"),
        ("active,4294967296,2026-05-01T00:00:00Z", "user_id_out_of_range"),
        ("active,12,yesterday", "bad_timestamp"),
        ("active,12,2026-13-01T00:00:00Z", "bad_timestamp"),
        ("active,12,99999999999999999999999", "bad_timestamp"),
        ("bitop_x,12,2026-05-01T00:00:00Z", "bad_event"),
        ("active,12,2026-05-01T00:00:00Z,extra", "bad_csv_row"),
    ]
    lines += [text for text, _ in bad]
    lines += [f'"{r.event}",{r.uid},{r.text}' for r in good[10:]]  # quoted: the csv module path
    path = tmp_path / "bad.csv"
    path.write_bytes("\n".join(lines).encode() + b"\nactive,\xff\xfe,2026-05-01T00:00:00Z\n")
    mark_reference(redis_url, good)
    summary = _import(redis_url, EventLog(path, block_bytes=64), max_errors=None)
    _assert_same_keys(admin)
    assert summary.rows_read == 30 + len(bad) + 1
    assert summary.rows_imported == 30
    assert summary.rows_rejected == len(bad) + 1
    found = [(e.source, e.line, e.kind) for e in summary.errors]
    expected = [(str(path), 12 + i, kind) for i, (_, kind) in enumerate(bad)]
    expected.append((str(path), 12 + len(bad) + 20, "bad_encoding"))
    assert found == expected
    messages = [str(e) for e in summary.errors]
    assert messages[3] == f"{path}:15: user id is not an integer: 'abc'"
    assert messages[6] == f"{path}:18: user id is outside [0, 2**32): 4294967296"
    assert messages[7] == f"{path}:19: unparseable timestamp: 'yesterday'"
    assert "'bitop_x'" in messages[10]


def test_bad_json_lines(redis_url: str, admin: redis.Redis, tmp_path: Path) -> None:
    good = make_rows(5, seed=14, forms=(0,))
    lines = [f'{{"event": "{r.event}", "user_id": {r.uid}, "timestamp": "{r.text}"}}' for r in good]
    bad = [
        ('{"event": "a", "user_id": 1, "timestamp": ', "bad_json"),
        ("[1, 2, 3]", "bad_json"),
        ('{"event": "a", "timestamp": "2026-05-01T00:00:00Z"}', "missing_field"),
        ('{"event": "a", "user_id": null, "timestamp": "2026-05-01T00:00:00Z"}', "missing_field"),
        ('{"event": "a", "user_id": 1.5, "timestamp": "2026-05-01T00:00:00Z"}', "bad_user_id"),
        ('{"event": "a", "user_id": true, "timestamp": "2026-05-01T00:00:00Z"}', "bad_user_id"),
        ('{"event": 7, "user_id": 1, "timestamp": "2026-05-01T00:00:00Z"}', "bad_event"),
        ('{"event": "a", "user_id": 1, "timestamp": 1e400}', "bad_timestamp"),
        ('{"event": "a", "user_id": 1, "timestamp": [2026]}', "bad_timestamp"),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*lines, "", *(t for t, _ in bad), *lines]) + "\n")
    mark_reference(redis_url, good)
    summary = _import(redis_url, EventLog(path), max_errors=len(bad))
    _assert_same_keys(admin)
    assert [(e.line, e.kind) for e in summary.errors] == [
        (7 + i, kind) for i, (_, kind) in enumerate(bad)
    ]
    assert (summary.rows_read, summary.rows_imported) == (10 + len(bad), 10)


def test_only_the_first_20_errors_are_kept(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("event,user_id,timestamp\n" + "a,x,2026-05-01\n" * 50)
    summary = _import(redis_url, EventLog(path), max_errors=None)
    assert summary.rows_rejected == 50
    assert [e.line for e in summary.errors] == list(range(2, 22))
    assert "first 20 rejected row(s):" in summary.describe()


def test_max_errors_aborts_before_the_chunk_in_progress(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    rows = make_rows(300, seed=15, forms=(0,))
    lines = ["event,user_id,timestamp", *(f"{r.event},{r.uid},{r.text}" for r in rows)]
    lines.insert(121, "a,-5,2026-05-01T00:00:00Z")  # line 122
    lines.insert(131, "a,-6,2026-05-01T00:00:00Z")  # line 132: 129 good rows before it
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    mark_reference(redis_url, rows[:100])
    with pytest.raises(
        ImportAbortedError, match=r"first: .*bad\.csv:122: user id is outside"
    ) as caught:
        _import(redis_url, EventLog(path, block_bytes=300), chunk_rows=50, max_errors=1)
    summary = caught.value.summary
    assert isinstance(summary, ImportSummary)
    assert not summary.complete
    assert summary.rows_rejected == 2
    assert summary.chunks_written == 2
    assert summary.position == f"{path}:101"
    _assert_same_keys(admin)  # the first two chunks, nothing of the third


def test_strict_by_default_for_tuples(redis_url: str, admin: redis.Redis) -> None:
    when = datetime(2026, 5, 1, tzinfo=timezone.utc)
    with pytest.raises(ImportAbortedError, match=r"<rows>:2: user id is not an integer: '7'"):
        _import(redis_url, [("a", 1, when), ("a", "7", when)])
    with pytest.raises(ImportAbortedError, match=r"must be a datetime or date, got '2026"):
        _import(redis_url, [("a", 1, "2026-05-01")])
    with pytest.raises(ImportAbortedError, match=r"<rows>:1: expected an \(event"):
        _import(redis_url, [("a", 1)])
    assert snapshot(admin, "imp_") == {}


def test_dry_run_writes_nothing(redis_url: str, admin: redis.Redis, tmp_path: Path) -> None:
    rows = make_rows(200, seed=16)
    summary = _import(
        redis_url, EventLog(write_csv(tmp_path / "a.csv", rows)), dry_run=True, chunk_rows=50
    )
    assert admin.keys("*") == []
    assert summary.dry_run
    assert summary.rows_imported == 200
    assert summary.keys_written > 0
    assert "would import: 200" in summary.describe()


def test_progress_callback(redis_url: str, tmp_path: Path) -> None:
    rows = make_rows(300, seed=17)
    seen: list[ImportSummary] = []
    path = write_csv(tmp_path / "a.csv", rows)
    _import(
        redis_url, EventLog(path, block_bytes=1000), chunk_rows=100, on_progress=seen.append
    )
    chunks = [s.chunks_written for s in seen]
    assert chunks == sorted(chunks)
    assert {1, 2, 3} <= set(chunks)
    assert [s.rows_read for s in seen] == sorted(s.rows_read for s in seen)
    assert seen[-1].complete
    assert all(s.bytes_total == path.stat().st_size for s in seen)


@pytest.mark.layouts("redis")  # MONITOR watches the single Redis
def test_bad_arguments_fail_before_io(
    bm: Bitmapist, command_log: CommandLog, tmp_path: Path
) -> None:
    # MONITOR lags: wait until it has shown everything earlier tests sent, then start counting.
    bm.UniqueEvents(f"start-{tmp_path.name}").contains(0)
    command_log.wait_for(["GETBIT", f"trackist_start-{tmp_path.name}_u", "0"])
    start = command_log.mark()
    with pytest.raises(TypeError, match=r"'events\.csv'"):
        bm.import_events("events.csv")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="42"):
        bm.import_events(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_rows must be at least 1, got 0"):
        bm.import_events([], chunk_rows=0)
    with pytest.raises(ValueError, match="max_errors must be at least 0, got -1"):
        bm.import_events([], max_errors=-1)
    with pytest.raises(TypeError, match="unmark must be a bool, got 'yes'"):
        bm.import_events([], unmark="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="track_hourly must be a bool, got 1"):
        bm.import_events([], track_hourly=1)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"missing\.csv"):
        bm.import_events(EventLog(tmp_path / "missing.csv"))
    (tmp_path / "ok.csv").write_text("event,user_id,timestamp\n")
    header = tmp_path / "header.csv.gz"
    with gzip.open(header, "wt") as out:
        out.write("name,uid,ts\nactive,1,2026-05-01\n")
    with pytest.raises(ValueError, match="no column 'event', 'user_id', 'timestamp'"):
        bm.import_events(EventLog([tmp_path / "ok.csv", header]))
    with pytest.raises(ValueError, match="format must be"):
        EventLog("a.csv", format="xml")  # type: ignore[arg-type]
    bm.UniqueEvents("end-marker").contains(0)
    assert command_log.wait_for(["GETBIT", "trackist_end-marker_u", "0"], start) == []
