"""End to end: headless Chromium (Debian's ``chromium``) drives ``bitmapist-async dashboard``
on 127.0.0.1: it filters and picks events among hundreds, submits, and reads table cells equal
to the values computed from a model of Python sets. The event named
``<img src=x onerror=alert(1)>`` shows as text and runs nothing (no dialog, no ``<img>``).

The charts test opens every page with an event named ``<script>alert(1)</script>``: each
chart has one point per period, the values shown equal the JSON API's, and nothing runs or logs
an error. ``scripts/dashboard_screenshots.py`` regenerates the documentation's screenshots (with
ordinary event names).
"""

from __future__ import annotations

import json
import os
import random
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from bitmapist_async.sync import Bitmapist

from .cohort_data import EventModel, Mark, when
from .dashboard_server import running_dashboard
from .servers import RedisProcess, redis_server_binary

CHROMIUM = os.environ.get("BITMAPIST_CHROMIUM", "/usr/bin/chromium")
XSS = "<img src=x onerror=alert(1)>"
DAY0 = date(2026, 3, 2)
ROWS, OFFSETS = 10, 8
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BITMAPIST_CHROMIUM)",
)


@contextmanager
def _watched_page(
    sync_api: Any, tmp_path: Path, viewport: dict[str, int]
) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page of a fresh headless Chromium, with the dialogs it opened and the errors it
    logged (console errors and uncaught exceptions) recorded."""
    dialogs: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport=viewport,
        )
        try:
            page = context.new_page()

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            def on_console(message: Any) -> None:
                if message.type == "error":
                    errors.append(message.text)

            page.on("dialog", on_dialog)
            page.on("console", on_console)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, dialogs, errors
        finally:
            context.close()


def _marks() -> list[Mark]:
    """Signups over the first days (two in three from a campaign, the XSS-named event), then
    activity that decays with the days since signup; plus hundreds of other event names."""
    rng = random.Random(21)
    marks = []
    for uid in range(600):
        signup = uid % ROWS
        marks.append(Mark("signup", uid, DAY0 + timedelta(days=signup)))
        if uid % 3:
            marks.append(Mark(XSS, uid, DAY0 + timedelta(days=signup)))
        stickiness = rng.uniform(0.3, 1.0)
        for age in range(ROWS + OFFSETS):
            if age == 0 or rng.random() < stickiness * 0.85**age:
                marks.append(Mark("active", uid, DAY0 + timedelta(days=signup + age)))
    marks += [Mark(f"feature:{n:04d}", n, DAY0) for n in range(300)]
    return marks


def _expected(model: EventModel) -> list[list[str]]:
    rows = []
    for r in range(ROWS):
        day = DAY0 + timedelta(days=r)
        cohort = model.users("signup", day, day + timedelta(1)) & model.users(
            XSS, day, day + timedelta(1)
        )
        row = [day.isoformat(), str(len(cohort))]
        for k in range(OFFSETS + 1):
            later = day + timedelta(days=k)
            back = model.users("active", later, later + timedelta(1))
            if not cohort or not back:
                row.append("")
            else:
                row.append(f"{100.0 * len(cohort & back) / len(cohort):.1f}%")
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def store() -> Iterator[tuple[str, EventModel]]:
    # A server of its own: the session server's MONITOR cannot split keys with spaces.
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server not found")
    server = RedisProcess(binary).start()
    marks = _marks()
    with Bitmapist(server.url) as bm:
        writes: list[tuple[str, int, int]] = []
        for m in marks:
            writes += bm.options.event_writes(
                m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
            )
        bm.storage.write_bits(writes)
    yield server.url, EventModel().add(marks)
    server.stop()


def test_browser_picks_events_and_reads_the_table(
    store: tuple[str, EventModel], tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, model = store
    expected = _expected(model)
    assert any(c not in ("", "0.0%") for row in expected for c in row[2:])
    with (
        running_dashboard(url) as base,
        _watched_page(sync_api, tmp_path, {"width": 1100, "height": 800}) as (
            page,
            dialogs,
            errors,
        ),
    ):
        page.goto(base + "/retention", wait_until="load")

        # Hundreds of names: the filter box narrows each select (the inline script runs).
        assert page.locator("#bm-select1 option").count() == 300 + 3
        page.fill("input[data-for=bm-select1]", "sign")
        assert page.locator("#bm-select1 option:not([hidden])").all_inner_texts() == ["signup"]
        assert page.input_value("#bm-select1") == "signup"
        assert page.inner_text("#bm-select1-matches") == "1 match"
        page.fill("input[data-for=bm-select1b]", "onerror")
        page.select_option("#bm-select1b", XSS)
        page.fill("input[data-for=bm-select2]", "activ")
        page.select_option("#bm-select2", "active")
        page.select_option("select[name=time_group]", "days")
        page.select_option("select[name=as_percent]", "1")
        page.fill("input[name=num_results]", str(ROWS))
        page.fill("input[name=num_of_rows]", str(OFFSETS))
        page.fill("input[name=start_date]", DAY0.isoformat())
        with page.expect_navigation(wait_until="load"):
            page.click("button[type=submit]")

        table = page.locator("#bm-cohort-table")
        shown = [
            [
                tr.locator("th").inner_text().strip(),
                *[td.inner_text().strip() for td in tr.locator("td").all()],
            ]
            for tr in table.locator("tbody tr").all()
        ]
        assert shown == expected
        assert XSS in table.locator("caption").inner_text()
        assert page.input_value("#bm-select1b") == XSS
        assert page.locator("img").count() == 0
        page.evaluate("() => new Promise(requestAnimationFrame)")  # one more frame
        shot = tmp_path / "cohort-dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
    assert dialogs == []
    assert errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_store_has_the_xss_event(store: tuple[str, EventModel]) -> None:
    url, _ = store
    client = redis.Redis.from_url(url, protocol=2)
    try:
        assert client.exists(f"trackist_{XSS}_2026-3-2")
    finally:
        client.close()


SCRIPT = "<script>alert(1)</script>"
CHART_DAY0 = date(2026, 9, 7)  # a Monday
CHART_DAYS = 35
Q_SCRIPT = "%3Cscript%3Ealert(1)%3C%2Fscript%3E"


@pytest.fixture(scope="module")
def chart_store() -> Iterator[str]:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server not found")
    server = RedisProcess(binary).start()
    rng = random.Random(5)
    marks = []
    for uid in range(300):
        first = uid % 14
        marks.append(Mark("signup", uid, CHART_DAY0 + timedelta(days=first)))
        for day in range(first, CHART_DAYS):
            if day == first or rng.random() < 0.5 * 0.95 ** (day - first):
                marks.append(Mark("active", uid, CHART_DAY0 + timedelta(days=day)))
                if uid % 2:
                    marks.append(Mark(SCRIPT, uid, CHART_DAY0 + timedelta(days=day)))
                if rng.random() < 0.1:
                    marks.append(Mark("purchase", uid, CHART_DAY0 + timedelta(days=day)))
    with Bitmapist(server.url) as bm:
        writes: list[tuple[str, int, int]] = []
        for m in marks:
            writes += bm.options.event_writes(
                m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
            )
        bm.storage.write_bits(writes)
    yield server.url
    server.stop()


def _api(base: str, path: str) -> Any:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.loads(response.read())


def _series(api: Any) -> list[tuple[str, int]]:
    return [(p["period"], p["count"]) for p in api["points"]]


def test_browser_renders_every_page_with_the_apis_values(chart_store: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    end = CHART_DAY0 + timedelta(days=CHART_DAYS - 1)
    trend_q = f"event={Q_SCRIPT}&start={CHART_DAY0}&end={end}"
    last_q = f"event={Q_SCRIPT}&start={end}&end={end}"
    funnel_q = f"step1=signup&step2={Q_SCRIPT}&step3=purchase&start={CHART_DAY0}&end={end}&within=1"
    cohort_q = (
        f"select1=signup&select2={Q_SCRIPT}&start_date={CHART_DAY0}&num_results=14&num_of_rows=7"
    )
    with (
        running_dashboard(chart_store) as base,
        _watched_page(sync_api, tmp_path, {"width": 1100, "height": 900}) as (
            page,
            dialogs,
            errors,
        ),
    ):

        def points(chart: str, series: str) -> list[tuple[str, int]]:
            found = page.locator(f"#{chart} g.bm-series[data-series='{series}'] .bm-point")
            out = []
            for circle in found.all():
                value = float(circle.get_attribute("data-value") or "nan")
                out.append((circle.get_attribute("data-period") or "", round(value)))
            return out

        # overview: DAU, WAU, MAU of the script-named event, as the API counts them
        page.goto(f"{base}/?end={end}", wait_until="load")
        row = page.locator("#bm-overview tbody tr", has_text=SCRIPT)
        assert row.count() == 1
        expected = [
            str(_api(base, f"/api/trend?{last_q}")["points"][0]["count"]),
            str(_api(base, f"/api/rolling?{last_q}&window=7")["points"][0]["count"]),
            str(_api(base, f"/api/rolling?{last_q}&window=30")["points"][0]["count"]),
        ]
        shown = [row.locator(f"td.{k}").inner_text() for k in ("dau", "wau", "mau")]
        assert shown == expected

        # trends: one point per day on each line, equal to /api/trend and /api/rolling
        page.goto(f"{base}/trends?{trend_q}", wait_until="load")
        daily = points("bm-trend-chart", "daily")
        assert len(daily) == CHART_DAYS
        assert daily == _series(_api(base, f"/api/trend?{trend_q}"))
        assert len({v for _, v in daily}) > 3
        for window, name in ((7, "WAU (7 days)"), (30, "MAU (30 days)")):
            rolling = _api(base, f"/api/rolling?{trend_q}&window={window}")
            assert points("bm-trend-chart", name) == _series(rolling)
        first = page.locator("#bm-trend-chart .bm-point").first
        assert first.locator("title").text_content() == f"{daily[0][0]} · daily: {daily[0][1]}"
        assert SCRIPT in page.locator("h1").inner_text()

        # retention: the table, and one curve point per offset equal to /api/cohort's
        page.goto(f"{base}/retention?{cohort_q}", wait_until="load")
        cohort = _api(base, f"/api/cohort?{cohort_q}")
        sizes = page.locator("#bm-cohort-table td.size").all_inner_texts()
        assert sizes == [str(r["size"]) for r in cohort["rows"]]
        assert len(sizes) == 14
        curve = points("bm-retention-curve", "average retention")
        assert [label for label, _ in curve] == [str(k) for k in range(8)]
        assert [v for _, v in curve] == [round(v) for v in cohort["retention_curve"]]

        # funnel: one bar per step with the API's totals, one row per weekly cohort
        page.goto(f"{base}/funnel?{funnel_q}", wait_until="load")
        funnel = _api(base, f"/api/funnel?{funnel_q}")
        bars = page.locator("#bm-funnel-chart g.bm-bar").all()
        assert [b.get_attribute("data-value") for b in bars] == [str(t) for t in funnel["totals"]]
        assert [b.get_attribute("data-step") for b in bars] == ["signup", SCRIPT, "purchase"]
        assert page.locator("#bm-funnel-table tbody tr").count() == len(funnel["cohorts"])
        assert len(funnel["cohorts"]) == 5
        assert funnel["totals"][0] > funnel["totals"][1] > funnel["totals"][2] > 0

        # the name is text everywhere: the page's own script is the only one
        for path in (f"/?end={end}", f"/trends?{trend_q}", f"/funnel?{funnel_q}",
                     f"/retention?{cohort_q}"):  # fmt: skip
            page.goto(base + path, wait_until="load")
            assert page.locator("script").count() == 1
            assert page.locator("body").inner_text().count(SCRIPT) >= 1
    assert dialogs == []
    assert errors == []
