from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import hypothesis.strategies as st
import pytest
from hypothesis import given

from bitmapist_async._core.periods import (
    DayPeriod,
    HourPeriod,
    MonthPeriod,
    WeekPeriod,
    YearPeriod,
    iso_weeks_in_year,
)

DATETIMES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31))


@given(DATETIMES)
def test_every_datetime_lies_inside_its_periods(dt: datetime) -> None:
    for cls in (YearPeriod, MonthPeriod, WeekPeriod, DayPeriod, HourPeriod):
        period = cls.from_datetime(dt)
        assert period.start() <= dt <= period.end()
        assert period.end() < period.next_start()
        assert cls.from_datetime(period.next_start()) == period.delta(1)
        assert cls.from_datetime(period.start() - timedelta(microseconds=1)) == period.delta(-1)


@given(DATETIMES, st.integers(-500, 500))
def test_delta_is_additive(dt: datetime, steps: int) -> None:
    for cls in (MonthPeriod, WeekPeriod, DayPeriod, HourPeriod):
        period = cls.from_datetime(dt)
        assert period.delta(steps).delta(-steps) == period
        assert period.delta(steps) == period.delta(steps // 2).delta(steps - steps // 2)


def test_suffixes_match_bitmapist() -> None:
    dt = datetime(2026, 1, 5, 7)
    assert MonthPeriod.from_datetime(dt).suffix == "2026-1"
    assert WeekPeriod.from_datetime(dt).suffix == "W2026-2"
    assert DayPeriod.from_datetime(dt).suffix == "2026-1-5"
    assert HourPeriod.from_datetime(dt).suffix == "2026-1-5-7"


def test_iso_weeks() -> None:
    assert WeekPeriod.from_datetime(datetime(2024, 12, 30)) == WeekPeriod(2025, 1)
    assert WeekPeriod.from_datetime(datetime(2027, 1, 1)) == WeekPeriod(2026, 53)
    assert WeekPeriod(2026, 53).next_start() == datetime(2027, 1, 4)
    assert iso_weeks_in_year(2026) == 53
    assert iso_weeks_in_year(2025) == 52
    assert WeekPeriod(2020, 53).delta(1) == WeekPeriod(2021, 1)
    assert WeekPeriod(2026, 1).start() == datetime(2025, 12, 29)
    assert WeekPeriod(2026, 1).end() == datetime(2026, 1, 4, 23, 59, 59, 999999)


def test_month_and_year_bounds() -> None:
    assert MonthPeriod(2024, 2).end() == datetime(2024, 2, 29, 23, 59, 59, 999999)
    assert MonthPeriod(2026, 12).delta(1) == MonthPeriod(2027, 1)
    assert MonthPeriod(2026, 1).delta(-1) == MonthPeriod(2025, 12)
    assert YearPeriod(2026).months()[0] == MonthPeriod(2026, 1)
    assert len(YearPeriod(2026).months()) == 12
    assert YearPeriod(2026).end() == datetime(2026, 12, 31, 23, 59, 59, 999999)
    assert DayPeriod(2026, 3, 1).delta(-1) == DayPeriod(2026, 2, 28)
    assert date(2026, 3, 1) == DayPeriod(2026, 3, 1).start().date()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MonthPeriod(2026, 13), "month month must be in [1, 12], got 13"),
        (lambda: WeekPeriod(2026, 54), "week week must be in [1, 53], got 54"),
        (lambda: WeekPeriod(2025, 53), "week week must be in [1, 52], got 53"),
        (lambda: WeekPeriod(2025, 0), "got 0"),
        (lambda: DayPeriod(2025, 2, 29), "day day must be in [1, 28], got 29"),
        (lambda: HourPeriod(2025, 1, 1, 24), "hour hour must be in [0, 23], got 24"),
        (lambda: YearPeriod(10000), "got 10000"),
    ],
)
def test_impossible_periods(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make()  # type: ignore[operator]


def test_field_types() -> None:
    with pytest.raises(TypeError, match="True"):
        MonthPeriod(2026, True)
    with pytest.raises(TypeError, match="'1'"):
        DayPeriod(2026, 1, "1")  # type: ignore[arg-type]
