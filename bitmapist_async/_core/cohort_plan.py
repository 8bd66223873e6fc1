"""Planning a whole cohort table as one batch of ``BITOP`` steps and ``BITCOUNT`` queries.

Given the expression tree of the cohort selection for every row (*select1* & *select1b*) and of
the return selection for every period a cell looks at (*select2* & *select2b*),
:func:`plan_table` lists every step and query the table needs, so that storage evaluates them
all in **one** pipelined round trip, plus a second one that deletes every temporary key.

Every temporary key gets a name unique to this computation
(``{prefix}bitop_cohort_{token}_{n}``): two tables computed at once never read or delete each
other's intermediate results, and the keys still match ``delete_temporary_bitop_keys``.

Queries, in order: the size of each row's cohort, the count of each period's return selection
(a cell is ``""`` when it is 0), then each cell's intersection count. :meth:`TablePlan.rows`
turns the replies into bitmapist-shaped rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .cohort import Cell, Retention, Row
from .keys import KeyScheme
from .plan import BitOpStep, Leaf, Node, Op, Query, compile_plan

__all__ = ("StepBuilder", "TablePlan", "cell_value", "plan_table")


def cell_value(size: int, returning: int, both: int, as_percent: bool) -> Cell:
    """One cell, exactly as bitmapist 3.x computes it.

    :param size: the row's cohort size.
    :param returning: how many users did the return selection in the cell's period(s).
    :param both: how many of the cohort are among them.
    """
    if size == 0 or returning == 0:
        return ""
    if both == 0:
        return 0.0
    if as_percent:
        return (float(both) / float(size)) * 100
    return both


@dataclass(frozen=True, slots=True)
class TablePlan:
    """Steps and queries for one table, and how to read the replies."""

    steps: tuple[BitOpStep, ...]
    queries: tuple[Query, ...]
    temp_keys: tuple[str, ...]
    num_results: int
    num_of_rows: int

    def rows(
        self, results: Sequence[int | bytes], labels: Sequence[datetime], as_percent: bool
    ) -> list[Row]:
        """Bitmapist-shaped rows from the replies to :attr:`queries`."""
        if len(results) != len(self.queries):
            raise ValueError(f"expected {len(self.queries)} results, got {len(results)}")
        if len(labels) != self.num_results:
            raise ValueError(f"expected {self.num_results} labels, got {len(labels)}")
        counts = [int(r) for r in results]
        rows_n, width = self.num_results, self.num_of_rows + 1
        sizes = counts[:rows_n]
        returning = counts[rows_n : 2 * rows_n + self.num_of_rows]
        cells = counts[2 * rows_n + self.num_of_rows :]
        table: list[Row] = []
        for r in range(rows_n):
            row: Row = [labels[r], sizes[r]]
            for k in range(width):
                row.append(cell_value(sizes[r], returning[r + k], cells[r * width + k], as_percent))
            table.append(row)
        return table


class StepBuilder:
    """Collects steps under unique temporary names."""

    def __init__(self, scheme: KeyScheme, token: str) -> None:
        self.base = f"{scheme.bitop_prefix}cohort_{token}_"
        self.renamed: dict[str, str] = {}
        self.steps: list[BitOpStep] = []

    def fresh(self) -> str:
        return f"{self.base}{len(self.steps)}"

    def add_node(self, node: Node, scheme: KeyScheme) -> str:
        """Materialise *node* (its steps, renamed); return the key that holds it."""
        if isinstance(node, Leaf):
            return node.key
        plan = compile_plan(node, scheme)
        for step in plan.steps:
            if step.dest in self.renamed:
                continue
            sources = tuple(self.renamed.get(s, s) for s in step.sources)
            dest = self.fresh()
            self.steps.append(BitOpStep(step.op, dest, sources))
            self.renamed[step.dest] = dest
        return self.renamed.get(plan.result, plan.result)

    def add(self, op: Op, sources: tuple[str, ...]) -> str:
        dest = self.fresh()
        self.steps.append(BitOpStep(op, dest, sources))
        return dest


def plan_table(
    cohorts: Sequence[Node],
    returns: Sequence[Node],
    num_of_rows: int,
    retention: Retention,
    scheme: KeyScheme,
    token: str,
) -> TablePlan:
    """Plan a table.

    :param cohorts: row r's cohort selection (``select1 & select1b`` in row r's period).
    :param returns: the return selection (``select2 & select2b``) in period i, for
        ``i in range(len(cohorts) + num_of_rows)``; cell (r, k) looks at period ``r + k``.
    :param retention: ``"classic"``: cell (r, k) intersects with period ``r + k``;
        ``"unbounded"``: with the union of periods ``r + k`` to the last.
    :param token: makes the temporary key names unique to this computation.
    """
    rows_n = len(cohorts)
    if rows_n < 1:
        raise ValueError("a table needs at least one row")
    if len(returns) != rows_n + num_of_rows:
        raise ValueError(
            f"expected {rows_n + num_of_rows} return selections "
            f"({rows_n} rows + num_of_rows={num_of_rows}), got {len(returns)}"
        )
    builder = StepBuilder(scheme, token)
    cohort_keys = [builder.add_node(node, scheme) for node in cohorts]
    return_keys = [builder.add_node(node, scheme) for node in returns]
    if retention == "unbounded":
        # columns[i] = returns[i] | returns[i + 1] | ... | returns[-1], built back to front.
        columns = list(return_keys)
        for i in range(len(columns) - 2, -1, -1):
            columns[i] = builder.add("OR", (return_keys[i], columns[i + 1]))
    else:
        columns = return_keys
    cell_keys = [
        builder.add("AND", (cohort_keys[r], columns[r + k]))
        for r in range(rows_n)
        for k in range(num_of_rows + 1)
    ]
    queries = tuple(Query("count", key) for key in (*cohort_keys, *columns, *cell_keys))
    return TablePlan(
        steps=tuple(builder.steps),
        queries=queries,
        temp_keys=tuple(step.dest for step in builder.steps),
        num_results=rows_n,
        num_of_rows=num_of_rows,
    )
