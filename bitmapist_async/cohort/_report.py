"""A static report with the dashboard's charts (the demo writes one): overview, trends,
retention and funnel, computed once through the client's public queries, with no form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from .._async.client import Bitmapist
from ._params import FunnelRequest, OverviewRequest, TrendRequest
from ._views import Views

__all__ = ("render_report",)


async def render_report(
    bm: Bitmapist,
    *,
    event: str,
    signup: str,
    funnel: Sequence[str],
    start: date,
    end: date,
    title: str = "bitmapist-async report",
    top: int = 10,
) -> str:
    """The report's HTML: the *top* events on *end*, *event*'s daily users with WAU/MAU lines
    from *start* to *end*, the weekly *signup* -> *event* retention table and curve, and the
    weekly *funnel*."""
    body = Views(title, body_only=True)
    names = await bm.get_event_names()
    months = await bm.counts([bm.MonthEvents(n, end.year, end.month) for n in names])
    ranked = sorted(zip(names, months, strict=True), key=lambda item: (-item[1], item[0]))[:top]
    rows = []
    for name, _ in ranked:
        ((_, dau),) = await bm.trend(name, "days", end, end)
        ((_, wau),) = await bm.rolling(name, 7, "days", end, end, compute="local")
        ((_, mau),) = await bm.rolling(name, 30, "days", end, end, compute="local")
        rows.append((name, dau, wau, mau))
    overview = body.overview(OverviewRequest(end, top), rows, root="", nonce="", static=True)

    trend = TrendRequest(event, None, "days", start, end)
    series: dict[str, list[tuple[datetime, int]]] = {
        "daily": await bm.trend(event, "days", start, end),
        "WAU (7 days)": await bm.rolling(event, 7, "days", start, end),
        "MAU (30 days)": await bm.rolling(event, 30, "days", start, end),
    }
    trends = body.trends(trend, series, [], root="", nonce="", static=True)

    weeks = (end - start).days // 7 + 1
    table = await bm.cohort(signup, event, time_group="weeks", num_results=weeks,
                            num_of_rows=min(weeks - 1, 5), start_date=start)  # fmt: skip
    retention = body.retention(table.query, table, [], root="", nonce="", static=True)

    funnel_request = FunnelRequest(tuple(funnel), "weeks", start, end - timedelta(days=7), 1)
    result = await bm.funnel(list(funnel), "weeks", start, end - timedelta(days=7), 1)
    funnel_html = body.funnel(funnel_request, result, [], root="", nonce="", static=True)
    sections = [("overview", overview), ("trends", trends), ("retention", retention),
                ("funnel", funnel_html)]  # fmt: skip
    return Views(title).report(sections)
