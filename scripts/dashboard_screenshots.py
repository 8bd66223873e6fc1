"""Regenerate the dashboard screenshots in docs/img/ from the demo's data.

Runs ``bitmapist-async demo`` in a temporary directory, serves ``bitmapist-async dashboard``
there (no flags: it reads the demo's store) on a free port, and photographs each page with
headless Chromium (Debian's ``chromium``, driven by playwright)::

    .venv/bin/python scripts/dashboard_screenshots.py [--chromium /usr/bin/chromium]

The event names are the demo's ordinary ones (signup, active, purchase).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
START, END = "2026-10-05", "2026-11-15"  # the demo's default six weeks
PAGES = {
    "dashboard-overview.png": f"/?end={END}",
    "dashboard-trends.png": f"/trends?event=active&start={START}&end={END}",
    "cohort-dashboard.png": (
        "/retention?select1=signup&select2=active&time_group=weeks&num_results=6"
        f"&num_of_rows=5&start_date={START}"
    ),
    "dashboard-funnel.png": (
        f"/funnel?step1=signup&step2=active&step3=purchase&unit=weeks&start={START}"
        "&end=2026-11-08&within=1"
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        cli = [sys.executable, "-m", "bitmapist_async"]
        subprocess.run([*cli, "demo", "--html", ""], cwd=work, check=True, capture_output=True)
        server = subprocess.Popen(
            [*cli, "dashboard", "--port", "0"],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert server.stdout is not None
        base = None
        for line in server.stdout:
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                base = found.group(1)
                break
        if base is None:
            server.wait(timeout=30)
            print("the dashboard did not start", file=sys.stderr)
            return 1
        threading.Thread(target=server.stdout.read, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1100, "height": 800})
                for name, path in PAGES.items():
                    page.goto(base + path, wait_until="load")
                    page.screenshot(path=str(Path(args.out) / name), full_page=True)
                    print(f"wrote {Path(args.out) / name}")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
