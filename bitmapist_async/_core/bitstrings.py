"""Redis string-bitmap semantics on roaring bitmaps.

A Redis bitmap is a string: besides its set bits it has a *byte length*, which decides what
``BITOP NOT`` complements and how long ``GET`` answers are. :class:`BitString` keeps both, and
the functions here give exactly Redis's results:

* ``SETBIT key offset value`` makes the string at least ``offset // 8 + 1`` bytes long, even when
  it clears a bit (and creates the key even with value 0).
* ``BITOP AND|OR|XOR`` results are as long as the longest operand (a missing key is an empty
  string); ``BITOP NOT`` is as long as its operand and complements every bit of those bytes.
  A zero-length result deletes the destination key, so it is ``None`` here.
* A missing key reads as ``None``: ``EXISTS`` 0, ``BITCOUNT`` 0, ``GET`` ``b""``.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pyroaring import BitMap

__all__ = ("BitString", "KeyWrites", "bitop", "by_container", "complement", "group_writes")

#: Ids complemented per pass of :func:`complement` (bounds its scratch memory at 2 MiB).
_COMPLEMENT_WINDOW = 1 << 24


@dataclass(frozen=True, slots=True)
class BitString:
    """A Redis string used as a bitmap: its set bits and its length in bytes (>= 1)."""

    bits: BitMap
    nbytes: int


def complement(bits: BitMap, nbits: int) -> BitMap:
    """Every id in ``[0, nbits)`` that is not in *bits*, run-optimized.

    Works window by window, so complementing a sparse bitmap over ``[0, 2**32)`` never holds
    more than a few MiB of dense containers.
    """
    out = BitMap()
    for start in range(0, nbits, _COMPLEMENT_WINDOW):
        window = BitMap()
        window.add_range(start, min(nbits, start + _COMPLEMENT_WINDOW))
        window.difference_update(bits)
        window.run_optimize()
        out |= window
    return out


def bitop(
    op: Literal["AND", "OR", "XOR", "NOT"], sources: Sequence[BitString | None]
) -> BitString | None:
    """The value ``BITOP op dest *sources`` stores at ``dest`` (``None``: dest is deleted).

    :raises ValueError: no source, or ``NOT`` with more than one.
    """
    if not sources or (op == "NOT" and len(sources) != 1):
        raise ValueError(f"BITOP {op} with {len(sources)} sources")
    nbytes = max(s.nbytes if s is not None else 0 for s in sources)
    if nbytes == 0:
        return None
    if op == "NOT":
        only = sources[0]
        assert only is not None
        return BitString(complement(only.bits, 8 * nbytes), nbytes)
    sets = [s.bits if s is not None else BitMap() for s in sources]
    if op == "AND":
        result = BitMap.intersection(*sets) if len(sets) > 1 else sets[0].copy()
    elif op == "OR":
        result = BitMap.union(*sets) if len(sets) > 1 else sets[0].copy()
    else:
        result = sets[0].copy()
        for other in sets[1:]:
            result ^= other
    result.run_optimize()
    return BitString(result, nbytes)


@dataclass(slots=True)
class KeyWrites:
    """The net effect of a sequence of SETBITs on one key."""

    #: Sorted offsets whose final value is 1, and those whose final value is 0 (compact arrays:
    #: a batch of marks costs 4 bytes per id here).
    sets: array[int]
    clears: array[int]
    #: The byte length the key needs afterwards: ``max(offset) // 8 + 1``.
    nbytes: int


def _net(offsets: list[int], values: list[int]) -> KeyWrites:
    if all(values) or not any(values):  # the usual case: only marks (or only unmarks)
        ordered = array("I", sorted(offsets))  # repeats are harmless
        empty: array[int] = array("I")
        sets, clears = (ordered, empty) if values[0] else (empty, ordered)
        return KeyWrites(sets, clears, ordered[-1] // 8 + 1)
    final = dict(zip(offsets, values, strict=True))  # later writes of an offset win
    sets = array("I", sorted(o for o, v in final.items() if v))
    clears = array("I", sorted(o for o, v in final.items() if not v))
    return KeyWrites(sets, clears, max(final) // 8 + 1)


def group_writes(writes: Sequence[tuple[str, int, int]]) -> dict[str, KeyWrites]:
    """Collapse ``(key, offset, value)`` SETBITs, applied in order, into one change per key
    (the last value written to a bit wins); keys in first-write order."""
    offsets: dict[str, list[int]] = {}
    values: dict[str, list[int]] = {}
    for key, offset, value in writes:
        if key not in offsets:
            offsets[key], values[key] = [], []
        offsets[key].append(offset)
        values[key].append(value)
    return {key: _net(offsets[key], values[key]) for key in offsets}


def by_container(
    sets: array[int], clears: array[int]
) -> Iterator[tuple[int, array[int], array[int]]]:
    """Split sorted *sets* and *clears* by roaring container (the high 16 bits):
    ``(high bits, sets in it, clears in it)`` in container order."""
    i = j = 0
    while i < len(sets) or j < len(clears):
        hi = min(
            sets[i] >> 16 if i < len(sets) else 1 << 16,
            clears[j] >> 16 if j < len(clears) else 1 << 16,
        )
        bound = (hi + 1) << 16
        i2, j2 = bisect_left(sets, bound, i), bisect_left(clears, bound, j)
        yield hi, sets[i:i2], clears[j:j2]
        i, j = i2, j2
