"""What a dashboard request costs the store, estimated before it runs (no I/O).

A request's cost is the bytes of bitmaps the store reads (``BITCOUNT``, ``GET``, the sources of
a ``BITOP``) plus the bytes it creates (``BITOP`` results, held until the request deletes its
temporary keys). Both are *bitmaps touched x bitmap size*: the counts below are upper bounds
of the plans :mod:`bitmapist_async._core.cohort_plan` and
:mod:`bitmapist_async._core.analytics_plan` build, and the size is the largest bitmap among
the request's events (the app measures their year keys, which hold every id their days hold).

The dashboard refuses (413) a request whose estimate is over its ``max_bytes``, naming the
limit; nothing has been sent to the store then.
"""

from __future__ import annotations

from .._core.cohort import CohortQuery

__all__ = (
    "check_cost",
    "cohort_bitmaps",
    "funnel_bitmaps",
    "overview_bitmaps",
    "rolling_bitmaps",
    "trend_bitmaps",
)

#: A ``BITOP`` of two sources touches three bitmaps (two read, one created).
_BITOP = 3


def _combined(extra: bool) -> int:
    """Bitmaps one period's selection touches: its key, and a BITOP when a second event is
    ANDed in the same period."""
    return 1 + (_BITOP if extra else 0)


def cohort_bitmaps(query: CohortQuery, compute: str) -> int:
    """Bitmaps a cohort table touches: every period's selections, then per cell a BITOP (and,
    for unbounded retention, the OR of the later periods: one more BITOP per cell) and its
    count."""
    periods = query.num_results + query.num_of_rows
    selections = periods * (
        _combined(query.select1b is not None) + _combined(query.select2b is not None)
    )
    if compute == "local":
        return selections
    per_cell = _BITOP + 1 + (_BITOP if query.retention == "unbounded" else 0)
    return selections + query.cells * per_cell


def trend_bitmaps(periods: int, extra: bool) -> int:
    """A trend counts each period's selection once."""
    return periods * _combined(extra)


def rolling_bitmaps(periods: int, window: int, extra: bool, compute: str) -> int:
    """Rolling counts read ``periods + window - 1`` selections; in storage, fewer than three
    BITOPs per selection combine them (see ``plan_rolling``)."""
    n = periods + window - 1
    if compute == "local":
        return n * _combined(extra)
    return n * _combined(extra) + 3 * n * _BITOP


def funnel_bitmaps(cohorts: int, steps: int, within: int) -> int:
    """A funnel reads each step's selection in each period, ORs the *within* + 1 periods after
    each cohort (fewer than three BITOPs per period) and ANDs them with the previous step."""
    periods = cohorts + within
    per_step = periods + (3 * periods * _BITOP if within else 0) + cohorts * (_BITOP + 1)
    return cohorts + (steps - 1) * per_step


def overview_bitmaps(events: int, top: int) -> int:
    """The overview counts every event's month (to rank them), then for the top events the
    day and the 7 and 30 days to it (fetched once, combined here)."""
    return events + top * (1 + 7 + 30)


def check_cost(bitmaps: int, bitmap_bytes: int, max_bytes: int) -> int:
    """The estimated bytes; :class:`~._params.BadRequest` (413) when over *max_bytes*."""
    from ._params import BadRequest

    cost = bitmaps * bitmap_bytes
    if cost > max_bytes:
        raise BadRequest(
            f"This request would make the store read or create about {_size(cost)} of bitmaps "
            f"({bitmaps:,} bitmaps of up to {_size(bitmap_bytes)}); the dashboard's limit is "
            f"{_size(max_bytes)} per request (max_bytes). Ask for fewer periods, rows or steps.",
            413,
        )
    return cost


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n_f = n / 1024
        if n_f < 1024 or unit == "TiB":
            return f"{n_f:,.1f} {unit}"
        n = int(n_f)
    return f"{n} B"  # pragma: no cover
