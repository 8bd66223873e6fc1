# This file is generated from bitmapist_async/_async/cohort.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Cohort tables on storage: every ``BITOP`` and ``BITCOUNT`` of a table in one round trip,
and its temporary keys deleted in a second, whatever the table's size.

The I/O-free parts (the query, which periods, the plan, the cells) live in
``_core/cohort.py`` and ``_core/cohort_plan.py``; this module builds the selections (event
bitmaps, or what a custom handler composes) and runs the plan.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, TypeAlias, cast

from .._core.cohort import (
    CohortLayout,
    CohortQuery,
    CohortTable,
    native_layout,
    period_fields,
)
from .._core.cohort_local import numpy_choice, plan_local
from .._core.cohort_plan import plan_table
from .._core.compute_choice import choose_compute, leaf_keys
from .._core.periods import Period
from .._core.plan import BitOpStep, Node, Query, make_op
from .evaluate import run_with_temporaries
from .events import Expression, PeriodEvents

if TYPE_CHECKING:
    from .client import Bitmapist

__all__ = ("Compute", "Handler", "cohort_table", "event_class")

#: A custom selection: ``handler(name, cls, cls_args) -> expression``, where ``cls`` is the
#: client's ``DayEvents``, ``WeekEvents``, ``MonthEvents`` or ``YearEvents`` and ``cls_args``
#: the period's fields, so that ``cls("active", *cls_args)`` is the event in that period.
#: bitmapist's ``set_custom_handler`` callbacks have this shape (without ``system``).
Handler: TypeAlias = Callable[[str, Callable[..., PeriodEvents], tuple[int, ...]], Expression]

#: Where the cells are counted: ``"storage"`` (one ``BITOP`` + ``BITCOUNT`` per cell, only
#: counts travel), ``"local"`` (each selection's bitmap travels once, cells are counted here),
#: or ``"auto"`` (the default): local while the stored bitmaps the table reads add up to at most
#: ``LOCAL_BUDGET_BYTES`` (32 MiB), measured by one ``STRLEN``-like probe, storage beyond or
#: where the backend cannot say (bitmapist-server, the sharded layout).
Compute: TypeAlias = Literal["auto", "storage", "local"]


def event_class(bm: Bitmapist, time_group: str) -> type[PeriodEvents]:
    """The client's event class for *time_group*."""
    classes: dict[str, type[PeriodEvents]] = {
        "days": bm.DayEvents,
        "weeks": bm.WeekEvents,
        "months": bm.MonthEvents,
        "years": bm.YearEvents,
    }
    return classes[time_group]


def _check_handlers(handlers: Mapping[str, Handler] | None) -> Mapping[str, Handler]:
    if handlers is None:
        return {}
    if not isinstance(handlers, Mapping):
        raise TypeError(f"handlers must be a mapping of name -> callable, got {handlers!r}")
    for name, handler in handlers.items():
        if not isinstance(name, str) or not callable(handler):
            raise TypeError(f"handlers must map names to callables, got {name!r}: {handler!r}")
    return handlers


class _Selections:
    """Builds the expression tree of a selection name in a period (an event's own bitmap, or
    what its custom handler composes)."""

    def __init__(self, bm: Bitmapist, time_group: str, handlers: Mapping[str, Handler]) -> None:
        self._bm = bm
        self._cls = event_class(bm, time_group)
        self._handlers = handlers
        self._scheme = bm.options.scheme

    def one(self, name: str, period: Period) -> Node:
        handler = self._handlers.get(name)
        if handler is None:
            return PeriodEvents._make_node(self._bm, name, period)
        expression = handler(name, self._cls, period_fields(period))
        if not isinstance(expression, Expression) or expression.bitmapist is not self._bm:
            raise TypeError(
                f"custom handler {name!r} must return an event or bit operation of this "
                f"client, got {expression!r}"
            )
        return expression.node

    def both(self, name: str, extra: str | None, period: Period) -> Node:
        node = self.one(name, period)
        if extra is None:
            return node
        return make_op(self._scheme, "AND", [node, self.one(extra, period)])


def cohort_table(
    bm: Bitmapist,
    query: CohortQuery,
    *,
    handlers: Mapping[str, Handler] | None = None,
    layout: CohortLayout | None = None,
    compute: Compute = "auto",
) -> CohortTable:
    """Compute the table *query* describes.

    :param handlers: custom selections by name, for this call (see :data:`Handler`).
    :param layout: which periods and row labels (default :func:`native_layout`; a
        bitmapist-compatible wrapper passes ``bitmapist_layout(...)``).
    :param compute: see :data:`Compute`. Both take at most two round trips.
    :raises TypeError: a bad handler mapping, or a handler that returns something else than
        an expression of *bm* (before any I/O).
    """
    if not isinstance(query, CohortQuery):
        raise TypeError(f"query must be a CohortQuery, got {query!r}")
    if compute not in ("auto", "storage", "local"):
        raise ValueError(f"compute must be 'auto', 'storage' or 'local', got {compute!r}")
    selections = _Selections(bm, query.time_group, _check_handlers(handlers))
    if layout is None:
        layout = native_layout(query, bm.options.now_local(), bm.options.tz)
    periods = layout.periods(query.num_of_rows)
    rows_n = layout.num_results
    cohort_nodes = [selections.both(query.select1, query.select1b, p) for p in periods[:rows_n]]
    return_nodes = [selections.both(query.select2, query.select2b, p) for p in periods]
    scheme, token = bm.options.scheme, secrets.token_hex(8)
    if compute == "auto":
        sizes = bm._queries.sizes(leaf_keys([*cohort_nodes, *return_nodes]))
        compute = choose_compute(sizes)
    if compute == "local":
        local = plan_local(cohort_nodes, return_nodes, query.num_of_rows, scheme, token)
        results = _run_plan(bm, local.steps, local.queries, local.temp_keys)
        rows = local.rows(
            results, layout.labels, query.retention, query.as_percent, numpy_choice(bm.use_numpy)
        )
    else:
        plan = plan_table(
            cohort_nodes, return_nodes, query.num_of_rows, query.retention, scheme, token
        )
        results = _run_plan(bm, plan.steps, plan.queries, plan.temp_keys)
        rows = plan.rows(results, layout.labels, query.as_percent)
    return CohortTable(rows, query)


def _run_plan(
    bm: Bitmapist,
    steps: Sequence[BitOpStep],
    queries: Sequence[Query],
    temp_keys: Sequence[str],
) -> list[int | bytes]:
    results = run_with_temporaries(bm._queries, bm.options.scheme, steps, queries, temp_keys)
    return cast("list[int | bytes]", results)  # cohort plans have no ids queries
