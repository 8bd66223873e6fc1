"""Evaluating a plan on any storage, standalone ``NOT`` included.

A ``NOT``'s universe depends on its operand's largest id (see ``_core/plan.py``), which no
backend can be asked for inside one pipeline: each level of nested ``NOT``\\s costs one round
trip that reads the operands' ids, and one write of the one-bit keys their masks are built
from. Plans without ``NOT`` go to storage unchanged, in one round trip.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from .._core.keys import KeyScheme
from .._core.plan import BitOpStep, Query, complement_stage, resolve_complements
from .storage import AsyncStorage, QueryResult

__all__ = ("resolve_steps", "run_plan")


async def resolve_steps(
    storage: AsyncStorage, scheme: KeyScheme, steps: Sequence[BitOpStep]
) -> list[BitOpStep]:
    """*steps* with every standalone ``NOT`` replaced by content-only steps (reading each
    operand's largest id and writing the one-bit keys the replacements use)."""
    current = list(steps)
    while (stage := complement_stage(current, scheme)) is not None:
        reads = [Query("ids", source) for source in stage.sources]
        results = await storage.evaluate(stage.steps, reads)
        largest = {i: _largest(r) for i, r in zip(stage.indices, results, strict=True)}
        current, units = resolve_complements(current, largest, scheme)
        if units:
            await storage.write_bits([(key, offset, 1) for key, offset in units])
    return current


async def run_plan(
    storage: AsyncStorage,
    scheme: KeyScheme,
    steps: Sequence[BitOpStep],
    queries: Sequence[Query],
) -> list[QueryResult]:
    """``storage.evaluate(steps, queries)`` with the library's meaning of ``NOT``."""
    return await storage.evaluate(await resolve_steps(storage, scheme, steps), queries)


def _largest(result: QueryResult) -> int:
    assert isinstance(result, array)
    return int(result[-1]) if len(result) else -1
