"""A drop-in for bitmapist 3.x's ``bitmapist.cohort``, on the library's cohort engine.

Change the import line and keep the program::

    from bitmapist_async.compat import cohort  # was: from bitmapist import cohort

    html_form = cohort.render_html_form(
        action_url="/_Cohort",
        selections1=[("Are Active", "user:active")],
        selections2=[("Task completed", "task:complete")],
    )
    dates_data = cohort.get_dates_data(
        select1="user:active", select2="task:complete", time_group="days"
    )
    html_data = cohort.render_html_data(dates_data, time_group="days")

:func:`get_dates_data` returns bitmapist's rows, cell for cell and type for type, with the same
row datetimes; it computes the whole table in two pipelined round trips (bitmapist sends about
one command per cell) and leaves no key behind. Custom handlers (:func:`set_custom_handler`)
get compat event classes and compose with ``&``, ``|``, ``^``, ``~`` as before; inside a
handler the bit operations are not run one by one but planned into the table's batch.

The HTML and CSV come from the library's Jinja2 templates (autoescaped HTML, formula-safe CSV),
not bitmapist's mako ones: the markup and the period labels differ (see the migration guide).
"""

from __future__ import annotations

import dataclasses as _dataclasses
from collections.abc import Callable as _Callable
from collections.abc import Sequence as _Sequence
from datetime import date as _date
from datetime import datetime as _datetime
from datetime import timezone as _timezone
from typing import Any as _Any

from .._core.cohort import TIME_GROUPS as _TIME_GROUPS
from .._core.cohort import CohortQuery as _CohortQuery
from .._core.cohort import Row as _Row
from .._core.cohort import bitmapist_layout as _bitmapist_layout
from .._core.cohort import parse_start_date as _parse_start_date
from .._core.plan import OpNode as _OpNode
from .._core.validate import check_name as _check_name
from .._sync.client import Bitmapist as _Bitmapist
from .._sync.cohort import Compute as _Compute
from .._sync.cohort import Handler as _Handler
from .._sync.cohort import cohort_table as _cohort_table
from .._sync.events import Expression as _Expression
from .._sync.events import PeriodEvents as _PeriodEvents
from ..cohort import CohortTable as _CohortTable
from ..cohort import render_csv as _render_csv
from ..cohort import render_table as _render_table
from ..cohort._render import _environment, _form_context
from . import _events
from ._systems import System as _System
from ._systems import reader_for as _reader_for

__all__ = (
    "CUSTOM_HANDLERS",
    "get_dates_data",
    "render_csv_data",
    "render_html_data",
    "render_html_form",
    "set_custom_handler",
)

#: Custom selections by name, as in bitmapist: ``callback(key, cls, cls_args)``, see
#: :func:`set_custom_handler`. Read at every :func:`get_dates_data` call.
CUSTOM_HANDLERS: dict[str, _Callable[..., _Any]] = {}

_EVENT_CLASSES: dict[str, type[_events.GenericPeriodEvents]] = {
    "days": _events.DayEvents,
    "weeks": _events.WeekEvents,
    "months": _events.MonthEvents,
    "years": _events.YearEvents,
}
#: An option of the form: ``(label, event name)``, or an event name; ``"---"`` is dropped.
_Selection = tuple[str, str] | str
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_HEADINGS = {"days": "day", "weeks": "ISO week", "months": "month", "years": "year"}


def set_custom_handler(event_name: str, callback: _Callable[..., _Any]) -> None:
    """Make *event_name* a composite selection, computed by *callback* for each period.

    The signature of *callback* is ``callback(key, cls, cls_args)``: *key* is *event_name*,
    *cls* is :class:`~bitmapist_async.compat.DayEvents`, ``WeekEvents``, ``MonthEvents`` or
    ``YearEvents`` (after ``time_group``), and *cls_args* the arguments of its constructor for
    the period, ending with the system. It returns a compat event or bit operation::

        def active_web_ios(key, cls, cls_args):
            return cls("active", *cls_args) & (cls("web", *cls_args) | cls("ios", *cls_args))


        set_custom_handler("active_web_ios", active_web_ios)
        get_dates_data("active_web_ios", "song:played")

    :raises TypeError: *event_name* is not a ``str`` or *callback* not callable.
    :raises ValueError: *event_name* is empty or starts with ``bitop_``.
    """
    name = _check_name(event_name)
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    CUSTOM_HANDLERS[name] = callback


# -- data --------------------------------------------------------------------------------------


def get_dates_data(
    select1: str,
    select2: str,
    select1b: str | None = None,
    select2b: str | None = None,
    time_group: str = "days",
    system: _System = "default",
    as_percent: bool | str = True,
    num_results: int | str = 31,
    num_of_rows: int | str = 12,
    start_date: str | _date | None = None,
    *,
    compute: _Compute = "auto",
) -> list[_Row]:
    """The cohort table of bitmapist 3.x: "of the users who did *select1* (and *select1b*) in
    period N, how many did *select2* (and *select2b*) in period N+k?".

    One row per period, oldest first: ``[period datetime, cohort size, cell k=0, ...,
    cell k=num_of_rows]``, where a cell is ``""`` (an empty cohort, or no *select2* at all in
    period N+k), ``0.0`` (nobody came back), a percentage (``float``) or a count (``int``).
    Row datetimes are bitmapist's, to the microsecond: aware UTC, keeping the current time of
    day without *start_date*; ``"years"`` always gives 3 rows.

    :param select1: the cohort's event, or a custom handler's name.
    :param select2: the event the cohort comes back for (or a handler's name).
    :param select1b: optional event (or handler) ANDed with *select1* in the same period.
    :param select2b: optional event (or handler) ANDed with *select2* in the same period.
    :param time_group: ``"days"``, ``"weeks"`` (ISO), ``"months"`` or ``"years"``.
    :param system: a system name or a ``redis.Redis`` client.
    :param as_percent: percentages of the cohort, else counts (also ``"1"``/``"0"``).
    :param num_results: number of rows (an ``int``, or digits as a form sends them).
    :param num_of_rows: the last offset k (same types).
    :param start_date: ``"YYYY-MM-DD"`` (or a ``date``): bitmapist's window arithmetic puts
        the last row ``num_results - 1`` days after it, then counts rows back from there.
    :param compute: where cells are counted (not in bitmapist): ``"auto"`` (the default:
        local while the bitmaps read add up to at most 32 MiB, else storage), ``"storage"``
        (only counts travel) or ``"local"`` (each bitmap travels once; faster for ids up to a
        few million).
    :raises TypeError: a parameter of the wrong type, a pipeline *system*, or a handler that
        returns something else than a compat event or bit operation.
    :raises ValueError: a bad name, ``time_group``, number or date, naming it (before any I/O).
    :raises KeyError: an unknown system name (before any I/O).
    """
    results_n = _whole("num_results", num_results)
    offsets = _whole("num_of_rows", num_of_rows)
    start = _start_date(start_date)
    if time_group not in _TIME_GROUPS:
        raise ValueError(f"time_group must be one of {_TIME_GROUPS}, got {time_group!r}")
    query = _CohortQuery(
        select1,
        select2,
        select1b,
        select2b,
        time_group=time_group,  # checked above
        as_percent=_flag(as_percent),
        num_results=3 if time_group == "years" else results_n,
        num_of_rows=offsets,
    )
    bm = _reader_for(system, "get_dates_data()")
    layout = _bitmapist_layout(query.time_group, results_n, start, _utc_now())
    handlers = _handlers(query, bm, system)
    return _cohort_table(bm, query, handlers=handlers, layout=layout, compute=compute).rows


def _utc_now() -> _datetime:
    return _datetime.now(_timezone.utc)


def _whole(name: str, value: object) -> int:
    """An ``int``, or a ``str`` of one (bitmapist calls ``int()`` on both)."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    return value


def _flag(value: object) -> bool:
    if isinstance(value, str):
        text = value.strip().lower()
        if text not in _TRUE + _FALSE:
            raise ValueError(f"as_percent must be a bool (or '1'/'0'), got {value!r}")
        return text in _TRUE
    if value is None or isinstance(value, int):
        return bool(value)
    raise TypeError(f"as_percent must be a bool, got {value!r} ({type(value).__name__})")


def _start_date(value: object) -> str | None:
    """*value* as ``"YYYY-MM-DD"``; like bitmapist's ``strptime``, ``"2026-1-5"`` is accepted."""
    if isinstance(value, str) and value:
        try:
            parsed = _parse_start_date(value)
        except ValueError:
            try:
                parsed = _datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError:
                raise ValueError(
                    f"start_date must be a date like 2026-11-28, got {value!r}"
                ) from None
    else:
        parsed = _parse_start_date(value)
    return parsed.isoformat() if parsed else None


def _handlers(query: _CohortQuery, bm: _Bitmapist, system: _System) -> dict[str, _Handler]:
    """Native handlers for the names of *query* that have a custom handler."""
    cls = _EVENT_CLASSES[query.time_group]
    handlers: dict[str, _Handler] = {}
    for name in (query.select1, query.select1b, query.select2, query.select2b):
        callback = CUSTOM_HANDLERS.get(name) if name else None
        if name and callback is not None:
            handlers[name] = _adapt(callback, cls, bm, system)
    return handlers


def _adapt(
    callback: _Callable[..., _Any],
    cls: type[_events.GenericPeriodEvents],
    bm: _Bitmapist,
    system: _System,
) -> _Handler:
    def handler(name: str, _cls: object, fields: tuple[int, ...]) -> _Expression:
        with _events.deferred_bitops():
            result = callback(name, cls, (*fields, system))
        return _native(bm, result, name)

    return handler


def _native(bm: _Bitmapist, obj: object, name: str) -> _Expression:
    """The native expression of *bm* that a compat event or bit operation describes."""
    if isinstance(obj, _events.BitOperation):
        node = obj._node
        assert isinstance(node, _OpNode)
        ops = {"AND": bm.BitOpAnd, "OR": bm.BitOpOr, "XOR": bm.BitOpXor, "NOT": bm.BitOpNot}
        return ops[node.op](*(_native(bm, operand, name) for operand in obj.operands))
    if isinstance(obj, _events.UniqueEvents):
        return bm.UniqueEvents(obj.event_name)
    if isinstance(obj, _events.GenericPeriodEvents):
        return _native_period(bm, obj)
    raise TypeError(
        f"custom handler {name!r} must return a bitmapist_async.compat event or bit "
        f"operation (built with the cls and cls_args it is given), got {obj!r}"
    )


def _native_period(bm: _Bitmapist, event: _events.GenericPeriodEvents) -> _PeriodEvents:
    classes: tuple[tuple[type[_events.GenericPeriodEvents], _Callable[..., _PeriodEvents]], ...]
    classes = (
        (_events.YearEvents, bm.YearEvents),
        (_events.MonthEvents, bm.MonthEvents),
        (_events.WeekEvents, bm.WeekEvents),
        (_events.DayEvents, bm.DayEvents),
        (_events.HourEvents, bm.HourEvents),
    )
    period = event._period
    fields = [getattr(period, f.name) for f in _dataclasses.fields(period)]  # type: ignore[arg-type]
    for compat_cls, native_cls in classes:
        if isinstance(event, compat_cls):
            return native_cls(event.event_name, *fields)
    raise TypeError(f"unsupported event class {type(event).__name__}")  # pragma: no cover


# -- rendering ---------------------------------------------------------------------------------


@_dataclasses.dataclass(frozen=True)
class _FormState:
    """What the form template reads from a query, for bitmapist's loose form parameters (any
    of them may be unset)."""

    select1: str | None
    select1b: str | None
    select2: str | None
    select2b: str | None
    time_group: str
    as_percent: bool
    num_results: int
    num_of_rows: int
    start_date: _date | None
    retention: str = "classic"


def _selections(items: object, name: str) -> list[tuple[str, str]] | None:
    """bitmapist's ``[(label, value), ...]`` lists; ``"---"`` separators are dropped."""
    if items is None:
        return None
    if isinstance(items, (str, bytes)) or not isinstance(items, _Sequence):
        raise TypeError(f"{name} must be a list of (label, name) pairs, got {items!r}")
    pairs = []
    for item in items:
        if item == "---":
            continue
        if isinstance(item, str):
            pairs.append((item, item))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], str):
            pairs.append((str(item[0]), item[1]))
        else:
            raise TypeError(f"{name}: expected a (label, name) pair, got {item!r}")
    return pairs


def _choice(name: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be an event name (str), got {value!r}")
    return value


def render_html_form(
    action_url: str,
    selections1: _Sequence[_Selection],
    selections1b: _Sequence[_Selection] | None = None,
    selections2: _Sequence[_Selection] | None = None,
    selections2b: _Sequence[_Selection] | None = None,
    time_group: str = "days",
    select1: str | None = None,
    select1b: str | None = None,
    select2: str | None = None,
    select2b: str | None = None,
    as_percent: bool | str = True,
    num_results: int | str = 31,
    num_of_rows: int | str = 12,
    start_date: str | _date | None = None,
    *,
    nonce: str | None = None,
) -> str:
    """The query form (a GET form with bitmapist's field names), each event select with a
    filter box; style and script inline, so it works offline.

    :param action_url: where the form submits.
    :param selections1: the events offered for *select1*: ``(label, name)`` pairs. The other
        lists default as in bitmapist (*selections2* to *selections1*, the ``b`` ones to their
        main list, with a "none" choice first); ``"---"`` separators are left out.
    :param select1: the preselected choices (likewise *select1b*, *select2*, *select2b*,
        *time_group*, *as_percent*, *num_results*, *num_of_rows*, *start_date*).
    :param nonce: a Content-Security-Policy nonce for the inline style and script (not in
        bitmapist).
    :raises TypeError: malformed selections or parameters.
    :raises ValueError: a bad ``time_group``, number or date.
    """
    if not isinstance(action_url, str):
        raise TypeError(f"action_url must be a str, got {action_url!r}")
    if time_group not in _TIME_GROUPS:
        raise ValueError(f"time_group must be one of {_TIME_GROUPS}, got {time_group!r}")
    start = _start_date(start_date)
    state = _FormState(
        select1=_choice("select1", select1),
        select1b=_choice("select1b", select1b),
        select2=_choice("select2", select2),
        select2b=_choice("select2b", select2b),
        time_group=time_group,
        as_percent=_flag(as_percent),
        num_results=_whole("num_results", num_results),
        num_of_rows=_whole("num_of_rows", num_of_rows),
        start_date=_date.fromisoformat(start) if start else None,
    )
    first = _selections(selections1, "selections1")
    assert first is not None
    context = _form_context(
        first,
        _selections(selections1b, "selections1b"),
        _selections(selections2, "selections2") or None,
        _selections(selections2b, "selections2b"),
        None,
        action_url,
        nonce,
    )
    context["query"] = state
    template = _environment().get_template("form.html")
    return template.render(standalone=True, show_retention=False, **context)


def _table(
    dates_data: object, as_percent: object, time_group: object, num_of_rows: object
) -> _CohortTable:
    """*dates_data* as a table to render; rows longer than ``num_of_rows + 3`` are cut, as
    bitmapist's templates only read that far."""
    if time_group not in _TIME_GROUPS:
        raise ValueError(f"time_group must be one of {_TIME_GROUPS}, got {time_group!r}")
    offsets = _whole("num_of_rows", num_of_rows)
    if isinstance(dates_data, (str, bytes)) or not isinstance(dates_data, _Sequence):
        raise TypeError(f"dates_data must be the list get_dates_data returns, got {dates_data!r}")
    width = offsets + 3
    rows: list[_Row] = []
    for row in dates_data:
        if isinstance(row, (str, bytes)) or not isinstance(row, _Sequence) or len(row) < width:
            raise ValueError(
                f"every row of dates_data needs {width} items (num_of_rows={offsets}), got {row!r}"
            )
        start, size, *cells = row[:width]
        if not isinstance(start, _datetime):
            raise TypeError(f"a row must start with its datetime, got {start!r}")
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"a row's second item must be the cohort size (int), got {size!r}")
        for cell in cells:
            if cell != "" and (isinstance(cell, bool) or not isinstance(cell, (int, float))):
                raise TypeError(f"a cell must be '', a float or an int, got {cell!r}")
        rows.append([start, size, *cells])
    query = _CohortQuery(
        "select1",
        "select2",
        time_group=time_group,  # checked above
        as_percent=_flag(as_percent),
        num_results=max(1, len(rows)),
        num_of_rows=offsets,
    )
    return _CohortTable(rows, query)


def render_html_data(
    dates_data: _Sequence[_Sequence[_Any]],
    as_percent: bool | str = True,
    time_group: str = "days",
    num_results: int | str = 31,
    num_of_rows: int | str = 12,
    start_date: str | None = None,
    *,
    csv_url: str = "",
    caption: str | None = None,
    nonce: str | None = None,
) -> str:
    """*dates_data* (from :func:`get_dates_data`) as an HTML table: a heatmap of the cells, the
    cohort sizes, a row of column averages.

    :param as_percent: the cells are percentages (else counts).
    :param time_group: how the rows are labelled (ISO weeks as ``2026-W45``).
    :param num_of_rows: the last offset shown.
    :param num_results: accepted for compatibility, unused (as in bitmapist).
    :param start_date: accepted for compatibility, unused (as in bitmapist).
    :param csv_url: a CSV download link under the table (not in bitmapist, whose link was an
        inline script).
    :param caption: the table's caption (default: the grouping and unit).
    :param nonce: a Content-Security-Policy nonce for the inline style.
    :raises TypeError: rows that are not shaped like :func:`get_dates_data`'s.
    :raises ValueError: a bad ``time_group`` or ``num_of_rows``, or rows too short for it.
    """
    table = _table(dates_data, as_percent, time_group, num_of_rows)
    if caption is None:
        unit = "% of each cohort" if table.query.as_percent else "counts"
        caption = f"Cohorts by {_HEADINGS[table.query.time_group]}, {unit}"
    return _render_table(table, csv_url=csv_url, caption=caption, nonce=nonce)


def render_csv_data(
    dates_data: _Sequence[_Sequence[_Any]],
    as_percent: bool | str = True,
    time_group: str = "days",
    num_results: int | str = 31,
    num_of_rows: int | str = 12,
    start_date: str | None = None,
) -> str:
    """*dates_data* as CSV, bitmapist's layout: ``Date,Total,0,1,...`` then one line per row
    (percentages rounded to 2 decimals, counts as integers, ``""`` as an empty cell).

    Dates read ``2026-11-28``, ``2026-W48``, ``2026-11``, ``2026``; a cell that a spreadsheet
    would run as a formula is prefixed with ``'``.

    :param num_results: accepted for compatibility, unused (as in bitmapist).
    :param start_date: accepted for compatibility, unused (as in bitmapist).
    :raises TypeError: rows that are not shaped like :func:`get_dates_data`'s.
    :raises ValueError: a bad ``time_group`` or ``num_of_rows``, or rows too short for it.
    """
    return _render_csv(_table(dates_data, as_percent, time_group, num_of_rows), describe=False)
