"""The ASGI dashboard, called in-process on a real Redis: pages, CSV, 400s with messages,
security headers, mounting in Starlette."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import redis
from starlette.applications import Starlette
from starlette.routing import Mount

from bitmapist_async import Bitmapist, Expression
from bitmapist_async.cohort import CohortQuery, render_csv
from bitmapist_async.cohort.asgi import CohortApp

from .asgi_driver import call_asgi
from .cohort_data import synthetic_marks, when
from .servers import RedisProcess, free_port, redis_server_binary

FIRST = date(2026, 3, 2)
XSS = "<img src=x onerror=alert(1)>"


async def _fill(bm: Bitmapist, events: tuple[str, ...] = ("active", "web", "ios")) -> None:
    writes: list[tuple[str, int, int]] = []
    for m in synthetic_marks(FIRST, 20, 30, seed=11, events=events):
        writes += bm.options.event_writes(
            m.event, m.uid, when(m.day), 1, track_hourly=False, track_unique=False
        )
    await bm.storage.write_bits(writes)


def web_or_ios(name: str, cls: Any, args: tuple[int, ...]) -> Expression:
    return cls("web", *args) | cls("ios", *args)  # type: ignore[no-any-return]


@pytest.fixture
async def bm(redis_url: str) -> AsyncIterator[Bitmapist]:
    async with Bitmapist(redis_url) as client:
        await _fill(client)
        yield client


def _q(**params: Any) -> bytes:
    base = {"select1": "active", "select2": "web", "num_results": "5", "num_of_rows": "3",
            "start_date": FIRST.isoformat()}  # fmt: skip
    base.update({k: str(v) for k, v in params.items()})
    return urlencode({k: v for k, v in base.items() if v != "DROP"}).encode()


def _cells(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in body.split("<tr>")[1:]:
        label = re.search(r'class="period"[^>]*>([^<]*)</th>', tr)
        size = re.search(r'<td class="size">([^<]*)</td>', tr)
        assert label is not None
        assert size is not None
        cells = re.findall(r"<td class=\"(?:cell h\d+|empty)\"[^>]*>([^<]*)</td>", tr)
        rows.append([label.group(1), size.group(1), *cells])
    return rows


async def test_form_lists_the_stored_events(bm: Bitmapist) -> None:
    response = await call_asgi(CohortApp(bm, handlers={"web_or_ios": web_or_ios}), "/retention")
    assert response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    for name in ("active", "web", "ios"):
        assert f'<option value="{name}">{name}</option>' in response.text
    assert '<option value="web_or_ios">web_or_ios (custom)</option>' in response.text
    assert "bm-cohort-table" not in response.text
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in response.text
    assert "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("compute", ["storage", "local"])
async def test_table_shows_the_computed_cells(bm: Bitmapist, compute: Any) -> None:
    app = CohortApp(bm, handlers={"web_or_ios": web_or_ios}, compute=compute)
    for retention, percent in (("classic", "1"), ("unbounded", "0")):
        query = _q(select2="web_or_ios", retention=retention, as_percent=percent)
        response = await call_asgi(app, "/", query)
        assert response.status == 200, response.text
        table = await bm.cohort(
            "active", "web_or_ios", num_results=5, num_of_rows=3, start_date=FIRST,
            retention=retention, as_percent=percent == "1",  # type: ignore[arg-type]
            handlers={"web_or_ios": web_or_ios},
        )  # fmt: skip
        expected = []
        for row in table.rows:
            cells = [
                "" if v == "" else (f"{v:.1f}%" if percent == "1" else str(int(v)))  # type: ignore[arg-type]
                for v in row[2:]
            ]
            day = row[0].strftime("%Y-%m-%d")  # type: ignore[union-attr]  # date text, not a key
            expected.append([day, str(row[1]), *cells])
        assert _cells(response.text) == expected
        assert any(c not in ("", "0", "0.0%") for r in expected for c in r[2:])
        link = re.search(r'href="/cohort\.csv\?([^"]*)"', response.text)
        assert link is not None
        linked = dict(parse_qsl(html.unescape(link.group(1)), keep_blank_values=True))
        assert CohortQuery.from_params(linked) == table.query


async def test_csv_download(bm: Bitmapist) -> None:
    response = await call_asgi(CohortApp(bm), "/cohort.csv", _q(as_percent="0"))
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="cohort.csv"'
    table = await bm.cohort("active", "web", num_results=5, num_of_rows=3, start_date=FIRST,
                            as_percent=False)  # fmt: skip
    assert response.text == render_csv(table)
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[8][:2] == ["Date", "Total"]
    assert len(rows) == 9 + 5


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        (_q(select1="nope"), 400, "“People who did”: there is no event named &#39;nope&#39;."),
        (
            _q(select2b="missing"),
            400,
            "“And also (same period), under Came back to”: there is no event named "
            "&#39;missing&#39;.",
        ),
        (_q(select2="DROP"), 400, "Choose an event for “Then did”."),
        (
            _q(num_results="many"),
            400,
            "“Rows (cohorts)” must be a whole number, got &#39;many&#39;.",
        ),
        (_q(num_of_rows="-2"), 400, "“Last offset” must be a whole number, got &#39;-2&#39;."),
        (_q(num_results="0"), 400, "“Rows (cohorts)” must be between 1 and 20,000, got 0."),
        (
            _q(start_date="2026-02-30"),
            400,
            "“First row” must be a date like 2026-11-28, got &#39;2026-02-30&#39;.",
        ),
        (
            _q(time_group="hours"),
            400,
            "“Group by” must be one of days, weeks, months, years, got &#39;hours&#39;.",
        ),
        (_q(as_percent="2"), 400, "“Show” must be percentages (1) or counts (0), got &#39;2&#39;."),
        (_q(colour="red"), 400, "unknown parameter &#39;colour&#39;"),
        (_q() + b"&select1=web", 400, "The address gives &#39;select1&#39; more than once."),
        (_q(num_results="500", num_of_rows="100"), 413, "the limit is 20,000"),
        (b"select1=%FF", 400, "malformed query string"),
        # these two were 500s: periods before year 1 and after year 9999
        (
            _q(time_group="years", num_results="5000", start_date="DROP"),
            400,
            "outside the calendar (years 1 to 9999)",
        ),
        (_q(start_date="9999-12-30"), 400, "outside the calendar (years 1 to 9999)"),
    ],
)
async def test_bad_parameters_get_4xx_with_a_message(
    bm: Bitmapist, query: bytes, status: int, message: str
) -> None:
    for path in ("/retention", "/"):
        response = await call_asgi(CohortApp(bm), path, query)
        assert response.status == status
        assert message in response.text
        assert "bm-cohort-table" not in response.text
    as_csv = await call_asgi(CohortApp(bm), "/cohort.csv", query)
    assert as_csv.status == status
    assert message.replace("&#39;", "'") in as_csv.text
    as_json = await call_asgi(CohortApp(bm), "/api/cohort", query)
    assert as_json.status == status
    assert message.replace("&#39;", "'") in json.loads(as_json.text)["error"]


async def test_other_paths_and_methods(bm: Bitmapist) -> None:
    app = CohortApp(bm)
    assert (await call_asgi(app, "/nothing")).status == 404
    post = await call_asgi(app, "/", method="POST")
    assert post.status == 405
    assert post.headers["allow"] == "GET, HEAD"
    head = await call_asgi(app, "/", _q(), method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert int(head.headers["content-length"]) > 1000


async def test_mounted_in_starlette(bm: Bitmapist) -> None:
    outer = Starlette(routes=[Mount("/analytics/cohorts", app=CohortApp(bm))])
    page = await call_asgi(outer, "/analytics/cohorts/", _q())
    assert page.status == 200
    assert 'action="/analytics/cohorts/retention"' in page.text
    assert 'href="/analytics/cohorts/cohort.csv?' in page.text
    assert len(_cells(page.text)) == 5
    data = await call_asgi(outer, "/analytics/cohorts/cohort.csv", _q())
    assert data.status == 200
    assert data.text.startswith("select1,active")


async def test_lifespan_is_acknowledged(bm: Bitmapist) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await CohortApp(bm)({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_storage_down_is_a_503() -> None:
    async with Bitmapist(f"redis://127.0.0.1:{free_port()}/0") as down:
        response = await call_asgi(CohortApp(down), "/")
    assert response.status == 503
    assert "The store is unavailable" in response.text


async def test_app_checks_its_arguments(bm: Bitmapist) -> None:
    with pytest.raises(TypeError, match="bm must be a"):
        CohortApp(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compute must be"):
        CohortApp(bm, compute="gpu")  # type: ignore[arg-type]


# The session server's MONITOR splits commands on spaces, so keys with spaces (this event name)
# live on a server of their own.
@pytest.fixture(scope="module")
def side_redis() -> Iterator[RedisProcess]:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("redis-server not found")
    server = RedisProcess(binary).start()
    yield server
    server.stop()


async def test_xss_event_name_is_only_text(side_redis: RedisProcess) -> None:
    admin = redis.Redis(port=side_redis.port, protocol=2)
    admin.flushdb()
    admin.close()
    async with Bitmapist(side_redis.url) as bm:
        await _fill(bm, ("active", XSS))
        app = CohortApp(bm)
        form = await call_asgi(app, "/retention")
        page = await call_asgi(app, "/", _q(select1b=XSS, select2=XSS))
        bad = await call_asgi(app, "/", _q(select1=XSS + "x"))
    for response in (form, page, bad):
        assert "<img" not in response.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert page.status == 200
    assert bad.status == 400
    assert "&lt;img src=x onerror=alert(1)&gt;x" in bad.text
    assert len(_cells(page.text)) == 5


@pytest.mark.parametrize("where", ["redis", "bitmapist-server"])
async def test_dashboard_knows_names_with_slashes(
    where: str, request: pytest.FixtureRequest
) -> None:
    """bitmapist-server's SCAN never lets ``*`` cross a ``/``; the dashboard still lists such
    names and computes their tables, on both servers."""
    url = request.getfixturevalue("redis_url" if where == "redis" else "server_url")
    async with Bitmapist(url) as client:
        await _fill(client, events=("page/view", "a/b/c", "web"))
        app = CohortApp(client)
        response = await call_asgi(app, "/retention")
        assert response.status == 200
        for name in ("page/view", "a/b/c", "web"):
            assert f'<option value="{name}">{name}</option>' in response.text
        response = await call_asgi(app, "/", _q(select1="page/view", select2="a/b/c"))
        assert response.status == 200, response.text
        assert "unknown event" not in response.text
        table = await client.cohort(
            "page/view", "a/b/c", num_results=5, num_of_rows=3, start_date=FIRST, as_percent=False
        )
        assert any(v not in ("", 0) for row in table.rows for v in row[2:])
