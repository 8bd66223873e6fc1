"""The dashboard's pages, CSV and JSON, from computed results (no I/O).

Pages are Jinja2 templates (autoescaped: event names are data, never markup) with their SVG
charts drawn on the server from :mod:`._charts`; the style and the small filter script are
inline and marked with the response's CSP nonce. The same views render the demo's static
report (``static=True``: no forms, nothing that would need a server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from markupsafe import Markup

from .._core.analytics_plan import Funnel
from .._core.cohort import CohortQuery, CohortTable
from . import _params
from ._charts import bar_chart, line_chart
from ._render import _environment, _table_context, period_label, render_csv, write_csv

__all__ = ("Views", "retention_curve")

_UNIT_HEADINGS = {"days": "day", "weeks": "ISO week", "months": "month", "years": "year"}


def retention_curve(table: CohortTable) -> list[float]:
    """The average % of each cohort seen at each offset (the cohorts that reach it)."""
    width = table.query.num_of_rows + 1
    out = []
    for k in range(width):
        shares = []
        for row in table.rows:
            size, value = row[1], row[2 + k]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            if table.query.as_percent:
                shares.append(float(value))
            elif isinstance(size, int) and size:
                shares.append(100.0 * float(value) / size)
        out.append(sum(shares) / len(shares) if shares else 0.0)
    return out


def _label(start: datetime, unit: str) -> str:
    return period_label(start, unit)  # type: ignore[arg-type]


class Views:
    """Renders every page of one dashboard (*title*)."""

    def __init__(self, title: str, *, body_only: bool = False) -> None:
        self._title = title
        self._body_only = body_only

    def _render(self, template: str, **context: Any) -> str:
        context.setdefault("error", "")
        context.setdefault("static", False)
        context.setdefault("values", {})
        context.setdefault("selections", [])
        if self._body_only:
            template = template.replace(".html", "_body.html")
        return _environment().get_template(template).render(site_title=self._title, **context)

    def report(self, sections: Sequence[tuple[str, str]]) -> str:
        """A static page of *sections* (``(id, html)``, rendered by a ``body_only`` Views with
        ``static=True``): the demo's report."""
        parts = [{"id": section_id, "html": Markup(html)} for section_id, html in sections]
        return self._render(
            "report.html", page="report", root="", nonce=None, static=True, sections=parts
        )

    # -- overview --------------------------------------------------------------------------

    def overview(
        self,
        request: _params.OverviewRequest,
        rows: Sequence[tuple[str, int, int, int]],
        *,
        root: str,
        nonce: str,
        static: bool = False,
    ) -> str:
        prepared = [
            {
                "name": n,
                "dau": d,
                "wau": w,
                "mau": m,
                "stickiness": f"{d / m:.1%}" if m else "—",
                "trend_url": f"{root}/trends?" + _query({"event": n}),
            }
            for n, d, w, m in rows
        ]
        return self._render(
            "overview.html",
            page="overview",
            root=root,
            nonce=nonce,
            static=static,
            day=request.end.isoformat(),
            rows=prepared,
            csv_url=f"{root}/overview.csv?"
            + _query({"end": request.end.isoformat(), "top": str(request.top)}),
            values={"end": request.end.isoformat(), "top": str(request.top)},
        )

    def overview_csv(
        self, request: _params.OverviewRequest, rows: Sequence[tuple[str, int, int, int]]
    ) -> str:
        lines: list[list[object]] = [
            ["day", request.end.isoformat()],
            [],
            ["event", "DAU", "WAU", "MAU", "DAU/MAU"],
        ]
        lines += [[n, d, w, m, round(d / m, 4) if m else ""] for n, d, w, m in rows]
        return write_csv(lines)

    # -- trends ----------------------------------------------------------------------------

    def trends(
        self,
        request: _params.TrendRequest | None,
        series: Mapping[str, Sequence[tuple[datetime, int]]] | None,
        selections: Sequence[tuple[str, str]],
        *,
        root: str,
        nonce: str,
        static: bool = False,
        error: str = "",
        values: Mapping[str, str] | None = None,
    ) -> str:
        chart = None
        if request is not None and series:
            first = next(iter(series.values()))
            labels = [_label(p, request.unit) for p, _ in first]
            chart = line_chart(
                labels,
                [(name, [float(c) for _, c in points]) for name, points in series.items()],
                y_title="users",
                x_title=_UNIT_HEADINGS[request.unit],
            )
        what = ""
        if request is not None:
            what = request.event + (f" & {request.also}" if request.also else "")
        return self._render(
            "trends.html",
            page="trends",
            root=root,
            nonce=nonce,
            static=static,
            chart=chart,
            what=what,
            request=request,
            selections=selections,
            error=error,
            values=dict(values) if values is not None else (request.to_params() if request else {}),
            csv_url=f"{root}/trends.csv?" + _query(request.to_params()) if request else "",
            api_url=f"{root}/api/trend?" + _query(request.to_params()) if request else "",
        )

    def trends_csv(
        self, request: _params.TrendRequest, series: Mapping[str, Sequence[tuple[datetime, int]]]
    ) -> str:
        names = list(series)
        first = series[names[0]]
        lines: list[list[object]] = [["period", *names]]
        for i, (start, _) in enumerate(first):
            lines.append([_label(start, request.unit), *(series[n][i][1] for n in names)])
        return write_csv(lines)

    # -- retention -------------------------------------------------------------------------

    def retention(
        self,
        query: CohortQuery | None,
        table: CohortTable | None,
        selections: Sequence[tuple[str, str]],
        *,
        root: str,
        nonce: str,
        csv_url: str = "",
        static: bool = False,
        error: str = "",
        values: Mapping[str, str] | None = None,
    ) -> str:
        context: dict[str, Any] = {"table": None, "curve": None}
        if table is not None:
            context.update(_table_context(table))
            curve = retention_curve(table)
            context["curve"] = line_chart(
                [str(k) for k in range(len(curve))],
                [("average retention", curve)],
                y_title="% of the cohort",
                x_title=f"{_UNIT_HEADINGS[table.query.time_group]}s after the cohort's",
                percent=True,
            )
        options = list(selections)
        return self._render(
            "retention.html",
            page="retention",
            root=root,
            nonce=nonce,
            static=static,
            error=error,
            selections1=options,
            selections1b=options,
            selections2=options,
            selections2b=options,
            query=query,
            csv_url=csv_url,
            action_url=f"{root}/retention",
            standalone=False,
            api_url=f"{root}/api/cohort?" + _query(query.to_params()) if query else "",
            values=dict(values or {}),
            **context,
        )

    def cohort_csv(self, table: CohortTable) -> str:
        return render_csv(table)

    def cohort_json(self, table: CohortTable) -> dict[str, Any]:
        rows = []
        for row in table.rows:
            start = row[0]
            assert isinstance(start, datetime)
            rows.append(
                {
                    "period": start.date().isoformat(),
                    "size": row[1],
                    "values": [None if v == "" else v for v in row[2:]],
                }
            )
        return {
            "query": table.query.to_params(),
            "rows": rows,
            "averages": table.averages,
            "retention_curve": retention_curve(table),
        }

    # -- funnel ----------------------------------------------------------------------------

    def funnel(
        self,
        request: _params.FunnelRequest | None,
        result: Funnel | None,
        selections: Sequence[tuple[str, str]],
        *,
        root: str,
        nonce: str,
        static: bool = False,
        error: str = "",
        values: Mapping[str, str] | None = None,
    ) -> str:
        chart = bar_chart(list(result.steps), result.totals) if result is not None else None
        cohorts = []
        if result is not None and request is not None:
            cohorts = [
                {"label": _label(p, request.unit), "counts": counts} for p, counts in result.cohorts
            ]
        return self._render(
            "funnel.html",
            page="funnel",
            root=root,
            nonce=nonce,
            static=static,
            error=error,
            chart=chart,
            request=request,
            result=result,
            cohorts=cohorts,
            selections=selections,
            steps=_params.FUNNEL_STEPS,
            period_heading=_UNIT_HEADINGS[request.unit] if request else "",
            values=dict(values) if values is not None else (request.to_params() if request else {}),
            csv_url=f"{root}/funnel.csv?" + _query(request.to_params()) if request else "",
            api_url=f"{root}/api/funnel?" + _query(request.to_params()) if request else "",
        )

    def funnel_csv(self, request: _params.FunnelRequest, result: Funnel) -> str:
        lines: list[list[object]] = [["cohort", *result.steps]]
        lines += [[_label(p, request.unit), *counts] for p, counts in result.cohorts]
        lines.append(["total", *result.totals])
        return write_csv(lines)

    def funnel_json(self, request: _params.FunnelRequest, result: Funnel) -> dict[str, Any]:
        return {
            **request.to_params(),
            "steps": list(result.steps),
            "cohorts": [{"period": p.date().isoformat(), "counts": c} for p, c in result.cohorts],
            "totals": result.totals,
            "conversions": result.conversions,
        }

    # -- errors ----------------------------------------------------------------------------

    def error_page(
        self,
        page: str,
        message: str,
        *,
        root: str,
        nonce: str,
        selections: Sequence[tuple[str, str]],
        values: Mapping[str, str],
    ) -> str:
        if page == "trends":
            return self.trends(
                None, None, selections, root=root, nonce=nonce, error=message, values=values
            )
        if page == "funnel":
            return self.funnel(
                None, None, selections, root=root, nonce=nonce, error=message, values=values
            )
        if page == "retention":
            return self.retention(
                None, None, selections, root=root, nonce=nonce, error=message, values=values
            )
        return self._render(
            "overview.html",
            page="overview",
            root=root,
            nonce=nonce,
            rows=[],
            day="",
            csv_url="",
            error=message,
            values=dict(values),
        )


def _query(params: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v != ""})
