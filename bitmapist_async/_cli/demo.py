"""``bitmapist-async demo``: mark a synthetic event stream and print what the library answers.

The stream is deterministic (seeded): users sign up over several weeks, come back with a
retention that decays with time since signup, and sometimes buy something. By default it runs on
the embedded store (``./bitmapist-demo.db``, no server needed); ``--redis-url`` points it at a
Redis (or any store URL). Every key the demo writes lives under its own key prefix (``demo:`` by
default), which it clears first; nothing else in the store is touched. It ends with a weekly
signup -> activity cohort table, printed, and a static report written to ``cohort.html``: the
dashboard's overview, trend (with WAU/MAU), retention and funnel charts, with no form.
``bitmapist-async dashboard`` with no flags then serves the same data live.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .._async.client import Bitmapist
from .._core.cohort import CohortTable
from ..cohort._report import render_report

#: The demo's own embedded store (a file in the working directory).
DEMO_STORE = "file:bitmapist-demo.db"
#: The prefix of every key the demo writes (``bitmapist-async dashboard`` reads it by default).
DEMO_PREFIX = "demo:"

__all__ = ("DEMO_PREFIX", "DEMO_STORE", "Mark", "register", "synthetic_stream")


@dataclass(frozen=True, slots=True)
class Mark:
    event: str
    uid: int
    when: datetime


def synthetic_stream(users: int, weeks: int, start: date, seed: int = 2026) -> Iterator[Mark]:
    """A realistic stream: signups spread over *weeks*, daily activity whose probability decays
    with the time since signup, and purchases by some active users."""
    rng = random.Random(seed)
    days = weeks * 7
    for uid in range(users):
        signup_day = rng.randrange(days)
        stickiness = rng.betavariate(2, 3)
        buyer = rng.random() < 0.3
        for day in range(signup_day, days):
            when = datetime(start.year, start.month, start.day, tzinfo=timezone.utc) + timedelta(
                days=day, hours=rng.randrange(24), minutes=rng.randrange(60)
            )
            age = day - signup_day
            if age == 0:
                yield Mark("signup", uid, when)
                yield Mark("active", uid, when)
            elif rng.random() < 0.6 * stickiness * 0.93**age + 0.05 * stickiness:
                yield Mark("active", uid, when)
            else:
                continue
            if buyer and rng.random() < 0.08:
                yield Mark("purchase", uid, when)


async def _mark_all(bm: Bitmapist, marks: list[Mark], concurrency: int = 5000) -> None:
    for start in range(0, len(marks), concurrency):
        chunk = marks[start : start + concurrency]
        await asyncio.gather(*(bm.mark_event(m.event, m.uid, m.when) for m in chunk))


def _table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _cohort_text(table: CohortTable) -> str:
    """The cohort table as fixed-width text (percentages, blank where nothing can be said)."""
    header = ["signup week", "users", *(f"+{k}" for k in range(table.query.num_of_rows + 1))]
    rows = []
    for start, size, *cells in table.rows:
        assert isinstance(start, datetime)
        iso = start.isocalendar()
        shown = [f"{c:.1f}%" if isinstance(c, (int, float)) else "" for c in cells]
        rows.append([f"{iso[0]}-W{iso[1]:02d}", size, *shown])
    title = "Cohort: of the users who signed up in week N, % active in week N+k"
    return _table(title, header, rows)


async def run_demo(url: str, users: int, weeks: int, start: date, prefix: str) -> tuple[str, str]:
    """Run the whole demo against *url*; return the report and the cohort page (HTML)."""
    out: list[str] = []
    marks = list(synthetic_stream(users, weeks, start))
    async with Bitmapist(url, key_prefix=prefix) as bm:
        await bm.delete_all_events()
        began = time.perf_counter()
        await _mark_all(bm, marks)
        elapsed = time.perf_counter() - began
        out.append(
            f"Marked {len(marks):,} events for {users:,} users over {weeks} weeks "
            f"in {elapsed:.2f} s ({len(marks) / elapsed:,.0f} marks/s) on {bm.storage.describe()}\n"
        )
        end = start + timedelta(days=weeks * 7 - 1)

        days = [bm.DayEvents.from_date("active", end - timedelta(days=n)) for n in range(6, -1, -1)]
        counts = await bm.counts(days)
        out.append(
            _table(
                "Daily active users (last 7 days)",
                ["day", "active"],
                [[d.period_start().date(), c] for d, c in zip(days, counts, strict=True)],
            )
        )

        first_week = bm.WeekEvents.from_date("active", start)
        week_list = [first_week.delta(n) for n in range(weeks)]
        signups = [bm.WeekEvents("signup", w.year, w.week) for w in week_list]
        wau = await bm.counts([*week_list, *signups])
        out.append(
            _table(
                "Weekly active users and signups (ISO weeks)",
                ["week", "active", "signups"],
                [
                    [f"{w.year}-W{w.week:02d}", wau[i], wau[weeks + i]]
                    for i, w in enumerate(week_list)
                ],
            )
        )

        months = sorted({(d.year, d.month) for d in (start, end)})
        month_events = [bm.MonthEvents("active", y, m) for y, m in months]
        mau = await bm.counts(month_events)
        out.append(
            _table(
                "Monthly active users",
                ["month", "active"],
                [[f"{y}-{m:02d}", c] for (y, m), c in zip(months, mau, strict=True)],
            )
        )

        cohort = bm.WeekEvents.from_date("signup", start)
        horizon = min(4, weeks - 1)
        later = [cohort.delta(k) for k in range(1, horizon + 1)]
        retained = [cohort & bm.WeekEvents("active", w.year, w.week) for w in later]
        sizes = await bm.counts([cohort, *retained])
        size = sizes[0]
        out.append(
            _table(
                f"Retention of the users who signed up in {cohort.year}-W{cohort.week:02d}",
                ["weeks later", "still active", "%"],
                [
                    [k, n, f"{100 * n / size:.1f}" if size else "-"]
                    for k, n in enumerate(sizes[1:], start=1)
                ],
            )
        )

        last_week = bm.WeekEvents.from_date("active", end)
        buyers = bm.MonthEvents.from_date("purchase", end)
        newcomers = bm.MonthEvents.from_date("signup", end)
        loyal = last_week & buyers & ~newcomers
        loyal_ids = await loyal.ids()
        out.append(
            "Bit-op example: active last week & bought this month & ~signed up this month\n"
            f"  {len(loyal_ids):,} users, first ids: {loyal_ids[:10]}\n"
            f"  user {loyal_ids[0] if loyal_ids else 0} in it: "
            f"{await loyal.contains(loyal_ids[0] if loyal_ids else 0)}\n"
        )
        table = await bm.cohort(
            "signup",
            "active",
            time_group="weeks",
            num_results=weeks,
            num_of_rows=min(weeks - 1, 5),
            start_date=start,
        )
        out.append(_cohort_text(table))
        page = await render_report(
            bm, event="active", signup="signup", funnel=("signup", "active", "purchase"),
            start=start, end=end, title="bitmapist-async demo",
        )  # fmt: skip
        await bm.delete_temporary_bitop_keys()
    return "\n".join(out), page


def _run(args: argparse.Namespace) -> int:
    url = args.redis_url or args.store
    report, page = asyncio.run(run_demo(url, args.users, args.weeks, args.start, args.key_prefix))
    if args.html:
        Path(args.html).write_text(page, encoding="utf-8")
        report += (
            f"\nReport written to {args.html} (open it in a browser); "
            "'bitmapist-async dashboard' serves the same data live\n"
        )
    print(report)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="mark a synthetic event stream and print what the library answers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        default=DEMO_STORE,
        help=f"store URL when --redis-url is not given (default {DEMO_STORE}: embedded, no server)",
    )
    parser.add_argument("--redis-url", default=None, help="run against this Redis instead")
    parser.add_argument(
        "--html", default="cohort.html", help="where to write the cohort page ('' to skip)"
    )
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument(
        "--start", type=date.fromisoformat, default=date(2026, 10, 5), help="first day (ISO)"
    )
    parser.add_argument(
        "--key-prefix", default=DEMO_PREFIX, help="prefix of every key the demo writes"
    )
    parser.set_defaults(run=_run)
