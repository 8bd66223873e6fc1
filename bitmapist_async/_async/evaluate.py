"""Evaluating a plan on any storage, standalone ``NOT`` included.

A ``NOT``'s universe depends on its operand's largest id (see ``_core/plan.py``), which no
backend can be asked for inside one pipeline: each level of nested ``NOT``\\s costs one round
trip that reads the operands' bitmaps (their bytes; in the sharded layout the stored pieces,
which is one round trip per operand), and one write of the one-bit keys their masks are built
from. Plans without ``NOT`` go to storage unchanged, in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

from .._core.decode import largest_id
from .._core.errors import StorageTimeoutError, StorageUnavailableError
from .._core.keys import KeyScheme
from .._core.plan import BitOpStep, Query, complement_stage, resolve_complements
from .storage import AsyncSegmentedStorage, AsyncStorage, QueryResult

__all__ = ("resolve_steps", "run_plan", "run_with_temporaries")


async def resolve_steps(
    storage: AsyncStorage, scheme: KeyScheme, steps: Sequence[BitOpStep]
) -> list[BitOpStep]:
    """*steps* with every standalone ``NOT`` replaced by content-only steps (reading each
    operand's largest id and writing the one-bit keys the replacements use)."""
    current = list(steps)
    while (stage := complement_stage(current, scheme)) is not None:
        found = await _largest_ids(storage, stage.steps, stage.sources)
        largest = dict(zip(stage.indices, found, strict=True))
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


async def run_with_temporaries(
    storage: AsyncStorage,
    scheme: KeyScheme,
    steps: Sequence[BitOpStep],
    queries: Sequence[Query],
    temp_keys: Sequence[str],
) -> list[QueryResult]:
    """:func:`run_plan` in one round trip, then delete the plan's temporary keys in a second
    (if it has any): what cohorts and analytics run.

    After a failure the keys are deleted on a best-effort basis, except when storage did not
    answer (timed out or unreachable): then they expire after ``bitop_ttl`` instead of making
    the caller wait a second deadline.
    """
    try:
        results = await run_plan(storage, scheme, steps, queries)
    except Exception as exc:
        if temp_keys and not isinstance(exc, (StorageTimeoutError, StorageUnavailableError)):
            with suppress(Exception):
                await storage.delete(temp_keys)
        raise
    if temp_keys:
        await storage.delete(temp_keys)
    return results


async def _largest_ids(
    storage: AsyncStorage, steps: Sequence[BitOpStep], keys: Sequence[str]
) -> list[int]:
    """The largest id of each of *keys* after *steps* (``-1`` for none): from the bitmap's
    bytes, or its pieces where the storage keeps them so (no zeros between shards)."""
    if isinstance(storage, AsyncSegmentedStorage):
        out = []
        for key in keys:
            pieces = await storage.evaluate_segments(steps, key)
            out.append(max((largest_id(data, start) for start, data in pieces), default=-1))
        return out
    results = await storage.evaluate(steps, [Query("get", key) for key in keys])
    return [largest_id(data) if isinstance(data, bytes) else -1 for data in results]
