"""Rendering: autoescaped HTML (event names are text, never markup), heatmap levels, CSV that a
spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import pytest

from bitmapist_async.cohort import (
    CohortQuery,
    CohortTable,
    csv_cell,
    period_label,
    render_csv,
    render_form,
    render_page,
    render_table,
)

XSS = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x","click")'
JAN1 = datetime(2026, 1, 1, tzinfo=timezone.utc)
JAN2 = datetime(2026, 1, 2, tzinfo=timezone.utc)


def _table(as_percent: bool = True, select1: str = XSS, select2: str = "b") -> CohortTable:
    query = CohortQuery(select1, select2, select2b=FORMULA, num_results=2, num_of_rows=2,
                        as_percent=as_percent)  # fmt: skip
    if as_percent:
        rows = [[JAN1, 3, 100.0, (1.0 / 3.0) * 100, ""], [JAN2, 0, "", "", ""]]
    else:
        rows = [[JAN1, 4, 4, 1, 0.0], [JAN2, 2, 1, "", ""]]
    return CohortTable(rows, query)  # type: ignore[arg-type]


def _no_markup_from_names(html: str) -> None:
    assert "<img" not in html
    assert "onerror=alert(1)>" not in html.replace("&gt;", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_names_are_escaped_in_the_form() -> None:
    html = render_form([XSS, "b", ("Label " + XSS, "c")], query=_table().query)
    _no_markup_from_names(html)
    assert '<option value="&lt;img src=x onerror=alert(1)&gt;" selected>' in html
    assert "Label &lt;img" in html
    assert html.count('type="search"') == 4  # one filter box per event select


def test_names_are_escaped_in_the_table_and_page() -> None:
    _no_markup_from_names(render_table(_table(), csv_url="/c.csv?a=1&b=2"))
    assert 'href="/c.csv?a=1&amp;b=2"' in render_table(_table(), csv_url="/c.csv?a=1&b=2")
    page = render_page([XSS, "b"], table=_table(), query=_table().query, error=f"bad {XSS}",
                       nonce="n0nce")  # fmt: skip
    _no_markup_from_names(page)
    assert page.count('nonce="n0nce"') == 2  # the one <style> and the one <script>
    assert '<div class="bm-error" role="alert" id="bm-error">bad &lt;img' in page


def test_table_caption_can_be_replaced() -> None:
    html = render_table(_table(), caption="Rows from elsewhere")
    assert "<caption>Rows from elsewhere</caption>" in html
    assert "<img" not in render_table(_table(), caption=XSS)


def test_form_stays_usable_with_hundreds_of_names() -> None:
    names = [f"feature:{n:04d}" for n in range(600)]
    html = render_form(names)
    assert html.count('<option value="feature:0599"') == 4
    assert 'placeholder="filter 600 events"' in html
    assert "http" not in html.replace("http://www.w3", "")  # nothing fetched from a network


def test_heatmap_levels_and_cells() -> None:
    html = render_table(_table())
    cells = re.findall(r'<td class="(cell h\d+|empty)"(?: title="([^"]*)")?>([^<]*)</td>', html)
    assert cells[:3] == [("cell h10", "3 of 3", "100.0%"), ("cell h3", "1 of 3", "33.3%"),
                         ("empty", "", "")]  # fmt: skip
    counts = render_table(_table(as_percent=False))
    cells = re.findall(r'<td class="(cell h\d+|empty)"(?: title="([^"]*)")?>([^<]*)</td>', counts)
    assert cells[:3] == [("cell h10", "100.0% of 4", "4"), ("cell h3", "25.0% of 4", "1"),
                         ("cell h0", "0.0% of 4", "0")]  # fmt: skip
    assert "<td>2.5</td><td>1.0</td><td>0.0</td>" in counts  # column averages
    assert re.search(r"<th scope=\"row\" class=\"period\">average</th>", counts)


def test_csv_neutralises_formulas_and_keeps_bitmapist_layout() -> None:
    table = _table(select1="-2+3", select2="@SUM(A1)")
    rows = list(csv.reader(io.StringIO(render_csv(table))))
    assert rows[0] == ["select1", "'-2+3"]
    assert rows[2] == ["select2", "'@SUM(A1)"]
    assert rows[3] == ["select2b", "'" + FORMULA]
    assert rows[7] == []
    assert rows[8] == ["Date", "Total", "0", "1", "2"]
    assert rows[9] == ["2026-01-01", "3", "100.0", "33.33", ""]
    plain = list(csv.reader(io.StringIO(render_csv(_table(as_percent=False), describe=False))))
    assert plain == [["Date", "Total", "0", "1", "2"], ["2026-01-01", "4", "4", "1", "0"],
                     ["2026-01-02", "2", "1", "", ""]]  # fmt: skip
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("a=b", "a=b"), ("", ""), (None, ""), (12, "12")],
)  # fmt: skip
def test_csv_cell(value: object, expected: str) -> None:
    assert csv_cell(value) == expected


def test_period_labels() -> None:
    when = datetime(2024, 12, 30, tzinfo=timezone.utc)  # ISO week 1 of 2025
    assert period_label(when, "days") == "2024-12-30"
    assert period_label(when, "weeks") == "2025-W01"
    assert period_label(when, "months") == "2024-12"
    assert period_label(when, "years") == "2024"


def test_bad_selections() -> None:
    with pytest.raises(TypeError, match="selections1 must be a sequence"):
        render_form("active")
    with pytest.raises(TypeError, match="selections2: expected a name"):
        render_form(["a"], selections2=[("a", "b", "c")])  # type: ignore[list-item]
