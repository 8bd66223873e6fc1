"""End to end: headless Chromium (Debian's ``chromium``) drives ``bitmapist-async dashboard``
on 127.0.0.1: it filters and picks events among hundreds, submits, and reads table cells equal
to the values computed from a model of Python sets. The event named
``<img src=x onerror=alert(1)>`` shows as text and runs nothing (no dialog, no ``<img>``).

The test saves a screenshot; set ``BITMAPIST_SCREENSHOT_DIR=docs/img`` to refresh the one the
documentation shows.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
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
    dialogs: list[str] = []
    errors: list[str] = []
    with running_dashboard(url) as base, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 800},
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
            page.goto(base + "/", wait_until="load")

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
        finally:
            context.close()
    assert dialogs == []
    assert errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("BITMAPIST_SCREENSHOT_DIR")
    if target:
        shutil.copy(shot, Path(target) / shot.name)


def test_store_has_the_xss_event(store: tuple[str, EventModel]) -> None:
    url, _ = store
    client = redis.Redis.from_url(url, protocol=2)
    try:
        assert client.exists(f"trackist_{XSS}_2026-3-2")
    finally:
        client.close()
