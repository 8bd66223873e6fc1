"""Checking stored containers and keys (``bitmapist-async check``), without I/O: sound
containers pass, and a payload that passes always decodes to exactly its stored cardinality."""

from __future__ import annotations

import struct

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from bitmapist_async._core.roaring import bitmap_from_ids, container_problems, join, split
from bitmapist_async._core.store_check import StoreCheckReport, StoreDamage, key_problems

IDS = st.one_of(
    st.sets(st.integers(0, 200_000), min_size=1, max_size=200),
    st.builds(lambda s, n: set(range(s, s + n)), st.integers(0, 200_000), st.integers(1, 70_000)),
    st.sets(st.integers(0, 9_000), min_size=4_100, max_size=4_200),  # a bitset container
)


@settings(suppress_health_check=[HealthCheck.too_slow])  # sets of thousands of ids
@given(IDS, st.booleans())
def test_every_container_the_library_writes_is_sound(ids: set[int], optimize: bool) -> None:
    bitmap = bitmap_from_ids(ids) if optimize else join(split(bitmap_from_ids(ids)))
    containers = split(bitmap)
    for container in containers:
        assert container_problems(container) == []
    nbytes = max(ids) // 8 + 1
    assert key_problems(nbytes, None, containers) == []
    assert key_problems(nbytes - 1, None, containers) != []  # the last id no longer fits


@given(
    st.integers(0, 65_535),
    st.integers(1, 65_536),
    st.integers(0, 1),
    st.one_of(st.binary(max_size=64), st.binary(min_size=8192, max_size=8192)),
)
def test_a_container_that_passes_decodes_to_its_cardinality(
    key: int, card: int, run: int, payload: bytes
) -> None:
    if not container_problems((key, card, run, payload)):
        assert len(join([(key, card, run, payload)])) == card


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ((0, 2, 0, struct.pack("<H", 1)), "array payload of 2 bytes for cardinality 2"),
        ((0, 2, 0, struct.pack("<HH", 5, 1)), "not strictly increasing"),
        ((0, 2, 0, struct.pack("<HH", 5, 5)), "not strictly increasing"),
        ((0, 5000, 0, bytes(8192)), "stored cardinality 5000 != 0 set bits"),
        ((0, 5000, 0, bytes(100)), "bitset payload of 100 bytes"),
        ((0, 3, 1, struct.pack("<HHH", 1, 10, 1)), "stored cardinality 3 != 2 ids in its runs"),
        ((0, 3, 1, struct.pack("<HHHHH", 2, 10, 1, 11, 0)), "out of order"),
        ((0, 3, 1, struct.pack("<HHH", 1, 65_535, 2)), "out of range"),
        ((0, 3, 1, b"\x01"), "has no run count"),
        ((0, 3, 1, struct.pack("<HHH", 2, 1, 2)), "does not hold its 2 runs"),
        ((0, 0, 0, b""), "cardinality 0 is not in [1, 65536]"),
        ((70_000, 1, 0, b"\x00\x00"), "container key 70000"),
        ((0, 1, 2, b"\x00\x00"), "run flag 2"),
        ((0, 1, 0, "text"), "payload is a str"),
    ],
)
def test_damaged_containers(row: tuple[object, object, object, object], problem: str) -> None:
    found = container_problems(row)
    assert any(problem in p for p in found), found


def test_key_problems_and_report() -> None:
    (container,) = split(bitmap_from_ids([70_000]))
    assert key_problems(-1, None, [container]) == ["byte length -1 is not an int >= 0"]
    assert key_problems(9000, "soon", [container]) == ["expiry 'soon' is not a Unix time"]
    damaged = key_problems(9000, None, [(1, 2, 0, b"\x00\x00")])
    assert damaged == ["container 1: array payload of 2 bytes for cardinality 2"]
    assert str(StoreDamage("k", ("a", "b"))) == "key 'k': a; b"
    assert str(StoreDamage(None, ("x",))) == "the store: x"
    assert StoreCheckReport("file:x", 0, 0, ()).ok
    assert not StoreCheckReport("file:x", 1, 1, (StoreDamage("k", ("a",)),)).ok
