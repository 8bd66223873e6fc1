"""Event-log parsing without I/O: the fast paths agree with the value-by-value reference."""

from __future__ import annotations

import json
from array import array
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
from hypothesis import event, given, settings

from bitmapist_async._core import eventlog
from bitmapist_async._core.bulk import (
    SPARSE_BYTES_PER_BIT,
    ChunkAggregator,
    ImportSummary,
    KeyWrite,
    build_bitmap,
)
from bitmapist_async._core.eventlog import (
    Columns,
    CsvHeader,
    ParsedBlock,
    RowError,
    parse_csv_block,
    parse_jsonl_block,
    parse_timestamp,
    parse_tuples,
)
from bitmapist_async._core.fastcsv import ArrayBlock, fixed_offset_minutes, parse_csv_fast
from bitmapist_async._core.options import ClientOptions

np = pytest.importorskip("numpy")

UTC = timezone.utc
HEADER = CsvHeader(width=4, event=0, user_id=2, timestamp=3)
COLUMNS = Columns()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T12:30:00Z", datetime(2026, 5, 1, 12, 30, tzinfo=UTC)),
        ("2026-05-01 12:30:00", datetime(2026, 5, 1, 12, 30)),
        ("2026-05-01", datetime(2026, 5, 1)),
        (
            "2026-05-01T12:30:00+05:30",
            datetime(2026, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("1777638600", datetime(2026, 5, 1, 12, 30, tzinfo=UTC)),
        ("1777638600000", datetime(2026, 5, 1, 12, 30, tzinfo=UTC)),
        ("1777638600.5", datetime(2026, 5, 1, 12, 30, 0, 500000, tzinfo=UTC)),
        ("20260501", datetime.fromtimestamp(20260501, UTC)),  # digits: an epoch
        (1777638600, datetime(2026, 5, 1, 12, 30, tzinfo=UTC)),
        (1777638600000.0, datetime(2026, 5, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text: object, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("yesterday", "unparseable timestamp: 'yesterday'"),
        ("", "unparseable timestamp: ''"),
        ("2026-02-30T00:00:00Z", "unparseable"),
        ("1" * 30, "timestamp out of range"),
        (float("nan"), "timestamp out of range"),
        (True, "unparseable timestamp: True"),
        (None, "unparseable timestamp: None"),
    ],
)
def test_parse_timestamp_rejects(value: object, shown: str) -> None:
    with pytest.raises(ValueError, match=shown):
        parse_timestamp(value)


def test_columns_and_header_checks() -> None:
    with pytest.raises(ValueError, match="must differ"):
        Columns("a", "a", "b")
    with pytest.raises(ValueError, match="the event column name must be a non-empty str"):
        Columns("")
    header = CsvHeader.parse(" user_id ,timestamp,x,event", COLUMNS, "f.csv")
    assert header == CsvHeader(width=4, event=3, user_id=0, timestamp=1)
    with pytest.raises(ValueError, match=r"f\.csv: the CSV header has no column 'timestamp'"):
        CsvHeader.parse("event,user_id", COLUMNS, "f.csv")


# -- fast paths against the reference -------------------------------------------------------

NAMES = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=',"'),
    min_size=1,
    max_size=20,
)
FORMS = st.sampled_from(["iso-t", "iso-space", "z", "offset", "seconds", "millis"])
MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31))


def _spell(moment: datetime, form: str, minutes: int) -> str:
    moment = moment.replace(microsecond=0)
    if form == "iso-t":
        return moment.isoformat()
    if form == "iso-space":
        return moment.isoformat(sep=" ")
    if form == "z":
        return moment.isoformat() + "Z"
    if form == "offset":
        return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()
    seconds = int(moment.replace(tzinfo=UTC).timestamp())
    return str(seconds if form == "seconds" else seconds * 1000 + minutes % 1000)


@st.composite
def csv_blocks(draw: st.DrawFn, *, corrupt: bool) -> tuple[str, str]:
    form = draw(FORMS)
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        name = draw(st.sampled_from(["active", "song:played", "a b"]) | NAMES)
        uid = draw(st.integers(0, 2**32 - 1) | st.integers(0, 300))
        when = _spell(draw(MOMENTS), form, draw(st.integers(-23 * 60 - 59, 23 * 60 + 59)))
        rows.append((name, uid, when))
    lines = [f"{n},x,{u},{w}" for n, u, w in rows]
    if corrupt:
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = draw(
            st.sampled_from(
                [
                    "bitop_x,x,1,2026-05-01T00:00:00",
                    "a,x,-1,2026-05-01T00:00:00",
                    "a,x,4294967296,2026-05-01T00:00:00",
                    "a,x,1,2026-02-30T00:00:00",
                    "a,x,1,2026-05-01T24:00:00",
                    "a,x,1",
                    "a,x,1,2,3",
                    "",
                    "a,x,+1,2026-05-01T00:00:00",
                    "a,x,1,2026-05-01T00:00:00.5Z",
                    "a,x,1,2026-05-01T00:00:60",
                    "é,x,1,2026-05-01T00:00:00",
                    ",x,1,2026-05-01T00:00:00",
                ]
            )
        )
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""])), form


def _slowly(text: str) -> ParsedBlock:
    return eventlog._csv_slowly(text.rstrip("\n"), 2, HEADER, COLUMNS, "f")


def _same(fast: ParsedBlock, slow: ParsedBlock) -> None:
    assert (fast.names, fast.uids, fast.times) == (slow.names, slow.uids, slow.times)
    assert [fast.line_of(i) for i in range(len(fast))] == [
        slow.line_of(i) for i in range(len(slow))
    ]
    assert fast.errors == slow.errors
    assert fast.rows == slow.rows


@settings(max_examples=200, deadline=None)
@given(csv_blocks(corrupt=False) | csv_blocks(corrupt=True))
def test_csv_fast_split_matches_the_csv_module(block: tuple[str, Any]) -> None:
    text, _ = block
    _same(parse_csv_block(text, 2, HEADER, COLUMNS, "f"), _slowly(text))


def _local(options: ClientOptions, block: ParsedBlock) -> list[tuple[str, int, int, int]]:
    out = []
    for name, uid, when in zip(block.names, block.uids, block.times, strict=True):
        local = options.local(when)
        out.append((name, uid, local.toordinal(), local.hour))
    return out


ZONES: list[tzinfo] = [
    UTC,
    timezone(timedelta(hours=-3, minutes=-30)),
    timezone(timedelta(hours=13, minutes=45)),
    ZoneInfo("Europe/Paris"),
]


@settings(max_examples=300, deadline=None)
@given(csv_blocks(corrupt=False) | csv_blocks(corrupt=True), st.sampled_from(ZONES))
def test_numpy_csv_parser_matches_the_text_path(block: tuple[str, str], tz: tzinfo) -> None:
    text, form = block
    fast = parse_csv_fast(text.encode(), 2, HEADER, "f", tz)
    reference = parse_csv_block(text, 2, HEADER, COLUMNS, "f")
    event("declined" if fast is None else "parsed by numpy")
    if fast is None:
        # declining is for bad rows, and for valid shapes the fast path leaves to the text one
        aware = form not in ("iso-t", "iso-space")
        assert (
            reference.rows == 0
            or reference.errors
            or _uncovered(text)
            or (aware and fixed_offset_minutes(tz) is None)
        )
        return
    assert not reference.errors
    assert fast.rows == reference.rows == len(fast)
    rows = [
        (fast.names[int(c)], int(u), int(o), int(h))
        for c, u, o, h in zip(fast.codes, fast.uids, fast.ordinals, fast.hours, strict=True)
    ]
    assert rows == _local(ClientOptions(tz=tz), reference)


def _uncovered(text: str) -> bool:
    """Valid shapes the numpy parser leaves to the text path: blank lines, ids that ``int()``
    takes but are not 1 to 10 plain digits ("+1"), timestamps of several lengths in one block
    (epoch seconds before 2001 and after) or of other shapes (fractions), non-ASCII text."""
    lines = text.splitlines()
    if not all(lines) or not text.isascii():
        return True
    ids = [line.split(",")[2] for line in lines]
    stamps = [line.split(",")[3] for line in lines]
    shapes = {len(s) if not s.isdigit() else "epoch" for s in stamps}
    return (
        not all(i.isdigit() and len(i) <= 10 for i in ids)
        or len({len(s) for s in stamps}) > 1
        or not shapes <= {19, 20, 25, "epoch"}
    )


def test_numpy_parser_accepts_the_common_shapes() -> None:
    for stamp in ("2026-05-01T23:30:00Z", "2026-05-01 23:30:00", "1777678200", "1777678200000"):
        data = f"song:played,fr,12,{stamp}\nactive,de,0,{stamp}\n".encode()
        block = parse_csv_fast(data, 2, HEADER, "f", UTC)
        assert isinstance(block, ArrayBlock), stamp
        assert block.names == ["active", "song:played"] or block.names == ["song:played", "active"]
        assert block.ordinals.tolist() == [date(2026, 5, 1).toordinal()] * 2
        assert block.hours.tolist() == [23, 23]
    paris = ZoneInfo("Europe/Paris")
    assert parse_csv_fast(b"a,x,1,2026-05-01T23:30:00Z\n", 2, HEADER, "f", paris) is None
    assert parse_csv_fast(b"a,x,1,2026-05-01T23:30:00\n", 2, HEADER, "f", paris) is not None


@st.composite
def json_blocks(draw: st.DrawFn) -> list[str]:
    values = st.one_of(
        st.integers(-5, 2**33),
        st.text(max_size=5),
        st.none(),
        st.booleans(),
        st.floats(allow_nan=False),
        st.sampled_from(["2026-05-01T00:00:00Z", "1777593600", "bitop_x", "active"]),
    )
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", "{", "[1]", "null", '{"a": 1}'])))
            continue
        obj = {
            "event": draw(values | st.just("active")),
            "user_id": draw(values | st.integers(0, 1000)),
            "timestamp": draw(values | st.just(1777593600)),
        }
        lines.append(json.dumps(obj))
    return lines


@settings(max_examples=200, deadline=None)
@given(json_blocks())
def test_jsonl_fast_path_matches_line_by_line(lines: list[str]) -> None:
    _same(
        parse_jsonl_block(lines, 1, COLUMNS, "f"),
        eventlog._jsonl_slowly(lines, 1, COLUMNS, "f"),
    )


def test_tuples_strict_types() -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    block = parse_tuples(
        [("a", 1, when), ("a", True, when), ("a", 2, 1777593600), ["b", 3, date(2026, 5, 1)]],
        "<rows>",
        1,
        COLUMNS,
    )
    assert block.names == ["a", "b"]
    assert [e.kind for e in block.errors] == ["bad_user_id", "bad_timestamp"]
    assert [e.line for e in block.errors] == [2, 3]


# -- aggregation ----------------------------------------------------------------------------


def _writes(aggregator: ChunkAggregator) -> list[tuple[str, str, list[int], bytes]]:
    out = [(w.key, w.kind, list(w.offsets), w.data) for w in aggregator.writes()]
    return sorted(out)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 3000) | st.integers(0, 2**32 - 1),
            st.datetimes(
                min_value=datetime(2025, 12, 20),
                max_value=datetime(2026, 1, 10),
                timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-9))]),
            ),
        ),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
    st.booleans(),
    st.sampled_from(ZONES),
)
def test_numpy_and_python_aggregation_agree(
    rows: list[tuple[str, int, datetime]], hourly: bool, unique: bool, tz: tzinfo
) -> None:
    options = ClientOptions(tz=tz)
    plans = []
    for use_numpy in (False, True):
        aggregator = ChunkAggregator(
            options, track_hourly=hourly, track_unique=unique, use_numpy=use_numpy
        )
        aggregator.add(parse_tuples(rows, "<rows>", 1, COLUMNS))
        assert aggregator.rows == len(rows)
        plans.append(_writes(aggregator))
    assert plans[0] == plans[1]
    # and each key holds exactly the ids mark_event would set in it
    expected: dict[str, set[int]] = {}
    for name, uid, when in rows:
        for key, offset, _ in options.event_writes(
            name, uid, when, 1, track_hourly=hourly, track_unique=unique
        ):
            expected.setdefault(key, set()).add(offset)
    got = {}
    for key, kind, offsets, data in plans[0]:
        if kind == "bytes":
            assert data[-1] != 0  # no trailing zero byte: same length as SETBITs give
            got[key] = {i for i in range(len(data) * 8) if data[i >> 3] & (0x80 >> (i & 7))}
        else:
            got[key] = set(offsets)
    assert got == expected


def test_write_plans() -> None:
    options = ClientOptions()
    when = datetime(2026, 5, 1)
    aggregator = ChunkAggregator(options, track_hourly=None, track_unique=None, use_numpy=False)
    far = SPARSE_BYTES_PER_BIT * 8 * 3
    aggregator.add(
        parse_tuples(
            [
                ("one", 7, when),
                ("one", 7, when),
                ("dense", 1, when),
                ("dense", 9, when),
                ("sparse", 0, when),
                ("sparse", far, when),
            ],
            "<rows>",
            1,
            COLUMNS,
        )
    )
    plans = {w.key: w for w in aggregator.writes()}
    assert len(plans) == 9  # day, ISO week and month of each event
    for period in ("2026-5-1", "W2026-18", "2026-5"):
        key = f"trackist_one_{period}"
        assert plans[key] == KeyWrite(key, "bit", (7,))
        key = f"trackist_dense_{period}"
        assert plans[key] == KeyWrite(key, "bytes", data=b"\x40\x40")
        key = f"trackist_sparse_{period}"
        assert plans[key] == KeyWrite(key, "bits", [0, far])
    aggregator.clear()
    assert list(aggregator.writes()) == []
    assert aggregator.rows == 0


def test_summary() -> None:
    errors = [RowError("f", i, "bad_user_id", f"bad {i}") for i in range(25)]
    summary = ImportSummary(seconds=2.0, rows_read=100, bytes_read=25, bytes_total=100)
    summary = summary.with_errors(errors[:15]).with_errors(errors[15:])
    assert summary.rows_rejected == 25
    assert [e.line for e in summary.errors] == list(range(20))
    assert summary.rows_per_second == 50
    assert summary.eta_seconds() == 6.0
    assert summary.as_dict()["errors"][0] == {
        "source": "f",
        "line": 0,
        "kind": "bad_user_id",
        "message": "bad 0",
    }
    assert "f:19: bad 19" in summary.describe()
    assert ImportSummary().eta_seconds() is None


@pytest.mark.parametrize("top", [7, 1000, 8 * (1 << 20) + 5])  # the last: no packbits
def test_bitmap_builders_agree(top: int) -> None:
    ids = [array("I", [0, top, 3]), array("I", [top // 2, 3])]
    size = (top >> 3) + 1
    python = build_bitmap(ids, size, use_numpy=False)
    assert build_bitmap(ids, size, use_numpy=True) == python
    assert (
        build_bitmap([np.array([0, 3, top // 2, top], dtype=np.uint32)], size, use_numpy=True)
        == python
    )
    assert len(python) == size
    assert python[0] & 0x90 == 0x90  # ids 0 and 3


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("-5", "a signed epoch is not a timestamp: '-5'"),
        ("+5", r"a signed epoch is not a timestamp: '\+5'"),
        ("-1777638600.5", "a signed epoch"),
        (-5, "a negative epoch is not a timestamp: -5"),
        (-0.5, "a negative epoch"),
    ],
)
def test_signed_and_negative_epochs_are_not_timestamps(value: object, shown: str) -> None:
    with pytest.raises(ValueError, match=shown):
        parse_timestamp(value)
    assert parse_timestamp("0") == parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("stamp", ["-5", "-1", -5, -1777638600000])
def test_negative_epochs_are_bad_rows_in_clean_looking_blocks(stamp: object) -> None:
    # Every other row is clean, so the whole-column fast path sees the negative value first.
    rows = [{"event": "e", "user_id": i, "timestamp": 1777638600 + i} for i in range(5)]
    if isinstance(stamp, str):
        rows = [{**r, "timestamp": str(r["timestamp"])} for r in rows]
    rows[3]["timestamp"] = stamp
    block = parse_jsonl_block([json.dumps(r) for r in rows], 1, COLUMNS, "f")
    assert [(e.line, e.kind) for e in block.errors] == [(4, "bad_timestamp")]
    assert block.uids == [0, 1, 2, 4]
    csv_text = "".join(f"e,{i},{r['timestamp']}\n" for i, r in enumerate(rows))
    header = CsvHeader(width=3, event=0, user_id=1, timestamp=2)
    csv_block = parse_csv_block(csv_text, 2, header, COLUMNS, "f")
    assert [(e.line, e.kind) for e in csv_block.errors] == [(5, "bad_timestamp")]


def test_names_that_cannot_be_encoded_are_bad_rows() -> None:
    lines = [
        json.dumps({"event": name, "user_id": 1, "timestamp": "2026-05-01T00:00:00Z"})
        for name in ("ok", "bad\ud800", "é", "\udcff")
    ]
    block = parse_jsonl_block(lines, 1, COLUMNS, "f")
    assert [(e.line, e.kind) for e in block.errors] == [(2, "bad_event"), (4, "bad_event")]
    assert "cannot be encoded as UTF-8: 'bad\\ud800'" in block.errors[0].message
    assert block.names == ["ok", "é"]
    when = datetime(2026, 5, 1, tzinfo=UTC)
    tuples = parse_tuples([("x\ud800", 1, when), ("x", 2, when)], "<rows>", 1, COLUMNS)
    assert [(e.line, e.kind) for e in tuples.errors] == [(1, "bad_event")]
