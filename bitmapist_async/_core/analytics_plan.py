"""Rolling actives and funnels, the I/O-free half: parameter checks, the ``BITOP`` plans that
storage runs in one round trip, the same computations on fetched bitmaps, and the
:class:`Funnel` result.

Imports only other ``_core`` modules. Invariants:

* Every temporary key a plan creates is named ``{prefix}bitop_analytics_{token}_{n}`` and
  listed in the plan's ``temp_keys``, so the caller deletes exactly those in a second round
  trip (and two computations at once never share one).
* A window of *w* periods over *n* consecutive bitmaps costs fewer than ``3n`` two-operand
  ``BITOP``\\ s, whatever *w* (prefix and suffix unions inside blocks of *w*: each window is
  the union of one suffix and one prefix), not ``n * w``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from .cohort_plan import StepBuilder
from .keys import KeyScheme
from .numpy_lazy import numpy_with_bitwise_count as _numpy
from .plan import BitOpStep, Node, Query
from .validate import check_name

__all__ = (
    "MAX_FUNNEL_STEPS",
    "Compute",
    "FetchPlan",
    "Funnel",
    "StoragePlan",
    "check_compute",
    "check_step_specs",
    "check_window",
    "check_within",
    "funnel_local",
    "plan_fetch",
    "plan_funnel",
    "plan_rolling",
    "rolling_local",
    "step_label",
)

#: The most steps a funnel may have.
MAX_FUNNEL_STEPS = 20

#: Where a rolling count or a funnel is computed: ``"storage"`` (``BITOP`` + ``BITCOUNT``
#: there, only counts travel) or ``"local"`` (each bitmap travels once, counted here).
Compute: TypeAlias = Literal["storage", "local"]


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value!r}")
    return value


def check_window(window: object) -> int:
    """A rolling window: an ``int`` of at least 1 periods."""
    return _check_int("window", window, 1)


def check_within(within: object) -> int:
    """A funnel's look-ahead: an ``int`` of at least 0 periods."""
    return _check_int("within", within, 0)


def check_compute(compute: object) -> Compute:
    if compute not in ("storage", "local"):
        raise ValueError(f"compute must be 'storage' or 'local', got {compute!r}")
    return compute


def check_step_specs(steps: object) -> tuple[Any, ...]:
    """A funnel's steps: a sequence of 1 to :data:`MAX_FUNNEL_STEPS` event names or callables.

    :raises TypeError: not a sequence (a lone ``str`` included), or a step of another type.
    :raises ValueError: no step, too many, or an invalid name.
    """
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise TypeError(f"steps must be a sequence of event names or callables, got {steps!r}")
    if not steps:
        raise ValueError("a funnel needs at least one step, got none")
    if len(steps) > MAX_FUNNEL_STEPS:
        raise ValueError(
            f"a funnel has at most MAX_FUNNEL_STEPS={MAX_FUNNEL_STEPS} steps, got {len(steps)}"
        )
    for i, step in enumerate(steps):
        if isinstance(step, str):
            try:
                check_name(step)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"step {i}: {exc}") from None
        elif not callable(step):
            raise TypeError(f"step {i} must be an event name or a callable, got {step!r}")
    return tuple(steps)


def step_label(step: str | Callable[..., Any]) -> str:
    """The name a funnel shows for *step*: the event name, or the callable's ``__name__``."""
    if isinstance(step, str):
        return step
    return str(getattr(step, "__name__", repr(step)))


@dataclass(frozen=True, slots=True)
class Funnel:
    """A funnel: for each cohort period, how many did each step.

    :ivar steps: the step names (a callable's ``__name__``).
    :ivar cohorts: ``[(period start, [count per step]), ...]``, one per period of the range.
    :ivar totals: ``[count per step]``, summed over the cohorts (a user in two cohorts
        counts twice).
    """

    steps: tuple[str, ...]
    cohorts: list[tuple[datetime, list[int]]]
    totals: list[int] = field(init=False)

    def __post_init__(self) -> None:
        totals = [sum(counts[k] for _, counts in self.cohorts) for k in range(len(self.steps))]
        object.__setattr__(self, "totals", totals)

    @property
    def conversions(self) -> list[float]:
        """From each step to the next, ``totals[k + 1] / totals[k]`` (``0.0`` when step *k*
        has nobody): one fewer than there are steps."""
        t = self.totals
        return [t[k + 1] / t[k] if t[k] else 0.0 for k in range(len(t) - 1)]

    @property
    def overall(self) -> float:
        """From the first step to the last: ``totals[-1] / totals[0]`` (``0.0`` if empty)."""
        return self.totals[-1] / self.totals[0] if self.totals[0] else 0.0


class _Builder(StepBuilder):
    """Steps under ``{prefix}bitop_analytics_{token}_{n}``."""

    def __init__(self, scheme: KeyScheme, token: str) -> None:
        super().__init__(scheme, token)
        self.base = f"{scheme.bitop_prefix}analytics_{token}_"


def _windows(builder: StepBuilder, base: Sequence[str], width: int, count: int) -> list[str]:
    """Keys holding ``OR(base[j : j + width])`` for ``j in range(count)``.

    Inside each block of *width* consecutive bitmaps, prefix unions grow forwards and suffix
    unions backwards; a window that starts in block *b* is the suffix of its start in *b* OR
    the prefix of its end in block *b + 1* (a window that starts a block is that block).
    """
    if len(base) != count + width - 1:
        raise ValueError(f"expected {count + width - 1} bitmaps, got {len(base)}")
    if width == 1:
        return list(base)
    n = len(base)
    prefix: list[str] = []
    for i in range(n):
        prefix.append(base[i] if i % width == 0 else builder.add("OR", (prefix[-1], base[i])))
    suffix: dict[int, str] = {}
    for start in range(0, count, width):
        end = start + width - 1  # < n: every window starting in this block ends in the next
        if start + 1 >= count:
            break
        run = suffix[end] = base[end]
        for i in range(end - 1, start, -1):  # j == start needs no suffix: see below
            run = builder.add("OR", (base[i], run))
            if i < count:
                suffix[i] = run
    return [
        prefix[j + width - 1]
        if j % width == 0
        else builder.add("OR", (suffix[j], prefix[j + width - 1]))
        for j in range(count)
    ]


@dataclass(frozen=True, slots=True)
class StoragePlan:
    """Steps and ``BITCOUNT`` queries run in one round trip; ``temp_keys`` deleted after."""

    steps: tuple[BitOpStep, ...]
    queries: tuple[Query, ...]
    temp_keys: tuple[str, ...]


def _plan(builder: StepBuilder, counted: Sequence[str]) -> StoragePlan:
    return StoragePlan(
        steps=tuple(builder.steps),
        queries=tuple(Query("count", key) for key in counted),
        temp_keys=tuple(step.dest for step in builder.steps),
    )


def plan_rolling(nodes: Sequence[Node], window: int, scheme: KeyScheme, token: str) -> StoragePlan:
    """Count the union of every *window* consecutive selections of *nodes*: one count for
    each of the last ``len(nodes) - window + 1`` of them."""
    builder = _Builder(scheme, token)
    base = [builder.add_node(node, scheme) for node in nodes]
    return _plan(builder, _windows(builder, base, window, len(nodes) - window + 1))


def plan_funnel(
    first: Sequence[Node],
    later: Sequence[Sequence[Node]],
    within: int,
    scheme: KeyScheme,
    token: str,
) -> StoragePlan:
    """Count each step of a funnel, cohort by cohort.

    :param first: the first step's selection in each cohort period *p*.
    :param later: for each later step, its selection in each period from the first cohort's to
        the last cohort's + *within*.
    :return: queries ordered cohort by cohort, step by step.
    """
    builder = _Builder(scheme, token)
    current = [builder.add_node(node, scheme) for node in first]
    counted = [list(current)]
    for nodes in later:
        base = [builder.add_node(node, scheme) for node in nodes]
        reach = _windows(builder, base, within + 1, len(first))
        current = [builder.add("AND", (c, r)) for c, r in zip(current, reach, strict=True)]
        counted.append(current)
    by_cohort = [step[p] for p in range(len(first)) for step in counted]
    return _plan(builder, by_cohort)


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """Steps that materialise the composite selections, one ``GET`` per distinct bitmap, and
    for each node given the index of its bitmap among the replies."""

    steps: tuple[BitOpStep, ...]
    queries: tuple[Query, ...]
    temp_keys: tuple[str, ...]
    index: tuple[int, ...]


def plan_fetch(nodes: Sequence[Node], scheme: KeyScheme, token: str) -> FetchPlan:
    builder = _Builder(scheme, token)
    keys: dict[str, int] = {}
    index = tuple(keys.setdefault(builder.add_node(n, scheme), len(keys)) for n in nodes)
    return FetchPlan(
        steps=tuple(builder.steps),
        queries=tuple(Query("get", key) for key in keys),
        temp_keys=tuple(step.dest for step in builder.steps),
        index=index,
    )


# -- counting fetched bitmaps ------------------------------------------------------------------


def _use_numpy(use_numpy: bool | None) -> bool:
    if use_numpy is None:
        return _numpy() is not None
    if use_numpy and _numpy() is None:
        raise RuntimeError("use_numpy=True needs numpy >= 2 (bitwise_count)")
    return use_numpy


def _ints(bitmaps: Sequence[bytes]) -> list[int]:
    width = max((len(b) for b in bitmaps), default=0)
    # Same length for all, so that bit i of every bitmap is the same bit of every int.
    return [int.from_bytes(b.ljust(width, b"\0"), "big") for b in bitmaps]


def _windows_python(values: Sequence[int], width: int, count: int) -> list[int]:
    """``OR(values[j : j + width])`` for ``j in range(count)``, as :func:`_windows` plans it."""
    if width == 1:
        return list(values[:count])
    n = len(values)
    prefix = list(values)
    suffix = list(values)
    for i in range(1, n):
        if i % width:
            prefix[i] |= prefix[i - 1]
    for i in range(n - 2, -1, -1):
        if (i + 1) % width:
            suffix[i] |= suffix[i + 1]
    return [suffix[j] | prefix[j + width - 1] for j in range(count)]


def _matrix(np: Any, bitmaps: Sequence[bytes]) -> Any:
    """One bitmap per row, zero-padded to a common multiple of 8 bytes (slice assignment
    into one buffer: padding each bitmap first and joining copies everything twice)."""
    width = max(8, -(-max((len(b) for b in bitmaps), default=0) // 8) * 8)
    buffer = bytearray(len(bitmaps) * width)
    for i, b in enumerate(bitmaps):
        buffer[i * width : i * width + len(b)] = b
    return np.frombuffer(buffer, dtype=np.uint64).reshape(len(bitmaps), width // 8)


def _windows_numpy(np: Any, rows: Any, width: int, count: int) -> Any:
    """``OR(rows[j : j + width])`` for ``j in range(count)``, on a matrix of bitmaps (one per
    row), by doubling: after level *k* row *i* holds the union of ``2**k`` rows from *i*, and a
    window is the union of two such spans that overlap. Every step is one vector operation on
    contiguous rows (a block-by-block loop on strided rows measured slower)."""
    if width == 1:
        return rows[:count]
    n, words = rows.shape
    spare = np.empty((n, words), dtype=np.uint64)
    current, span = rows, 1
    while span * 2 <= width:
        valid = current.shape[0] - span
        target = spare[:valid]
        np.bitwise_or(current[:valid], current[span : span + valid], out=target)
        spare = current if current is not rows else np.empty((n, words), dtype=np.uint64)
        current, span = target, span * 2
    out = np.empty((count, words), dtype=np.uint64)
    np.bitwise_or(current[:count], current[width - span : width - span + count], out=out)
    return out


def rolling_local(
    bitmaps: Sequence[bytes], window: int, use_numpy: bool | None = None
) -> list[int]:
    """What :func:`plan_rolling` counts, from the selections' bitmaps (``GET`` bytes)."""
    count = len(bitmaps) - window + 1
    if _use_numpy(use_numpy):
        np = _numpy()
        union = _windows_numpy(np, _matrix(np, bitmaps), window, count)
        return [int(c) for c in np.bitwise_count(union).sum(axis=1, dtype=np.int64)]
    return [v.bit_count() for v in _windows_python(_ints(bitmaps), window, count)]


def funnel_local(
    first: Sequence[bytes],
    later: Sequence[Sequence[bytes]],
    within: int,
    use_numpy: bool | None = None,
) -> list[list[int]]:
    """What :func:`plan_funnel` counts, from the bitmaps: ``[count per step]`` per cohort."""
    cohorts = len(first)
    flat = [*first, *(b for step in later for b in step)]
    if _use_numpy(use_numpy):
        np = _numpy()
        m = _matrix(np, flat)
        current = m[:cohorts]
        counts = [np.bitwise_count(current).sum(axis=1, dtype=np.int64)]
        at = cohorts
        for step in later:
            current = current & _windows_numpy(np, m[at : at + len(step)], within + 1, cohorts)
            counts.append(np.bitwise_count(current).sum(axis=1, dtype=np.int64))
            at += len(step)
        return [[int(c[p]) for c in counts] for p in range(cohorts)]
    ints = _ints(flat)
    values = ints[:cohorts]
    per_step = [[v.bit_count() for v in values]]
    at = cohorts
    for step in later:
        reach = _windows_python(ints[at : at + len(step)], within + 1, cohorts)
        values = [v & r for v, r in zip(values, reach, strict=True)]
        per_step.append([v.bit_count() for v in values])
        at += len(step)
    return [[c[p] for c in per_step] for p in range(cohorts)]
