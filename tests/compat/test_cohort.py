"""``compat.cohort`` on its own: the rows of a small known table, custom handlers, bad input
refused before any I/O, and what the render functions produce (form fields, table cells, CSV),
with an event named ``<img src=x onerror=alert(1)>`` shown as text everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any

import pytest
import redis

import bitmapist_async.compat as bitmapist
from bitmapist_async.compat import (
    BitOpAnd,
    BitOpOr,
    DayEvents,
    MonthEvents,
    WeekEvents,
    YearEvents,
    cohort,
    mark_event,
)

from ..conftest import CommandLog

XSS = "<img src=x onerror=alert(1)>"
DAY0 = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)  # a Monday


def day(n: int) -> datetime:
    return DAY0.replace(day=DAY0.day + n)


def midnight(n: int) -> datetime:
    return day(n).replace(hour=0)


@pytest.fixture(autouse=True)
def handlers() -> Iterator[None]:
    saved = dict(cohort.CUSTOM_HANDLERS)
    yield
    cohort.CUSTOM_HANDLERS.clear()
    cohort.CUSTOM_HANDLERS.update(saved)


@pytest.fixture
def marks() -> None:
    """signup on day 0: 1, 2, 3, 4. active: 1 on day 0, 1 and 2 on day 1, 9 on day 2;
    nobody on day 3. web: 1, 2 on day 0; ios: 3 on day 0."""
    for uid in (1, 2, 3, 4):
        mark_event("signup", uid, now=day(0))
    mark_event("active", 1, now=day(0))
    mark_event("active", 1, now=day(1))
    mark_event("active", 2, now=day(1))
    mark_event("active", 9, now=day(2))
    for uid in (1, 2):
        mark_event("web", uid, now=day(0))
    mark_event("ios", 3, now=day(0))


def table(**kwargs: Any) -> list[list[Any]]:
    args = {"num_results": 2, "num_of_rows": 3, "start_date": "2026-01-05", **kwargs}
    return cohort.get_dates_data("signup", "active", **args)


# -- data ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("marks")
def test_rows_cells_and_types(admin: redis.Redis) -> None:
    assert table() == [[midnight(0), 4, 25.0, 50.0, 0.0, ""], [midnight(1), 0, "", "", "", ""]]
    counts = table(as_percent=False)
    assert counts == [[midnight(0), 4, 1, 2, 0.0, ""], [midnight(1), 0, "", "", "", ""]]
    assert [type(c) for c in counts[0][2:]] == [int, int, float, str]
    assert table(as_percent="0") == counts  # a form's value
    assert table(select1b="web", num_results=1)[0][1:4] == [2, 50.0, 100.0]
    assert table(select2b="web", num_results=1)[0][2:] == [25.0, "", "", ""]
    assert isinstance(table()[0][0], datetime)
    assert table()[0][0].tzinfo is timezone.utc
    assert admin.keys("trackist_bitop_*") == []


@pytest.mark.usefixtures("marks")
def test_systems(make_client: Any) -> None:
    client = make_client()
    bitmapist.SYSTEMS["stats"] = client
    assert table(system=client) == table() == table(system="stats")
    with pytest.raises(TypeError, match="pipeline"):
        table(system=client.pipeline())


@pytest.mark.usefixtures("marks")
def test_custom_handler_gets_compat_classes(admin: redis.Redis) -> None:
    seen: list[tuple[str, type, tuple[Any, ...]]] = []

    def web_or_ios(key: str, cls: type[DayEvents], cls_args: tuple[Any, ...]) -> object:
        seen.append((key, cls, cls_args))
        return cls("signup", *cls_args) & (cls("web", *cls_args) | cls("ios", *cls_args))

    cohort.set_custom_handler("signup_web_ios", web_or_ios)
    assert {"signup_web_ios": web_or_ios} == cohort.CUSTOM_HANDLERS
    rows = cohort.get_dates_data(
        "signup_web_ios",
        "active",
        num_results=1,
        num_of_rows=1,
        start_date="2026-01-05",
        as_percent=False,
    )
    assert rows == [[midnight(0), 3, 1, 2]]
    assert seen == [("signup_web_ios", DayEvents, (2026, 1, 5, "default"))]

    expected = {
        "weeks": (WeekEvents, (2026, 2)),
        "months": (MonthEvents, (2026, 1)),
        "years": (YearEvents, (2026,)),
    }
    for time_group, (cls, fields) in expected.items():
        seen.clear()
        rows = cohort.get_dates_data(
            "signup_web_ios",
            "signup",
            time_group=time_group,
            num_results=1,
            num_of_rows=0,
            start_date="2026-01-05",
        )
        assert rows[-1][1:] == [3, 100.0], time_group  # years: 3 rows, the last one 2026
        assert seen[-1][1:] == (cls, (*fields, "default")), time_group
    assert admin.keys("trackist_bitop_*") == []


@pytest.mark.usefixtures("marks")
def test_handler_objects_are_read_and_kept_correctly(admin: redis.Redis) -> None:
    kept: list[Any] = []

    def counting(key: str, cls: type[DayEvents], cls_args: tuple[Any, ...]) -> object:
        either = BitOpOr(cls("web", *cls_args), cls("ios", *cls_args))
        if len(either) == 0:  # a handler may read: the operation is stored, then cleaned up
            return cls("signup", *cls_args)
        kept.append(either)
        return BitOpAnd(cls("signup", *cls_args), either)

    cohort.set_custom_handler("counting", counting)
    rows = cohort.get_dates_data(
        "counting",
        "active",
        num_results=2,
        num_of_rows=0,
        start_date="2026-01-05",
        as_percent=False,
    )
    assert rows == [[midnight(0), 3, 1], [midnight(1), 0, ""]]
    assert admin.keys("trackist_bitop_*") == []
    # An operation kept from the handler still reads its bitmap (stored on first read).
    (either,) = kept
    assert list(either) == [1, 2, 3]
    either.delete()
    assert admin.keys("trackist_bitop_*") == []


def test_handler_must_return_a_compat_bitmap() -> None:
    cohort.set_custom_handler("junk", lambda key, cls, cls_args: f"{key}{cls_args}")
    with pytest.raises(TypeError, match=r"'junk' must return a bitmapist_async\.compat event"):
        cohort.get_dates_data("junk", "active")
    with pytest.raises(TypeError, match="callable"):
        cohort.set_custom_handler("x", "not a function")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bitop_"):
        cohort.set_custom_handler("bitop_x", lambda *a: None)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"time_group": "hours"}, ValueError, "time_group"),
        ({"num_results": "many"}, ValueError, "num_results"),
        ({"num_results": 0}, ValueError, "num_results"),
        ({"num_of_rows": 2.5}, TypeError, "num_of_rows"),
        ({"num_of_rows": -1}, ValueError, "num_of_rows"),
        ({"start_date": "2026-13-01"}, ValueError, "start_date"),
        ({"start_date": 20260101}, TypeError, "start_date"),
        ({"as_percent": "maybe"}, ValueError, "as_percent"),
        ({"select1b": "bitop_AND_x"}, ValueError, "select1b"),
        ({"select2": ""}, ValueError, "select2"),
        ({"system": "nowhere"}, KeyError, "nowhere"),
        ({"num_results": 10_000, "num_of_rows": 10_000}, ValueError, "cells"),
        ({"compute": "elsewhere"}, ValueError, "compute"),
    ],
)
def test_bad_input_is_refused_before_any_io(
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
    command_log: CommandLog,
    admin: redis.Redis,
) -> None:
    start = command_log.mark()
    args = {"select1": "signup", "select2": "active", **kwargs}
    with pytest.raises(error, match=match):
        cohort.get_dates_data(**args)
    admin.echo("refused")
    assert command_log.wait_for(["ECHO", "refused"], start) == []


# -- rendering -------------------------------------------------------------------------------


@dataclass
class Parsed(HTMLParser):
    """Form fields, table cells and every start tag of an HTML fragment."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    selects: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    inputs: dict[str, dict[str, str | None]] = field(default_factory=dict)
    sections: dict[str, list[list[str]]] = field(default_factory=dict)
    _select: str | None = None
    _option: dict[str, str | None] | None = None
    _section: str = ""
    _cell: list[str] | None = None
    _text: str = ""

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "select":
            self._select = a["name"]
            self.selects[str(a["name"])] = []
        elif tag == "option":
            self._option, self._text = a, ""
        elif tag == "input" and a.get("name"):
            self.inputs[str(a["name"])] = a
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
            self.sections[tag] = []
        elif tag == "tr" and self._section:
            self.sections[self._section].append([])
        elif tag in ("td", "th") and self._section:
            self._cell, self._text = self.sections[self._section][-1], ""

    def handle_data(self, data: str) -> None:
        self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value = str(self._option["value"])
            self.selects[self._select].append((value, self._text, "selected" in self._option))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag in ("td", "th") and self._cell is not None:
            self._cell.append(self._text.strip())
            self._cell = None
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = ""


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    return parsed


def no_markup(html: str) -> None:
    """The XSS name is text: escaped, and no tag or attribute came from it."""
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert all(tag != "img" and "onerror" not in attrs for tag, attrs in parse(html).tags)


def test_form_has_bitmapist_fields() -> None:
    html = cohort.render_html_form(
        "/_Cohort",
        selections1=[("Are Active", "active"), "---", ("On the web", "web")],
        selections2=[("Played a song", "song:play")],
        time_group="weeks",
        select1="web",
        select2="song:play",
        as_percent=False,
        num_results="28",
        num_of_rows=6,
        start_date="2026-1-5",
    )
    form = parse(html)
    (attrs,) = [a for tag, a in form.tags if tag == "form"]
    assert (attrs["action"], attrs["method"]) == ("/_Cohort", "get")
    names = {*form.selects, *form.inputs}
    assert names == {
        "select1",
        "select1b",
        "select2",
        "select2b",
        "time_group",
        "as_percent",
        "num_results",
        "num_of_rows",
        "start_date",
    }
    assert form.selects["select1"] == [("active", "Are Active", False), ("web", "On the web", True)]
    assert [v for v, _, _ in form.selects["select1b"]] == ["", "active", "web"]
    assert form.selects["select2"] == [("song:play", "Played a song", True)]
    assert form.selects["select2b"][0] == ("", "— none —", True)
    assert [v for v, _, s in form.selects["time_group"] if s] == ["weeks"]
    assert [v for v, _, s in form.selects["as_percent"] if s] == ["0"]
    assert form.inputs["num_results"]["value"] == "28"
    assert form.inputs["num_of_rows"]["value"] == "6"
    assert form.inputs["start_date"]["value"] == "2026-01-05"
    assert sum(1 for _, a in form.tags if a.get("type") == "search") == 4  # filter boxes

    defaults = parse(cohort.render_html_form("/c", [("A", "a")]))
    assert [v for v, _, s in defaults.selects["select1"]] == ["a"]  # selections2 = selections1
    assert [v for v, _, _ in defaults.selects["select2b"]] == ["", "a"]
    assert [v for v, _, s in defaults.selects["as_percent"] if s] == ["1"]
    assert defaults.inputs["num_results"]["value"] == "31"
    with pytest.raises(ValueError, match="time_group"):
        cohort.render_html_form("/c", [("A", "a")], time_group="hours")
    with pytest.raises(TypeError, match="selections2"):
        cohort.render_html_form("/c", [("A", "a")], selections2=[("A", "a", "b")])  # type: ignore[list-item]


def test_form_escapes_names() -> None:
    html = cohort.render_html_form(
        f'/c?x="{XSS}', [(XSS, XSS), ("b", "b")], select1=XSS, select2b=XSS
    )
    no_markup(html)
    form = parse(html)
    assert form.selects["select1"][0] == (XSS, XSS, True)
    assert form.selects["select2b"][1] == (XSS, XSS, True)


@pytest.mark.usefixtures("marks")
def test_table_cells() -> None:
    data = table()
    parsed = parse(cohort.render_html_data(data, num_of_rows=3))
    assert parsed.sections["thead"] == [["day", "cohort", "0", "1", "2", "3"]]
    assert parsed.sections["tbody"] == [
        ["2026-01-05", "4", "25.0%", "50.0%", "0.0%", ""],
        ["2026-01-06", "0", "", "", "", ""],
    ]
    assert parsed.sections["tfoot"] == [["average", "", "25.0%", "50.0%", "0.0%", ""]]

    counts = parse(
        cohort.render_html_data(table(as_percent=False), as_percent=False, num_of_rows=3)
    )
    assert counts.sections["tbody"][0] == ["2026-01-05", "4", "1", "2", "0", ""]
    # Like bitmapist's template, only num_of_rows + 1 offsets are shown.
    short = parse(cohort.render_html_data(data, num_of_rows=1, time_group="weeks"))
    assert short.sections["thead"] == [["ISO week", "cohort", "0", "1"]]
    assert short.sections["tbody"][0] == ["2026-W02", "4", "25.0%", "50.0%"]
    with pytest.raises(ValueError, match="num_of_rows=5"):
        cohort.render_html_data(data, num_of_rows=5)
    with pytest.raises(TypeError, match="datetime"):
        cohort.render_html_data([["2026-01-05", *data[0][1:]]], num_of_rows=3)
    with pytest.raises(TypeError, match="cell"):
        cohort.render_html_data([[*data[0][:-1], None]], num_of_rows=3)
    assert parse(cohort.render_html_data([])).sections["tbody"] == []


@pytest.mark.usefixtures("marks")
def test_csv() -> None:
    text = cohort.render_csv_data(table(), num_of_rows=3)
    assert text.splitlines() == [
        "Date,Total,0,1,2,3",
        "2026-01-05,4,25.0,50.0,0.0,",
        "2026-01-06,0,,,,",
    ]
    counts = cohort.render_csv_data(table(as_percent=False), as_percent=False, num_of_rows=3)
    assert counts.splitlines()[1] == "2026-01-05,4,1,2,0,"
    monthly = cohort.get_dates_data(
        "signup",
        "active",
        time_group="months",
        num_results=1,
        num_of_rows=0,
        start_date="2026-01-05",
    )
    assert cohort.render_csv_data(monthly, time_group="months", num_of_rows=0).splitlines() == [
        "Date,Total,0",
        "2026-01,4,50.0",
    ]


def test_xss_event_name_end_to_end(admin: redis.Redis) -> None:
    for uid in (1, 2):
        mark_event(XSS, uid, now=day(0))
    mark_event("active", 2, now=day(0))
    names = bitmapist.get_event_names()
    assert XSS in names
    no_markup(cohort.render_html_form("/c", [(n, n) for n in names], select1=XSS))
    data = cohort.get_dates_data(
        XSS, "active", num_results=1, num_of_rows=0, start_date="2026-01-05"
    )
    assert data == [[midnight(0), 2, 50.0]]
    html = cohort.render_html_data(data, num_of_rows=0, caption=f"{XSS} then active")
    no_markup(html)
    assert parse(html).sections["tbody"] == [["2026-01-05", "2", "50.0%"]]
    assert admin.keys("trackist_bitop_*") == []
