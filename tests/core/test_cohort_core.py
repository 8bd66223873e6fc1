"""The I/O-free half of cohort tables: queries, layouts (bitmapist's quirks), plans, cells."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from bitmapist_async._core.cohort import (
    CohortQuery,
    CohortTable,
    bitmapist_layout,
    column_averages,
    native_layout,
)
from bitmapist_async._core.cohort_local import count_cells, have_bitwise_count, plan_local
from bitmapist_async._core.cohort_plan import cell_value, plan_table
from bitmapist_async._core.keys import KeyScheme
from bitmapist_async._core.periods import DayPeriod, MonthPeriod, WeekPeriod, YearPeriod
from bitmapist_async._core.plan import Leaf, make_op

UTC = timezone.utc
SCHEME = KeyScheme()


def test_query_defaults_and_normalisation() -> None:
    q = CohortQuery("active", "song:play", select1b="", start_date="2026-11-03")
    assert (q.time_group, q.as_percent, q.num_results, q.num_of_rows) == ("days", True, 31, 12)
    assert q.select1b is None
    assert q.start_date == date(2026, 11, 3)
    assert CohortQuery("a", "b", time_group="years").num_results == 3
    assert CohortQuery("a", "b", time_group="years", num_results=5).num_results == 5
    assert CohortQuery("a", "b", start_date=datetime(2026, 1, 2, 23)).start_date == date(2026, 1, 2)
    assert q.cells == 31 * 13


def test_query_params_round_trip() -> None:
    q = CohortQuery("a", "b", "c", None, "weeks", False, 8, 4, date(2026, 2, 1), "unbounded")
    assert CohortQuery.from_params(q.to_params()) == q
    assert CohortQuery(**q.as_kwargs()) == q
    assert q.describe() == "a & c, then b (weeks, unbounded, counts)"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"select2": "b"}, "select1 is required"),
        ({"select1": "a", "select2": "b", "bogus": "1"}, "unknown parameter 'bogus'"),
        ({"select1": "a", "select2": "b", "num_results": "ten"}, "num_results must be a whole"),
        ({"select1": "a", "select2": "b", "num_results": "-1"}, "num_results must be a whole"),
        ({"select1": "a", "select2": "b", "num_results": "0"}, "num_results must be at least 1"),
        ({"select1": "a", "select2": "b", "as_percent": "maybe"}, "as_percent must be 1 or 0"),
        ({"select1": "a", "select2": "b", "time_group": "hours"}, "time_group must be one of"),
        ({"select1": "a", "select2": "b", "start_date": "2026-02-30"}, "start_date must be"),
        ({"select1": "a", "select2": "b", "start_date": "yesterday"}, "start_date must be"),
        ({"select1": "bitop_x", "select2": "b"}, "select1: event name must not start"),
    ],
)
def test_from_params_messages(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CohortQuery.from_params(params)


def test_native_layout() -> None:
    now = datetime(2026, 1, 2, 15, 30)
    q = CohortQuery("a", "b", time_group="weeks", num_results=3)
    layout = native_layout(q, now, UTC)
    assert layout.first == WeekPeriod(2025, 51)
    assert layout.labels == (
        datetime(2025, 12, 15, tzinfo=UTC),
        datetime(2025, 12, 22, tzinfo=UTC),
        datetime(2025, 12, 29, tzinfo=UTC),
    )
    assert layout.periods(2)[-1] == WeekPeriod(2026, 3)
    started = native_layout(
        CohortQuery("a", "b", time_group="months", start_date="2025-11-30"), now, UTC
    )
    assert started.first == MonthPeriod(2025, 11)


def test_bitmapist_layout_keeps_its_quirks() -> None:
    now = datetime(2026, 3, 31, 10, 11, 12, 13, tzinfo=UTC)
    days = bitmapist_layout("days", 3, None, now)
    assert days.labels == (now - timedelta(days=2), now - timedelta(days=1), now)
    # months: back num_results-1 months (clamped to the month's length), then the 1st.
    months = bitmapist_layout("months", 2, None, now)
    assert months.labels == (datetime(2026, 2, 1, 10, 11, 12, 13, tzinfo=UTC),
                             datetime(2026, 3, 1, 10, 11, 12, 13, tzinfo=UTC))  # fmt: skip
    # start_date: anchored at start_date + num_results - 1 days, then moved back.
    weeks = bitmapist_layout("weeks", 3, "2026-01-01", now)
    assert weeks.labels[0] == datetime(2025, 12, 20, tzinfo=UTC)
    assert weeks.first == WeekPeriod(2025, 51)
    # years: always three rows; start_date shifted by the *requested* num_results.
    years = bitmapist_layout("years", 400, "2024-02-29", now)
    assert [label.year for label in years.labels] == [2023, 2024, 2025]
    assert years.first == YearPeriod(2023)
    leap = bitmapist_layout("years", 1, "2024-02-29", now)
    assert leap.labels == (datetime(2022, 2, 28, tzinfo=UTC), datetime(2023, 2, 28, tzinfo=UTC),
                           datetime(2024, 2, 28, tzinfo=UTC))  # fmt: skip
    assert bitmapist_layout("days", 2, "2026-01-31", now).first == DayPeriod(2026, 1, 31)
    with pytest.raises(ValueError, match="time_group"):
        bitmapist_layout("hours", 2, None, now)  # type: ignore[arg-type]


def test_cell_values_follow_bitmapist() -> None:
    assert cell_value(0, 5, 0, True) == ""
    assert cell_value(4, 0, 0, True) == ""
    zero = cell_value(4, 3, 0, False)
    assert zero == 0.0
    assert isinstance(zero, float)
    assert cell_value(3, 3, 1, True) == (1.0 / 3.0) * 100
    count = cell_value(3, 3, 2, False)
    assert count == 2
    assert isinstance(count, int)


def test_plan_table_shape_and_unique_keys() -> None:
    def leaf(name: str, i: int) -> Leaf:
        return Leaf(SCHEME.event_key(name, f"2026-1-{i + 1}"))

    cohorts = [make_op(SCHEME, "AND", [leaf("a", i), leaf("c", i)]) for i in range(3)]
    returns = [leaf("b", i) for i in range(5)]
    plan = plan_table(cohorts, returns, 2, "classic", SCHEME, "tok")
    assert len(plan.steps) == 3 + 3 * 3
    assert len(plan.queries) == 3 + 5 + 9
    assert plan.temp_keys == tuple(f"trackist_bitop_cohort_tok_{n}" for n in range(12))
    assert plan.steps[3].sources == ("trackist_bitop_cohort_tok_0", "trackist_b_2026-1-1")
    unbounded = plan_table(cohorts, returns, 2, "unbounded", SCHEME, "tok")
    assert len(unbounded.steps) == 3 + 4 + 9  # four ORs chain the five periods
    with pytest.raises(ValueError, match="expected 5 return selections"):
        plan_table(cohorts, returns[:4], 2, "classic", SCHEME, "tok")
    with pytest.raises(ValueError, match="at least one row"):
        plan_table([], returns, 2, "classic", SCHEME, "tok")


def test_plan_rows_from_replies() -> None:
    plan = plan_table([Leaf("x")], [Leaf("y"), Leaf("z")], 1, "classic", SCHEME, "t")
    label = datetime(2026, 1, 1, tzinfo=UTC)
    assert plan.rows([4, 2, 0, 1, 0], [label], True) == [[label, 4, 25.0, ""]]
    with pytest.raises(ValueError, match="expected 5 results"):
        plan.rows([1], [label], True)


def test_table_checks_row_width_and_averages() -> None:
    label = datetime(2026, 1, 1, tzinfo=UTC)
    q = CohortQuery("a", "b", num_of_rows=1)
    table = CohortTable([[label, 4, 50.0, ""], [label, 2, 100.0, 0.0]], q)
    assert table.averages == [75.0, 0.0]
    assert column_averages([[label, 0, "", ""]]) == [None, None]
    with pytest.raises(ValueError, match="every row needs 4 items"):
        CohortTable([[label, 4, 50.0]], q)


def _bitmap(ids: set[int]) -> bytes:
    data = bytearray(max(ids) // 8 + 1 if ids else 0)
    for uid in ids:
        data[uid >> 3] |= 0x80 >> (uid & 7)
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(
    sets=st.lists(st.sets(st.integers(0, 300), max_size=40), min_size=3, max_size=7),
    rows=st.integers(1, 3),
    retention=st.sampled_from(["classic", "unbounded"]),
    data=st.data(),
)
def test_local_counts_match_sets_with_and_without_numpy(
    sets: list[set[int]], rows: int, retention: Any, data: st.DataObject
) -> None:
    num_of_rows = len(sets) - rows if len(sets) > rows else 0
    periods = rows + num_of_rows
    cohort_at = [data.draw(st.integers(0, len(sets) - 1)) for _ in range(rows)]
    return_at = [data.draw(st.integers(0, len(sets) - 1)) for _ in range(periods)]
    columns = [sets[i] for i in return_at]
    if retention == "unbounded":
        columns = [set().union(*columns[i:]) for i in range(periods)]
    expected = (
        [len(sets[i]) for i in cohort_at],
        [len(c) for c in columns],
        [[len(sets[i] & columns[r + k]) for k in range(num_of_rows + 1)]
         for r, i in enumerate(cohort_at)],
    )  # fmt: skip
    bitmaps = [_bitmap(s) for s in sets]
    assert count_cells(bitmaps, cohort_at, return_at, num_of_rows, retention, False) == expected
    if have_bitwise_count():
        assert count_cells(bitmaps, cohort_at, return_at, num_of_rows, retention, True) == expected


def test_local_plan_dedupes_bitmaps() -> None:
    a = [Leaf(SCHEME.event_key("a", f"2026-1-{i}")) for i in range(1, 6)]
    both = [make_op(SCHEME, "AND", [a[i], Leaf("trackist_c_u")]) for i in range(3)]
    plan = plan_local(both, a, 2, SCHEME, "tok")
    assert [q.kind for q in plan.queries] == ["get"] * 8
    assert plan.cohort_at == (0, 1, 2)
    assert plan.return_at == (3, 4, 5, 6, 7)
    assert plan.temp_keys == tuple(f"trackist_bitop_cohort_tok_{n}" for n in range(3))
    same = plan_local(a[:3], a, 2, SCHEME, "tok")
    assert same.cohort_at == (0, 1, 2)
    assert same.return_at == (0, 1, 2, 3, 4)
    assert same.steps == ()
