"""Redis string-bitmap semantics on roaring bitmaps, against a model of sets and lengths."""

from __future__ import annotations

from typing import Literal

import hypothesis.strategies as st
import pytest
from hypothesis import given
from pyroaring import BitMap

from bitmapist_async._core.bitstrings import (
    BitString,
    bitop,
    by_container,
    complement,
    group_writes,
)

Op = Literal["AND", "OR", "XOR", "NOT"]

VALUES = st.one_of(
    st.none(),
    st.builds(
        lambda ids, pad: BitString(BitMap(ids), (max(ids) // 8 + 1 if ids else 1) + pad),
        st.sets(st.integers(0, 5000), max_size=40),
        st.integers(0, 3),
    ),
)


def model(op: Op, sources: list[BitString | None]) -> tuple[set[int], int] | None:
    nbytes = max((s.nbytes for s in sources if s is not None), default=0)
    if nbytes == 0:
        return None
    sets = [set(s.bits) if s is not None else set() for s in sources]
    if op == "NOT":
        return set(range(8 * nbytes)) - sets[0], nbytes
    result = set(sets[0])
    for other in sets[1:]:
        if op == "AND":
            result &= other
        elif op == "OR":
            result |= other
        else:
            result ^= other
    return result, nbytes


@given(st.sampled_from(["AND", "OR", "XOR"]), st.lists(VALUES, min_size=1, max_size=4))
def test_bitop_matches_model(op: Op, sources: list[BitString | None]) -> None:
    got = bitop(op, sources)
    expected = model(op, sources)
    assert (None if got is None else (set(got.bits), got.nbytes)) == expected


@given(VALUES)
def test_not_complements_within_the_bytes(source: BitString | None) -> None:
    got = bitop("NOT", [source])
    expected = model("NOT", [source])
    assert (None if got is None else (set(got.bits), got.nbytes)) == expected


def test_bitop_arity() -> None:
    with pytest.raises(ValueError, match="NOT"):
        bitop("NOT", [None, None])
    with pytest.raises(ValueError, match="0 sources"):
        bitop("OR", [])


def test_complement_of_a_sparse_bitmap_over_the_whole_id_space_stays_small() -> None:
    ids = BitMap(list(range(0, 2**32, 2**20)))  # 4096 ids, one every 2**20 (no range(): see
    # pyroaring 1.2: BitMap(range(..., 2**32, step)) never returns)
    result = complement(ids, 2**32)
    assert len(result) == 2**32 - 4096
    assert not result.intersect(ids)
    assert len(result.serialize()) < 2_000_000  # 65,536 run containers, not 512 MiB of bitsets


def test_group_writes_last_value_wins_and_tracks_length() -> None:
    grouped = group_writes([("a", 3, 1), ("b", 9, 0), ("a", 3, 0), ("a", 70_000, 1), ("a", 5, 1)])
    assert list(grouped) == ["a", "b"]
    assert list(grouped["a"].sets) == [5, 70_000]
    assert list(grouped["a"].clears) == [3]
    assert grouped["a"].nbytes == 70_000 // 8 + 1
    assert list(grouped["b"].sets) == []
    assert list(grouped["b"].clears) == [9]
    assert grouped["b"].nbytes == 2
    only_marks = group_writes([("c", 9, 1), ("c", 2, 1), ("c", 9, 1)])["c"]
    assert sorted(set(only_marks.sets)) == [2, 9]
    assert (list(only_marks.clears), only_marks.nbytes) == ([], 2)


@given(
    st.lists(st.tuples(st.integers(0, 300_000), st.sampled_from([0, 1])), min_size=1, max_size=60)
)
def test_group_writes_matches_sequential_setbits(writes: list[tuple[int, int]]) -> None:
    model: dict[int, int] = {}
    for offset, value in writes:
        model[offset] = value
    (change,) = group_writes([("k", o, v) for o, v in writes]).values()
    assert set(change.sets) == {o for o, v in model.items() if v}
    assert set(change.clears) == {o for o, v in model.items() if not v}
    assert change.nbytes == max(model) // 8 + 1
    parts = list(by_container(change.sets, change.clears))
    assert [hi for hi, _, _ in parts] == sorted({o >> 16 for o in model})
    for hi, sets, clears in parts:
        assert all(o >> 16 == hi for o in [*sets, *clears])
    assert sorted(o for _, s, _ in parts for o in s) == sorted(change.sets)
    assert sorted(o for _, _, c in parts for o in c) == sorted(change.clears)
