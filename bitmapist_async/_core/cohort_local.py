"""Planning a cohort table whose cells are counted here rather than by storage.

``compute="local"``: storage materialises each selection once (the composite ones with
``BITOP``, under temporary keys) and returns every distinct bitmap with ``GET`` in one round
trip; the ``num_results x (num_of_rows + 1)`` intersections are then counted in this process
(numpy's ``bitwise_count`` when numpy >= 2 is available, else Python's ``int.bit_count``).
Far fewer commands than :mod:`.cohort_plan`'s one ``BITOP`` + ``BITCOUNT`` per cell, at the cost
of moving every bitmap to the client: best for id spaces up to a few million.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .cohort import Retention, Row
from .cohort_plan import StepBuilder, cell_value
from .keys import KeyScheme
from .numpy_lazy import numpy_with_bitwise_count as _numpy
from .plan import BitOpStep, Node, Query

__all__ = ("LocalPlan", "count_cells", "have_bitwise_count", "numpy_choice", "plan_local")


Counts = tuple[list[int], list[int], list[list[int]]]


def have_bitwise_count() -> bool:
    """Whether numpy >= 2 (``numpy.bitwise_count``) is importable."""
    return _numpy() is not None


def numpy_choice(use_numpy: bool | None) -> bool | None:
    """A client's ``use_numpy`` for local counting, unless numpy >= 2 is missing (then pure
    Python)."""
    return use_numpy if use_numpy is False or have_bitwise_count() else False


def _counts_python(
    bitmaps: Sequence[bytes], cohort_at: Sequence[int], return_at: Sequence[int],
    num_of_rows: int, retention: Retention,
) -> Counts:  # fmt: skip
    width = max((len(b) for b in bitmaps), default=0)
    # Same length for all, so that bit i of every bitmap is the same bit of every int.
    ints = [int.from_bytes(b.ljust(width, b"\0"), "big") for b in bitmaps]
    cohorts = [ints[i] for i in cohort_at]
    columns = [ints[i] for i in return_at]
    if retention == "unbounded":
        for i in range(len(columns) - 2, -1, -1):
            columns[i] |= columns[i + 1]
    sizes = [c.bit_count() for c in cohorts]
    returning = [c.bit_count() for c in columns]
    cells = [
        [(cohort & columns[r + k]).bit_count() for k in range(num_of_rows + 1)]
        for r, cohort in enumerate(cohorts)
    ]
    return sizes, returning, cells


def _counts_numpy(
    bitmaps: Sequence[bytes], cohort_at: Sequence[int], return_at: Sequence[int],
    num_of_rows: int, retention: Retention,
) -> Counts:  # fmt: skip
    np = _numpy()
    width = max(8, -(-max((len(b) for b in bitmaps), default=0) // 8) * 8)
    packed = b"".join(b.ljust(width, b"\0") for b in bitmaps)
    matrix = np.frombuffer(packed, dtype=np.uint64).reshape(len(bitmaps), width // 8)
    cohorts = matrix[list(cohort_at)]
    columns = matrix[list(return_at)]
    if retention == "unbounded":
        columns = np.bitwise_or.accumulate(columns[::-1], axis=0)[::-1]
    rows = len(cohort_at)
    sizes = np.bitwise_count(cohorts).sum(axis=1, dtype=np.int64)
    returning = np.bitwise_count(columns).sum(axis=1, dtype=np.int64)
    per_offset = [
        np.bitwise_count(cohorts & columns[k : k + rows]).sum(axis=1, dtype=np.int64)
        for k in range(num_of_rows + 1)
    ]
    cells = np.stack(per_offset, axis=1) if per_offset else np.zeros((rows, 0), np.int64)
    return sizes.tolist(), returning.tolist(), cells.tolist()


def count_cells(
    bitmaps: Sequence[bytes],
    cohort_at: Sequence[int],
    return_at: Sequence[int],
    num_of_rows: int,
    retention: Retention,
    use_numpy: bool | None = None,
) -> Counts:
    """Cohort sizes, return counts per period (suffix unions when unbounded) and cell
    intersections, from raw bitmaps (``GET`` bytes).

    :param cohort_at: for each row, the index of its cohort bitmap in *bitmaps*.
    :param return_at: for each period, the index of its return bitmap in *bitmaps*.
    :param use_numpy: ``None``: numpy when numpy >= 2 is importable.
    """
    if use_numpy is None:
        use_numpy = _numpy() is not None
    if use_numpy and _numpy() is None:
        raise RuntimeError("use_numpy=True needs numpy >= 2 (bitwise_count)")
    counter = _counts_numpy if use_numpy else _counts_python
    return counter(bitmaps, cohort_at, return_at, num_of_rows, retention)


@dataclass(frozen=True, slots=True)
class LocalPlan:
    """Steps that materialise the composite selections, one ``GET`` per distinct bitmap."""

    steps: tuple[BitOpStep, ...]
    queries: tuple[Query, ...]
    temp_keys: tuple[str, ...]
    cohort_at: tuple[int, ...]
    return_at: tuple[int, ...]
    num_of_rows: int

    def rows(
        self,
        results: Sequence[int | bytes],
        labels: Sequence[datetime],
        retention: Retention,
        as_percent: bool,
        use_numpy: bool | None = None,
    ) -> list[Row]:
        """Bitmapist-shaped rows from the replies to :attr:`queries`."""
        if len(results) != len(self.queries):
            raise ValueError(f"expected {len(self.queries)} results, got {len(results)}")
        bitmaps = [r if isinstance(r, bytes) else b"" for r in results]
        sizes, returning, cells = count_cells(
            bitmaps, self.cohort_at, self.return_at, self.num_of_rows, retention, use_numpy
        )
        table: list[Row] = []
        for r, label in enumerate(labels):
            row: Row = [label, int(sizes[r])]
            for k in range(self.num_of_rows + 1):
                row.append(
                    cell_value(int(sizes[r]), int(returning[r + k]), int(cells[r][k]), as_percent)
                )
            table.append(row)
        return table


def plan_local(
    cohorts: Sequence[Node],
    returns: Sequence[Node],
    num_of_rows: int,
    scheme: KeyScheme,
    token: str,
) -> LocalPlan:
    """Plan a table counted locally (same arguments as :func:`.cohort_plan.plan_table`)."""
    if not cohorts:
        raise ValueError("a table needs at least one row")
    if len(returns) != len(cohorts) + num_of_rows:
        raise ValueError(
            f"expected {len(cohorts) + num_of_rows} return selections "
            f"({len(cohorts)} rows + num_of_rows={num_of_rows}), got {len(returns)}"
        )
    builder = StepBuilder(scheme, token)
    keys: dict[str, int] = {}

    def index(node: Node) -> int:
        return keys.setdefault(builder.add_node(node, scheme), len(keys))

    cohort_at = tuple(index(node) for node in cohorts)
    return_at = tuple(index(node) for node in returns)
    return LocalPlan(
        steps=tuple(builder.steps),
        queries=tuple(Query("get", key) for key in keys),
        temp_keys=tuple(step.dest for step in builder.steps),
        cohort_at=cohort_at,
        return_at=return_at,
        num_of_rows=num_of_rows,
    )
