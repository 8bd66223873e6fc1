"""docs/examples/cohort_aiohttp.py runs: form, table, CSV and a 400, over aiohttp's test
server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest

from bitmapist_async import Bitmapist

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "cohort_aiohttp.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cohort_aiohttp", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_aiohttp_example(redis_url: str) -> None:
    test_utils = pytest.importorskip("aiohttp.test_utils")
    async with Bitmapist(redis_url) as bm:
        for uid in (1, 2, 3, 4):
            await bm.mark_event("signup", uid, datetime(2026, 5, 4, tzinfo=timezone.utc))
        await bm.mark_event("active", 3, datetime(2026, 5, 5, tzinfo=timezone.utc))
    app = _load().make_app(redis_url)
    query = "select1=signup&select2=active&num_results=1&num_of_rows=1&start_date=2026-05-04"
    async with test_utils.TestClient(test_utils.TestServer(app, host="127.0.0.1")) as client:
        form = await client.get("/")
        assert form.status == 200
        assert '<option value="signup">signup</option>' in await form.text()
        page = await client.get(f"/?{query}")
        text = await page.text()
        assert page.status == 200
        assert '<td class="size">4</td>' in text
        assert '<td class="cell h3" title="1 of 4">25.0%</td>' in text
        assert "nonce-" in page.headers["Content-Security-Policy"]
        data = await client.get(f"/cohort.csv?{query}")
        assert (await data.text()).splitlines()[-1] == "2026-05-04,4,,25.0"
        bad = await client.get("/?select1=signup&select2=nobody")
        assert bad.status == 400
        assert "unknown event &#39;nobody&#39;" in await bad.text()
        assert (await client.get("/cohort.csv?select1=x")).status == 400
