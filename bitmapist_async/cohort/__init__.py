"""Cohort tables for people: HTML (Jinja2, autoescaped) and CSV rendering, and a small ASGI
dashboard (overview, trends, retention and funnel pages with server-drawn SVG charts, CSV and
a JSON API).

Compute a table with ``await bm.cohort(...)`` (or ``bm.cohort(...)`` on the sync client), then
render it::

    from bitmapist_async.cohort import render_csv, render_form, render_table

    table = await bm.cohort("signup", "active", time_group="weeks", num_results=8)
    html = render_form(await bm.get_event_names(), query=table.query) + render_table(table)
    csv_text = render_csv(table)

Serve the whole dashboard with :class:`bitmapist_async.cohort.asgi.CohortApp` (mountable in
Starlette/FastAPI) or ``bitmapist-async dashboard``. :func:`write_csv` writes any rows as
formula-safe CSV.
"""

from __future__ import annotations

from .._core.cohort import CohortQuery as CohortQuery
from .._core.cohort import CohortTable as CohortTable
from ._render import Selection as Selection
from ._render import csv_cell as csv_cell
from ._render import period_label as period_label
from ._render import render_csv as render_csv
from ._render import render_form as render_form
from ._render import render_page as render_page
from ._render import render_table as render_table
from ._render import write_csv as write_csv

__all__ = (
    "CohortQuery",
    "CohortTable",
    "Selection",
    "csv_cell",
    "period_label",
    "render_csv",
    "render_form",
    "render_page",
    "render_table",
    "write_csv",
)
