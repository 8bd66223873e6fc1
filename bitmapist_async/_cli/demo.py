"""``bitmapist-async demo``: mark a synthetic event stream and print what the library answers
(see :data:`DESCRIPTION`).

The demo clears its key prefix before marking, so it must know the prefix holds only its own
data: it writes the unique event :data:`MARKER` first, and clears a prefix only when it is
empty, or holds the marker and nothing but the demo's events (or ``--force``).
It ends with a weekly cohort table, printed, and a static report written to
``cohort.html`` (the dashboard's charts, no form); ``bitmapist-async dashboard`` with no flags
then serves the same data live.
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
from .common import CommandError, add_store_option
from .transfer import guarded

#: The demo's own embedded store (a file in the working directory).
DEMO_STORE = "file:bitmapist-demo.db"
#: The prefix of every key the demo writes (``bitmapist-async dashboard`` reads it by default).
DEMO_PREFIX = "demo:"

__all__ = (
    "DEMO_EVENTS",
    "DEMO_PREFIX",
    "DEMO_STORE",
    "DESCRIPTION",
    "MARKER",
    "Mark",
    "register",
    "synthetic_stream",
)

#: The events the demo marks.
DEMO_EVENTS = frozenset({"signup", "active", "purchase"})
#: A unique event the demo marks (user 0) under its prefix: the sign that it wrote what is there.
MARKER = "bitmapist_demo_marker"

DESCRIPTION = f"""\
Mark a synthetic event stream and print what the library answers.

  bitmapist-async demo                                  # embedded store, no server
  bitmapist-async demo --store redis://127.0.0.1:6379/0

The stream is deterministic (seeded): users sign up over several weeks, come back with a
retention that decays with time since signup, and sometimes buy something. By default it
runs on the embedded store ({DEMO_STORE.removeprefix("file:")}, no server needed); --store
points it at a Redis or any store URL. Every key the demo writes lives under its own key
prefix (demo: by default), which it clears first; nothing else in the store is touched. It
clears a prefix only if it holds nothing but the demo's own data (its events and a marker
key it writes); a prefix holding anything else is refused unless --force. It ends with a
weekly signup -> activity cohort table, printed, and a static report written to
cohort.html: the dashboard's overview, trend, retention and funnel charts, with no form.
'bitmapist-async dashboard' with no flags then serves the same data live.

The report goes to standard output, errors to standard error.

exit status: 0 success, 1 failure (storage unreachable or refusing, the prefix holds other
data), 2 usage.
"""


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


async def foreign_keys(bm: Bitmapist) -> list[str]:
    """The keys under *bm*'s prefix that the demo did not write: every key but its temporary
    bit-op keys when the marker is missing, else the keys of other events."""
    scheme = bm.options.scheme
    keys = sorted(await guarded(bm.storage, bm.storage.scan(scheme.events_pattern())))
    keys = [k for k in keys if not scheme.is_bitop_key(k)]
    if not any(scheme.event_name(k) == MARKER for k in keys):
        return keys
    return [k for k in keys if scheme.event_name(k) not in {*DEMO_EVENTS, MARKER}]


async def run_demo(
    url: str, users: int, weeks: int, start: date, prefix: str, *, force: bool = False
) -> tuple[str, str]:
    """Run the whole demo against *url*; return the report and the cohort page (HTML).

    :raises CommandError: the prefix holds data the demo did not write (unless *force*).
    """
    out: list[str] = []
    marks = list(synthetic_stream(users, weeks, start))
    async with Bitmapist(url, key_prefix=prefix) as bm:
        foreign = [] if force else await foreign_keys(bm)
        if foreign:
            shown = ", ".join(repr(k) for k in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise CommandError(
                f"key prefix {prefix!r} on {bm.storage.describe()} holds {len(foreign):,} keys "
                f"the demo did not write ({shown}); it clears its prefix first, so it stops "
                "here: give another --key-prefix, or --force to delete them"
            )
        await bm.delete_all_events()
        await bm.mark_unique(MARKER, 0)
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
    report, page = asyncio.run(
        run_demo(args.store, args.users, args.weeks, args.start, args.key_prefix, force=args.force)
    )
    if args.html:
        Path(args.html).write_text(page, encoding="utf-8")
        report += (
            f"\nReport written to {args.html} (open it in a browser); "
            "'bitmapist-async dashboard' serves the same data live\n"
        )
    print(report)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="mark a synthetic event stream and print what the library answers",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(
        parser,
        "--store",
        dest="store",
        default=DEMO_STORE,
        help=f"the store to write to (default {DEMO_STORE}: embedded, no server)",
        old=("--redis-url",),
    )
    parser.add_argument(
        "--html",
        default="cohort.html",
        metavar="FILE",
        help="where to write the cohort page (default cohort.html; '' to skip)",
    )
    parser.add_argument(
        "--users", type=_positive, default=3000, metavar="N", help="users (default 3000)"
    )
    parser.add_argument(
        "--weeks",
        type=_positive,
        default=6,
        metavar="N",
        help="weeks of activity, from --start (default 6)",
    )
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 10, 5),
        metavar="DATE",
        help="first day, YYYY-MM-DD (default 2026-10-05)",
    )
    parser.add_argument(
        "--key-prefix",
        default=DEMO_PREFIX,
        metavar="PREFIX",
        help="prefix of every key the demo writes and clears (default demo:)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="clear the prefix even if it holds keys the demo did not write",
    )
    parser.set_defaults(run=_run)
