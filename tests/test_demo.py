"""The main job: ``bitmapist-async demo`` on the embedded default and on Redis."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from bitmapist_async._cli import main
from bitmapist_async._cli.demo import synthetic_stream

START = date(2026, 10, 5)


def _expected_daily(users: int, weeks: int) -> dict[str, int]:
    active: dict[str, set[int]] = defaultdict(set)
    for mark in synthetic_stream(users, weeks, START):
        if mark.event == "active":
            active[mark.when.date().isoformat()].add(mark.uid)
    return {day: len(ids) for day, ids in active.items()}


@pytest.mark.parametrize("backend", ["embedded", "redis"])
def test_demo_answers_match_the_stream(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    users, weeks = 400, 3
    html = tmp_path / "cohort.html"
    args = ["demo", "--users", str(users), "--weeks", str(weeks), "--html", str(html)]
    if backend == "redis":
        args += ["--store", request.getfixturevalue("redis_url")]
    else:
        args += ["--store", f"file://{tmp_path}/demo.db"]
    assert main(args) == 0
    out = capsys.readouterr().out
    marks = sum(1 for _ in synthetic_stream(users, weeks, START))
    assert f"Marked {marks:,} events for {users:,} users" in out
    expected = _expected_daily(users, weeks)
    last = START + timedelta(days=weeks * 7 - 1)
    for n in range(7):
        day = (last - timedelta(days=n)).isoformat()
        assert re.search(rf"^{day}\s+{expected.get(day, 0)}$", out, re.M), day
    assert "Cohort: of the users who signed up in week N" in out
    assert re.search(r"^\s+2026-W41\s+\d+\s+100\.0%", out, re.M)
    page = html.read_text()
    assert "<table" in page
    assert "signup" in page
    # a static report: the dashboard's charts, no form that would need a server
    assert "<form" not in page
    assert "<input" not in page
    days = weeks * 7
    for series in ("daily", "WAU (7 days)", "MAU (30 days)"):
        group = page.split(f'data-series="{series}"', 1)[1].split("</g>", 1)[0]
        assert group.count('class="bm-point"') == days
    daily = page.split('data-series="daily"', 1)[1].split("</g>", 1)[0]
    shown = dict(re.findall(r'data-period="([^"]*)" data-value="([\d.]+)"', daily))
    assert {d: int(float(v)) for d, v in shown.items() if v != "0.0"} == expected
    assert re.findall(r'class="bm-bar" data-step="([^"]*)"', page) == [
        "signup",
        "active",
        "purchase",
    ]
    assert 'id="bm-retention-curve"' in page
    assert '<tr data-event="active">' in page
