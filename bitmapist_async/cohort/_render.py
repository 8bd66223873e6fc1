"""Jinja2 rendering of the query form, the result table, a whole page, and CSV.

HTML templates are autoescaped (event names are data, never markup); the CSV template is not
HTML, so each of its cells goes through :func:`csv_cell`, which quotes it and neutralises
spreadsheet formulas. Styles and the small filter script are inline (no CDN, works offline);
pass a CSP *nonce* to mark them.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import jinja2

from .._core.cohort import CohortQuery, CohortTable, TimeGroup

__all__ = (
    "Selection",
    "csv_cell",
    "period_label",
    "render_csv",
    "render_form",
    "render_page",
    "render_table",
    "write_csv",
)

#: An event the form offers: its name, or ``(label, name)`` as bitmapist's selections.
Selection: TypeAlias = "str | tuple[str, str]"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PERIOD_HEADINGS = {"days": "day", "weeks": "ISO week", "months": "month", "years": "year"}


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bitmapist_async.cohort", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def csv_cell(value: object) -> str:
    """*value* as CSV text that a spreadsheet shows as text: a cell starting with ``=``,
    ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (after any spaces) gets a
    leading ``'`` so it is never run as a formula. Quoting (a cell with a comma, a quote, CR or
    LF is quoted by :func:`write_csv`) keeps the rest of the cell in the cell."""
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def write_csv(rows: Iterable[Iterable[object]]) -> str:
    """*rows* as CSV text (RFC 4180: CRLF line ends, a cell holding a comma, a quote, CR or LF
    quoted), every cell through :func:`csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def period_label(start: datetime, time_group: TimeGroup) -> str:
    """How a row's period reads: ``2026-11-03``, ``2026-W45`` (ISO), ``2026-11`` or ``2026``."""
    if time_group == "weeks":
        iso = start.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    if time_group == "months":
        return f"{start.year}-{start.month:02d}"
    if time_group == "years":
        return str(start.year)
    return start.strftime("%Y-%m-%d")


def _options(selections: Sequence[Selection] | None, name: str) -> list[tuple[str, str]]:
    if selections is None:
        return []
    if isinstance(selections, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of names or (label, name) pairs, got a str")
    options = []
    for item in selections:
        if isinstance(item, str):
            options.append((item, item))
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and all(isinstance(part, str) for part in item)
        ):
            options.append((item[0], item[1]))
        else:
            raise TypeError(f"{name}: expected a name or a (label, name) pair, got {item!r}")
    return options


def _form_context(
    selections1: Sequence[Selection],
    selections1b: Sequence[Selection] | None,
    selections2: Sequence[Selection] | None,
    selections2b: Sequence[Selection] | None,
    query: CohortQuery | None,
    action_url: str,
    nonce: str | None,
) -> dict[str, Any]:
    first = _options(selections1, "selections1")
    second = _options(selections2, "selections2") if selections2 is not None else first
    return {
        "selections1": first,
        "selections1b": _options(selections1b, "selections1b") if selections1b else first,
        "selections2": second,
        "selections2b": _options(selections2b, "selections2b") if selections2b else second,
        "query": query,
        "action_url": action_url,
        "nonce": nonce,
    }


@dataclass(frozen=True, slots=True)
class _Cell:
    text: str
    level: int
    title: str


def _cell(value: object, size: int, as_percent: bool) -> _Cell:
    if value == "" or not isinstance(value, (int, float)):
        return _Cell("", 0, "")
    if as_percent:
        fraction = float(value) / 100
        users = round(fraction * size)
        text, title = f"{float(value):.1f}%", f"{users} of {size}"
    else:
        fraction = float(value) / size if size else 0.0
        text, title = str(int(value)), f"{fraction:.1%} of {size}"
    level = max(0, min(10, int(fraction * 10 + 0.5)))  # half up: 25% is level 3
    return _Cell(text, level, title)


def _table_context(table: CohortTable) -> dict[str, Any]:
    query = table.query
    rows = []
    for row in table.rows:
        start, size = row[0], row[1]
        assert isinstance(start, datetime)
        assert isinstance(size, int)
        rows.append(
            {
                "start": start.isoformat(),
                "label": period_label(start, query.time_group),
                "size": size,
                "cells": [_cell(v, size, query.as_percent) for v in row[2:]],
            }
        )
    unit = "{:.1f}%" if query.as_percent else "{:.1f}"
    averages = ["" if a is None else unit.format(a) for a in table.averages]
    return {
        "table": table,
        "rows": rows,
        "averages": averages,
        "caption": query.describe(),
        "period_heading": _PERIOD_HEADINGS[query.time_group],
    }


def render_form(
    selections1: Sequence[Selection],
    *,
    selections1b: Sequence[Selection] | None = None,
    selections2: Sequence[Selection] | None = None,
    selections2b: Sequence[Selection] | None = None,
    query: CohortQuery | None = None,
    action_url: str = "",
    nonce: str | None = None,
) -> str:
    """The query form (a GET form, with its style and filter script inline).

    :param selections1: events offered for *select1*: names or ``(label, name)`` pairs. The
        other lists default to it (*selections2b* to *selections2*).
    :param query: the current query, whose choices are preselected.
    :param action_url: where the form submits (default: the current URL).
    :param nonce: a Content-Security-Policy nonce for the inline ``<style>`` and ``<script>``.
    """
    context = _form_context(
        selections1, selections1b, selections2, selections2b, query, action_url, nonce
    )
    return _environment().get_template("form.html").render(standalone=True, **context)


def render_table(
    table: CohortTable,
    *,
    csv_url: str = "",
    nonce: str | None = None,
    caption: str | None = None,
) -> str:
    """The result table: a heatmap (cells shaded by percentage, or by count over the cohort
    size), a row of column averages, and an optional CSV download link.

    :param caption: the table's caption (default: ``table.query.describe()``).
    """
    context = _table_context(table)
    if caption is not None:
        context["caption"] = caption
    return (
        _environment()
        .get_template("table.html")
        .render(standalone=True, csv_url=csv_url, nonce=nonce, **context)
    )


def render_csv(table: CohortTable, *, describe: bool = True) -> str:
    """The table as CSV: ``Date,Total,0,1,...`` then one line per row (bitmapist's layout).

    :param describe: start with ``name,value`` lines describing the query and a blank line.
    """
    query = table.query
    header = ["Date", "Total", *range(query.num_of_rows + 1)]
    rows = []
    for row in table.rows:
        start = row[0]
        assert isinstance(start, datetime)
        cells = []
        for value in row[2:]:
            if value == "" or not isinstance(value, (int, float)):
                cells.append("")
            elif query.as_percent:
                cells.append(str(round(float(value), 2)))
            else:
                cells.append(str(int(value)))
        rows.append([period_label(start, query.time_group), row[1], *cells])
    lines: list[list[object]] = []
    if describe:
        lines += [
            ["select1", query.select1],
            ["select1b", query.select1b or ""],
            ["select2", query.select2],
            ["select2b", query.select2b or ""],
            ["time_group", query.time_group],
            ["retention", query.retention],
            ["values", "percent" if query.as_percent else "count"],
            [],
        ]
    return write_csv([*lines, header, *rows])


def render_page(
    selections1: Sequence[Selection],
    *,
    selections1b: Sequence[Selection] | None = None,
    selections2: Sequence[Selection] | None = None,
    selections2b: Sequence[Selection] | None = None,
    query: CohortQuery | None = None,
    table: CohortTable | None = None,
    error: str = "",
    csv_url: str = "",
    action_url: str = "",
    title: str = "Cohorts",
    nonce: str | None = None,
) -> str:
    """A whole HTML page: the form, an error message if any, and the table if any."""
    context = _form_context(
        selections1, selections1b, selections2, selections2b, query, action_url, nonce
    )
    if table is not None:
        context.update(_table_context(table))
    else:
        context["table"] = None
    return (
        _environment()
        .get_template("page.html")
        .render(standalone=False, error=error, csv_url=csv_url, title=title, **context)
    )
