"""Write options, deduplication, batch scopes and the cached key suffixes of a mark."""

from __future__ import annotations

import contextvars
import re
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitmapist_async import WriteOptions
from bitmapist_async._core.batch_scope import BatchBuffer, batches_open, current_batch
from bitmapist_async._core.options import ClientOptions, MarkWrites
from bitmapist_async._core.periods import DayPeriod, HourPeriod, MonthPeriod, WeekPeriod
from bitmapist_async._core.write_options import dedupe_writes


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("max_pending", 0, ValueError),
        ("max_pending", 1.5, TypeError),
        ("max_pending", True, TypeError),
        ("max_in_flight", -1, ValueError),
        ("max_flush", "10", TypeError),
        ("attempt_timeout", 0, ValueError),
        ("retry_deadline", float("nan"), ValueError),
        ("backoff_initial", None, TypeError),
        ("backoff_max", -0.5, ValueError),
    ],
)
def test_bad_write_options_name_the_value(field: str, value: object, error: type) -> None:
    with pytest.raises(error, match=field) as info:
        WriteOptions(**{field: value})  # type: ignore[arg-type]
    assert repr(value) in str(info.value)


def test_backoff_max_below_initial_is_refused() -> None:
    with pytest.raises(ValueError, match="backoff_max"):
        WriteOptions(backoff_initial=1.0, backoff_max=0.5)


@given(st.integers(min_value=0, max_value=200))
def test_backoff_doubles_up_to_the_cap_with_jitter(attempt: int) -> None:
    options = WriteOptions(backoff_initial=0.05, backoff_max=2.0)
    nominal = min(2.0, 0.05 * 2.0**attempt)
    delay = options.backoff(attempt)
    assert nominal / 2 <= delay <= nominal


writes_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 5), st.integers(0, 1)),
    max_size=40,
)


@given(writes_strategy)
def test_dedupe_keeps_one_write_per_bit_with_the_last_value(
    writes: list[tuple[str, int, int]],
) -> None:
    result = dedupe_writes(writes)
    final: dict[tuple[str, int], int] = {}
    for key, offset, value in writes:
        final[key, offset] = value
    assert {(k, o): v for k, o, v in result} == final
    assert len(result) == len(final)
    first_seen = list(dict.fromkeys((k, o) for k, o, _ in writes))
    assert [(k, o) for k, o, _ in result] == first_seen
    # Applying either list to an empty bitmap gives the same state.
    state: dict[tuple[str, int], int] = {}
    for key, offset, value in result:
        state[key, offset] = value
    assert state == final


def test_batch_scopes_follow_the_context() -> None:
    owner, other = object(), object()
    assert batches_open() == ()
    assert current_batch(owner) is None
    outer, inner = BatchBuffer(owner), BatchBuffer(owner)
    outer.enter()
    assert current_batch(owner) is outer
    assert current_batch(other) is None
    inner.enter()
    assert current_batch(owner) is inner
    assert contextvars.copy_context().run(current_batch, owner) is inner
    inner.add([("k", 1, 1), ("k", 1, 0)])
    assert inner.exit() == [("k", 1, 0)]
    assert current_batch(owner) is outer
    with pytest.raises(RuntimeError, match="twice"):
        outer.enter()
    assert outer.exit() == []
    assert current_batch(owner) is None
    assert batches_open() == ()


def _expected_keys(local: datetime, name: str = "ev") -> list[str]:
    return [
        f"trackist_{name}_{MonthPeriod.from_datetime(local).suffix}",
        f"trackist_{name}_{WeekPeriod.from_datetime(local).suffix}",
        f"trackist_{name}_{DayPeriod.from_datetime(local).suffix}",
        f"trackist_{name}_{HourPeriod.from_datetime(local).suffix}",
        f"trackist_{name}_u",
    ]


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Apia"]),
)
def test_cached_suffixes_match_the_periods(when: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    options = ClientOptions(tz=tz)
    aware = when.replace(tzinfo=timezone.utc)
    writes = options.event_writes("ev", 7, aware, 1, track_hourly=True, track_unique=True)
    local = aware.astimezone(tz).replace(tzinfo=None)
    assert writes == [(key, 7, 1) for key in _expected_keys(local)]


def test_marks_without_a_date_use_the_current_local_hour() -> None:
    # Two clients on zones 13 hours apart: each has its own cache of the current hour.
    for zone in ("Pacific/Apia", "America/Adak", "UTC", "Asia/Kolkata"):
        tz = ZoneInfo(zone)
        options = ClientOptions(tz=tz)
        for _ in range(2):  # computed, then cached
            before = datetime.now(tz).replace(tzinfo=None)
            writes = options.event_writes("ev", 1, None, 1, track_hourly=True, track_unique=False)
            after = datetime.now(tz).replace(tzinfo=None)
            keys = [key for key, _, _ in writes]
            assert keys in (_expected_keys(before)[:4], _expected_keys(after)[:4])


def test_a_mark_is_a_sequence_of_its_writes() -> None:
    writes = MarkWrites(("a", "b", "c"), 7, 1)
    spelled = [("a", 7, 1), ("b", 7, 1), ("c", 7, 1)]
    assert len(writes) == 3
    assert list(writes) == spelled
    assert writes == spelled
    assert writes == tuple(spelled)
    assert writes != spelled[:2]
    assert writes[0] == ("a", 7, 1)
    assert writes[-1] == ("c", 7, 1)
    assert writes[1:] == spelled[1:]
    assert writes == MarkWrites(("a", "b", "c"), 7, 1)
    assert writes != MarkWrites(("a", "b", "c"), 7, 0)
    with pytest.raises(IndexError):
        writes[3]
    with pytest.raises(TypeError):
        hash(writes)


def test_marks_now_share_one_keys_tuple_per_name() -> None:
    options = ClientOptions()
    first = options.event_writes("ev", 1, None, 1, track_hourly=None, track_unique=None)
    second = options.event_writes("ev", 2, None, 0, track_hourly=None, track_unique=None)
    other = options.event_writes("other", 2, None, 1, track_hourly=None, track_unique=None)
    assert isinstance(first, MarkWrites)
    assert isinstance(second, MarkWrites)
    assert isinstance(other, MarkWrites)
    if first.keys == second.keys:  # not across midnight
        assert second.keys is first.keys  # what lets the batcher queue bare offsets
    assert (second.offset, second.value) == (2, 0)
    assert other.keys != first.keys
    assert [key.rsplit("_", 1)[0] for key in other.keys] == ["trackist_other"] * 3


@pytest.mark.parametrize(
    ("name", "uid", "flags", "error", "shown"),
    [
        (["ev"], 1, {}, TypeError, "['ev']"),  # unhashable: still a TypeError naming it
        (b"ev", 1, {}, TypeError, "b'ev'"),
        ("", 1, {}, ValueError, "''"),
        ("ev", True, {}, TypeError, "True"),
        ("ev", 2**32, {}, ValueError, str(2**32)),
        ("ev", -1, {}, ValueError, "-1"),
        ("ev", 1, {"track_hourly": 1}, TypeError, "1"),
        ("ev", 1, {"track_unique": "yes"}, TypeError, "'yes'"),
    ],
)
def test_bad_marks_fail_before_and_after_the_cache_is_warm(
    name: object, uid: object, flags: dict[str, object], error: type, shown: str
) -> None:
    options = ClientOptions()
    kwargs: dict[str, Any] = {"track_hourly": None, "track_unique": None, **flags}
    for _ in range(2):
        with pytest.raises(error, match=re.escape(shown)):
            options.event_writes(name, uid, None, 1, **kwargs)
        options.event_writes("ev", 1, None, 1, track_hourly=None, track_unique=None)


def test_the_keys_cache_is_bounded() -> None:
    options = ClientOptions()
    for i in range(5_000):
        options.event_writes(f"ev{i}", 1, None, 1, track_hourly=None, track_unique=None)
    assert 0 < len(options._mark_keys) <= 4096
