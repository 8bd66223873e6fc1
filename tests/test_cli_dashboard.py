"""``bitmapist-async dashboard`` serves the dashboard over real HTTP on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone

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
        [sys.executable, "-m", "bitmapist_async", "dashboard", "--redis-url", url, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "bitmapist-async dashboard:" in proc.stderr
    assert "Connect" in proc.stderr or "connect" in proc.stderr
