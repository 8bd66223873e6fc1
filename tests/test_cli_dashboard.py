"""``bitmapist-async dashboard`` serves the dashboard over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bitmapist_async.cohort._access import CREDENTIALS_ENV
from bitmapist_async.sync import Bitmapist

from .dashboard_server import running_dashboard
from .servers import free_port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_dashboard_serves_form_table_and_400s(redis_url: str) -> None:
    with Bitmapist(redis_url) as bm:
        for uid in (1, 2, 3):
            bm.mark_event("signup", uid, datetime(2026, 5, 4, tzinfo=timezone.utc))
        bm.mark_event("active", 2, datetime(2026, 5, 5, tzinfo=timezone.utc))
    with running_dashboard(redis_url, "--compute", "local") as base:
        status, page = _get(base + "/retention")
        assert status == 200
        assert '<option value="signup">signup</option>' in page
        query = "select1=signup&select2=active&num_results=1&num_of_rows=1&start_date=2026-05-04"
        status, page = _get(f"{base}/?{query}&as_percent=0")
        assert status == 200
        assert '<td class="size">3</td>' in page
        assert '<td class="cell h3" title="33.3% of 3">1</td>' in page
        status, text = _get(f"{base}/cohort.csv?{query}")
        assert status == 200
        assert text.splitlines()[-1] == "2026-05-04,3,,33.33"
        status, page = _get(f"{base}/?select1=signup&select2=active&num_results=zero")
        assert status == 400
        assert "“Rows (cohorts)” must be a whole number, got &#39;zero&#39;" in page


def test_dashboard_reports_an_unreachable_store() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "dashboard", "--store", url, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"bitmapist-async dashboard: error: cannot reach {url}: ")
    assert len(proc.stderr.splitlines()) == 1


def test_dashboard_with_no_flags_shows_the_demos_data(tmp_path: Path) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "demo", "--users", "200", "--weeks", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    with running_dashboard(None, cwd=str(tmp_path)) as base:
        status, page = _get(base + "/?end=2026-10-18")
        assert status == 200
        assert '<tr data-event="active">' in page
        assert '<tr data-event="signup">' in page
        status, text = _get(base + "/api/trend?event=active&start=2026-10-05&end=2026-10-18")
        assert status == 200
        points = json.loads(text)["points"]
        assert len(points) == 14
        assert all(p["count"] > 0 for p in points)


def test_dashboard_without_the_demo_store_says_what_to_do(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "dashboard", "--port", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "run 'bitmapist-async demo' first, or pass --store" in proc.stderr


def test_a_public_address_needs_credentials_or_public(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != CREDENTIALS_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "dashboard", "--store",
         f"file:{tmp_path}/none.db", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"--host 0.0.0.0 is reachable from other machines: set {CREDENTIALS_ENV}" in proc.stderr
    assert "or pass --public" in proc.stderr


def test_credentials_from_the_environment_guard_every_page(redis_url: str) -> None:
    with Bitmapist(redis_url) as bm:
        bm.mark_event("signup", 1, datetime(2026, 5, 4, tzinfo=timezone.utc))
    env = {CREDENTIALS_ENV: "ana:s3cret:x"}
    with running_dashboard(redis_url, env=env) as base:
        for path in ("/", "/trends", "/api/trend?event=signup", "/cohort.csv"):
            status, _ = _get(base + path)
            assert status == 401
        request = urllib.request.Request(base + "/retention")
        token = base64.b64encode(b"ana:s3cret:x").decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            assert '<option value="signup">signup</option>' in response.read().decode()
        wrong = urllib.request.Request(base + "/retention")
        wrong.add_header("Authorization", "Basic " + base64.b64encode(b"ana:s3cret").decode())
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(wrong, timeout=30)
        assert caught.value.code == 401
        assert caught.value.headers["www-authenticate"].startswith("Basic realm=")
        caught.value.close()
