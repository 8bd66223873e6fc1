"""The dashboard's pages, CSV and JSON API, called in-process on Redis and on the embedded
store: no parameter gets a 5xx, a request over its cost is refused before it reaches the store,
temporary keys are gone when a request ends, CSV cells are formula-safe, the pages show the
API's numbers, and event names are only ever text."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitmapist_async import Bitmapist
from bitmapist_async.cohort.asgi import CohortApp

from .asgi_driver import call_asgi
from .silent import SilentServer

FIRST = date(2026, 9, 7)  # a Monday
DAYS = 42
XSS = "<script>alert(1)</script>"
FORMULA = "x\r=cmd|' /C calc'!A0"
EVENTS = ("active", "signup", "buy", XSS, FORMULA, "\t=1+1", "-2+3", "a\nb")
ROUTES = (
    "/",
    "/trends",
    "/retention",
    "/funnel",
    "/overview.csv",
    "/trends.csv",
    "/cohort.csv",
    "/funnel.csv",
    "/api/trend",
    "/api/rolling",
    "/api/funnel",
    "/api/cohort",
)
NOW = datetime(2026, 10, 20, 12, tzinfo=timezone.utc)


async def _fill(bm: Bitmapist) -> None:
    writes: list[tuple[str, int, int]] = []
    for uid in range(60):
        for day in range(uid % 5, DAYS, 1 + uid % 4):
            when = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=timezone.utc)
            when += timedelta(days=day)
            for k, event in enumerate(EVENTS):
                if k == 0 or (uid + day + k) % (k + 1) == 0:
                    writes += bm.options.event_writes(
                        event, uid, when, 1, track_hourly=False, track_unique=False
                    )
    await bm.storage.write_bits(writes)


@pytest.fixture(params=["redis", "embedded"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bitmapist]:
    url = (
        request.getfixturevalue("redis_url")
        if request.param == "redis"
        else (f"file:{tmp_path / 'dash.db'}")
    )
    async with Bitmapist(url) as bm:
        await _fill(bm)
        yield bm


async def _temp_keys(bm: Bitmapist) -> list[str]:
    return await bm.storage.scan(bm.options.scheme.bitop_pattern())


def _q(**params: object) -> bytes:
    return urlencode({k: str(v) for k, v in params.items()}).encode()


TREND = _q(event="active", start=FIRST, end=FIRST + timedelta(days=DAYS - 1))
FUNNEL = _q(
    step1="signup",
    step2="active",
    step3="buy",
    start=FIRST,
    end=FIRST + timedelta(days=27),
    within=1,
)
COHORT = _q(
    select1="signup",
    select2="active",
    select2b="buy",
    start_date=FIRST,
    num_results=5,
    num_of_rows=3,
    as_percent=0,
)
OVERVIEW = _q(end=FIRST + timedelta(days=DAYS - 1), top=20)

# -- no parameter gets a 5xx -----------------------------------------------------------------

_NAMES = [
    "event",
    "also",
    "unit",
    "start",
    "end",
    "window",
    "step1",
    "step2",
    "step3",
    "within",
    "top",
    "select1",
    "select1b",
    "select2",
    "select2b",
    "time_group",
    "retention",
    "as_percent",
    "num_results",
    "num_of_rows",
    "start_date",
    "colour",
]
_VALUES = st.one_of(
    st.sampled_from(
        [
            "active",
            "signup",
            XSS,
            "nope",
            "",
            "days",
            "weeks",
            "months",
            "years",
            "hours",
            "classic",
            "unbounded",
            "0",
            "1",
            "-1",
            "5000",
            "99999999999",
            "0001-01-01",
            "0001-01-02",
            "9999-12-31",
            "9999-12-01",
            "2026-02-30",
            "2026-09-07",
            "2026-10-18",
            "1e3",
            " 7",
            "٣",
        ]
    ),
    st.dates().map(date.isoformat),
    st.integers(-10, 20_000).map(str),
    st.text(max_size=6),
)
_QUERIES = st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(ROUTES), params=_QUERIES)
async def test_no_parameter_gets_a_5xx(
    store: Bitmapist, route: str, params: dict[str, str]
) -> None:
    app = CohortApp(store, max_bytes=4 * 1024 * 1024)
    response = await call_asgi(app, route, urlencode(params).encode())
    assert response.status in (200, 400, 413), (route, params, response.text[:2000])
    if response.status != 200:
        body = json.loads(response.text)["error"] if route.startswith("/api") else response.text
        assert body.strip()
    if response.headers["content-type"].startswith("text/html"):
        assert XSS not in response.text
    assert await _temp_keys(store) == []


# -- resource bounds -------------------------------------------------------------------------


async def test_a_request_over_its_cost_is_refused_before_the_store(
    redis_url: str, admin: redis.Redis
) -> None:
    """The issue's request: a 1 x 20,000 table within max_cells on 250 KB bitmaps. It is
    refused (413, naming the limit) and the store sees no BITOP and keeps no new key."""
    async with Bitmapist(redis_url) as bm:
        day = datetime(2026, 3, 2, tzinfo=timezone.utc)
        await bm.mark_event("active", 2_000_000, now=day)  # ids up to 2M: 250 KB bitmaps
        await bm.mark_event("active", 1, now=day)
        app = CohortApp(bm)
        before = set(admin.keys("*"))
        used = admin.info("memory")["used_memory"]
        query = _q(
            select1="active",
            select2="active",
            num_results=1,
            num_of_rows=19_999,
            start_date="2026-03-02",
        )
        for route in ("/retention", "/cohort.csv", "/api/cohort"):
            response = await call_asgi(app, route, query)
            assert response.status == 413, response.text[:500]
            assert "max_bytes" in response.text
            assert "512.0 MiB" in response.text
        assert set(admin.keys("*")) == before
        assert admin.info("memory")["used_memory"] < used + 10_000_000
        small = await call_asgi(app, "/api/cohort", query.replace(b"19999", b"3"))
        assert small.status == 200, small.text
        assert json.loads(small.text)["rows"][0]["size"] == 2
        tight = CohortApp(bm, max_bytes=1024 * 1024)
        trend = await call_asgi(
            tight, "/api/trend", _q(event="active", start="2026-03-01", end="2026-03-31")
        )
        assert trend.status == 413  # 31 days x 250 KB = 7.6 MiB > 1 MiB
        assert "1.0 MiB per request (max_bytes)" in json.loads(trend.text)["error"]


async def test_every_request_deletes_its_temporary_keys(store: Bitmapist) -> None:
    app = CohortApp(store)
    queries = {
        "/retention": COHORT,
        "/api/cohort": COHORT.replace(b"as_percent=0", b"retention=unbounded"),
        "/trends": TREND + b"&also=buy",
        "/api/rolling": TREND + b"&also=signup&window=7",
        "/funnel": FUNNEL,
        "/": OVERVIEW,
    }
    for route, query in queries.items():
        response = await call_asgi(app, route, query)
        assert response.status == 200, (route, response.text[:500])
        assert await _temp_keys(store) == [], route


# -- CSV -------------------------------------------------------------------------------------

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _safe_rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(_DANGEROUS), (cell, text)
    return rows


def _shown(name: str) -> str:
    return "'" + name if name.startswith(_DANGEROUS) else name


async def test_csv_is_formula_safe_for_every_cell(store: Bitmapist) -> None:
    app = CohortApp(store)
    end = (FIRST + timedelta(days=DAYS - 1)).isoformat()
    overview = await call_asgi(app, "/overview.csv", OVERVIEW)
    rows = _safe_rows(overview.text)
    # the cell with CR is quoted, so it stays one cell starting with "x" (it was unquoted)
    assert {r[0] for r in rows[3:]} >= {FORMULA, "'\t=1+1", "'-2+3", "a\nb", XSS}
    assert "\"x\r=cmd|' /C calc'!A0\"" in overview.text
    for name in (FORMULA, "\t=1+1", "-2+3", "a\nb"):
        trend = await call_asgi(app, "/trends.csv", _q(event=name, start=FIRST, end=end))
        assert trend.status == 200
        assert len(_safe_rows(trend.text)) == 1 + DAYS
        funnel = await call_asgi(
            app, "/funnel.csv", _q(step1=name, step2=FORMULA, start=FIRST, end=end, within=0)
        )
        head = _safe_rows(funnel.text)[0]
        assert head[1:] == [_shown(name), FORMULA]
        table = await call_asgi(
            app, "/cohort.csv", _q(select1=name, select2=FORMULA, start_date=FIRST, num_results=3)
        )
        cohort_rows = _safe_rows(table.text)
        assert cohort_rows[0][1] == _shown(name)
        assert len(cohort_rows) == 8 + 1 + 3


# -- pages show the API's numbers ------------------------------------------------------------


def _points(page: str, series: str) -> list[tuple[str, float]]:
    group = page.split(f'data-series="{series}"', 1)[1].split("</g>", 1)[0]
    found = re.findall(r'data-period="([^"]*)" data-value="([^"]*)"', group)
    return [(label, float(value)) for label, value in found]


async def test_trend_page_shows_the_api_numbers(store: Bitmapist) -> None:
    app = CohortApp(store)
    page = await call_asgi(app, "/trends", TREND)
    assert page.status == 200
    api = json.loads((await call_asgi(app, "/api/trend", TREND)).text)
    assert [(p["period"], p["count"]) for p in api["points"]] == _points(page.text, "daily")
    assert len(api["points"]) == DAYS
    for window, name in ((7, "WAU (7 days)"), (30, "MAU (30 days)")):
        rolling = json.loads(
            (await call_asgi(app, "/api/rolling", TREND + f"&window={window}".encode())).text
        )
        assert [(p["period"], p["count"]) for p in rolling["points"]] == _points(page.text, name)
    direct = await store.trend("active", "days", FIRST, FIRST + timedelta(days=DAYS - 1))
    assert [c for _, c in direct] == [p["count"] for p in api["points"]]
    assert len(set(c for _, c in direct)) > 1


async def test_funnel_page_shows_the_api_numbers(store: Bitmapist) -> None:
    app = CohortApp(store)
    page = await call_asgi(app, "/funnel", FUNNEL)
    assert page.status == 200, page.text[:500]
    api = json.loads((await call_asgi(app, "/api/funnel", FUNNEL)).text)
    bars = re.findall(r'class="bm-bar" data-step="([^"]*)" data-value="(\d+)"', page.text)
    assert bars == [(s, str(t)) for s, t in zip(api["steps"], api["totals"], strict=True)]
    assert len(api["cohorts"]) == 4
    direct = await store.funnel(
        ["signup", "active", "buy"], "weeks", FIRST, FIRST + timedelta(days=27), 1
    )
    assert direct.totals == api["totals"]
    assert api["totals"][0] > api["totals"][2] > 0


async def test_retention_page_shows_table_and_curve(store: Bitmapist) -> None:
    app = CohortApp(store)
    page = await call_asgi(app, "/retention", COHORT)
    assert page.status == 200
    api = json.loads((await call_asgi(app, "/api/cohort", COHORT)).text)
    curve = _points(page.text, "average retention")
    assert [label for label, _ in curve] == ["0", "1", "2", "3"]
    table = await store.cohort(
        "signup",
        "active",
        select2b="buy",
        start_date=FIRST,
        num_results=5,
        num_of_rows=3,
        as_percent=False,
    )
    assert [r["size"] for r in api["rows"]] == [r[1] for r in table.rows]
    assert api["rows"][0]["values"] == [None if v == "" else v for v in table.rows[0][2:]]
    assert api["retention_curve"] == [v for _, v in curve]


async def test_overview_lists_dau_wau_mau(store: Bitmapist) -> None:
    app = CohortApp(store)
    page = await call_asgi(app, "/", OVERVIEW)
    assert page.status == 200
    end = FIRST + timedelta(days=DAYS - 1)
    row = re.search(r'<tr data-event="active">.*?</tr>', page.text)
    assert row is not None
    cells = re.findall(r'class="(dau|wau|mau)">(\d+)<', row.group(0))
    dau = await store.DayEvents("active", end.year, end.month, end.day).count()
    wau = await store.RangeEvents("active", end - timedelta(days=6), end).count()
    mau = await store.RangeEvents("active", end - timedelta(days=29), end).count()
    assert cells == [("dau", str(dau)), ("wau", str(wau)), ("mau", str(mau))]
    assert 0 < dau < wau <= mau


async def test_event_names_are_only_text(store: Bitmapist) -> None:
    app = CohortApp(store)
    queries = {
        "/": OVERVIEW,
        "/trends": _q(event=XSS, start=FIRST, end=FIRST + timedelta(days=9)),
        "/retention": _q(select1=XSS, select2=XSS, start_date=FIRST, num_results=3),
        "/funnel": _q(step1=XSS, step2="active", start=FIRST, end=FIRST + timedelta(days=13)),
        "/api/trend": _q(event=XSS, start=FIRST, end=FIRST + timedelta(days=2)),
    }
    for route, query in queries.items():
        response = await call_asgi(app, route, query)
        assert response.status == 200, route
        assert XSS not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text or route.startswith("/api")
    bad = await call_asgi(app, "/trends", _q(event=XSS + "x"))
    assert bad.status == 400
    assert "<script>alert" not in bad.text


async def test_a_store_that_does_not_answer_is_a_503_after_the_deadline() -> None:
    with SilentServer() as silent:
        async with Bitmapist(silent.url, timeout=0.5) as bm:
            app = CohortApp(bm, names_ttl=0)
            for route in ("/api/trend", "/trends"):
                began = time.monotonic()
                response = await call_asgi(app, route, TREND)
                elapsed = time.monotonic() - began
                assert response.status == 503
                assert "The store is unavailable" in response.text
                assert 0.4 < elapsed < 3.0, elapsed
