"""The sharded layout's I/O-free parts: key names, id arithmetic, bitmap slicing and plans."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given

from bitmapist_async._core.keyglob import glob_match
from bitmapist_async._core.options import ClientOptions
from bitmapist_async._core.plan import BitOpStep, Query
from bitmapist_async._core.shard_plan import ReadPlan, plan_writes, read_needs
from bitmapist_async._core.shards import ShardLayout, check_layout
from bitmapist_async._core.url import cluster_node_url

LAYOUT = ShardLayout("trackist_", 20)


def test_key_names_and_arithmetic() -> None:
    uid = 3_000_000_123
    shard, offset = LAYOUT.locate(uid)
    assert (shard, offset) == (2861, uid - 2861 * 2**20)
    assert LAYOUT.key("trackist_active_2026-11", shard) == "trackist_{2861}active_2026-11"
    assert LAYOUT.parse("trackist_{2861}active_2026-11") == (2861, "trackist_active_2026-11")
    assert LAYOUT.index_key == "trackist_{shards}"
    assert LAYOUT.layout_key == "trackist_{shards}layout"
    assert (LAYOUT.shard_ids, LAYOUT.shard_bytes, LAYOUT.shard_count) == (2**20, 2**17, 4096)
    for foreign in (
        "trackist_{shards}",
        "trackist_{07}a_u",  # not canonical
        "trackist_{4096}a_u",  # beyond 2**32 ids
        "trackist_active_2026-11",
        "other_{1}a_u",
        "trackist_{1a_u",
    ):
        assert LAYOUT.parse(foreign) is None, foreign
    with pytest.raises(ValueError, match="not under the key prefix"):
        LAYOUT.key("other_a_u", 0)


def test_scan_patterns() -> None:
    weird = ShardLayout("a?c_", 8)
    assert weird.scan_pattern("a\\?c_*") == "a\\?c_{[0-9]*}*"
    assert weird.scan_pattern("a\\?c_bitop_*") == "a\\?c_{[0-9]*}bitop_*"
    with pytest.raises(ValueError, match="not under the key prefix"):
        weird.scan_pattern("a?c_*")  # unescaped: would also match abc_


def test_glob_cases_used_by_the_sharded_scan() -> None:
    def matches(pattern: str, text: str) -> bool:
        return glob_match(pattern.encode(), text.encode())

    assert matches("a*", "abc")
    assert not matches("a\\*", "abc")
    assert matches("a\\*", "a*")
    assert matches("h?llo", "hallo")
    assert matches("h[ae]llo", "hello")
    assert not matches("h[^e]llo", "hello")
    assert matches("h[a-b]llo", "hbllo")
    assert matches("h[b-a]llo", "hbllo")  # Redis accepts reversed ranges
    assert not matches("x[]", "x")
    assert matches("x[\\]]", "x]")
    assert matches("x[ab", "xb")  # an unclosed class runs to the end


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="'flat'"):
        check_layout("flat")
    with pytest.raises(ValueError, match="must not contain"):
        ShardLayout("a{b", 20)
    with pytest.raises(ValueError, match=r"\[8, 32\], got 33"):
        ClientOptions(layout="sharded", shard_bits=33)
    with pytest.raises(ValueError, match="must not contain"):
        ClientOptions(key_prefix="x}", layout="sharded")
    assert ClientOptions(key_prefix="x}").layout == "classic"  # braces are fine in classic


def test_cluster_urls() -> None:
    assert cluster_node_url("redis+cluster://h:7000/0") == "redis://h:7000/0"
    assert cluster_node_url("rediss+cluster://u:p@h:7000") == "rediss://u:p@h:7000"
    assert cluster_node_url("redis://h:7000") is None


@given(data=st.binary(max_size=200))
def test_split_and_assemble_are_inverse(data: bytes) -> None:
    layout = ShardLayout("p_", 8)  # 32-byte shards
    parts = layout.split(data)
    assert all(len(chunk) <= 32 for _, chunk in parts)
    assert layout.assemble(parts) == data


def test_symbolic_not_of_a_far_bitmap() -> None:
    """~a with a only in shard 2861: shards 0..2860 are all ones without any command."""
    steps = [BitOpStep("NOT", "trackist_bitop_NOT_trackist_a_u", ("trackist_a_u",))]
    query = Query("count", "trackist_bitop_NOT_trackist_a_u")
    needs = read_needs(steps, [query])
    assert needs.index
    assert needs.probe == ("trackist_a_u",)
    plan = ReadPlan(LAYOUT, steps, [query], ttl=60, index=[2861], leaf_tops={"trackist_a_u": 2861})
    assert plan.commands == [
        ("BITOP", "NOT", "trackist_{2861}bitop_NOT_trackist_a_u", "trackist_{2861}a_u"),
        ("EXPIRE", "trackist_{2861}bitop_NOT_trackist_a_u", 60),
        ("BITCOUNT", "trackist_{2861}bitop_NOT_trackist_a_u"),
    ]
    assert plan.results([1, True, 5]) == [2861 * 2**20 + 5]


def test_contains_reads_one_shard_without_the_index() -> None:
    steps = [BitOpStep("AND", "trackist_bitop_AND_a-b", ("trackist_a", "trackist_b"))]
    query = Query("getbit", "trackist_bitop_AND_a-b", 3 * 2**20 + 9)
    assert not read_needs(steps, [query]).index
    plan = ReadPlan(LAYOUT, steps, [query], ttl=60, index=None, leaf_tops={})
    assert [c[0] for c in plan.commands] == ["BITOP", "EXPIRE", "GETBIT"]
    assert all("{3}" in str(c[1:]) for c in plan.commands)


def test_unmarks_below_an_existing_shard_are_dropped() -> None:
    writes = [("trackist_x_u", 10, 0), ("trackist_x_u", 2**21, 0), ("trackist_y_u", 5, 1)]
    present = {("trackist_x_u", 3)}
    assert plan_writes(LAYOUT, writes, present) == [
        ("SETBIT", "trackist_{shards}", 0, 1),
        ("SETBIT", "trackist_{0}y_u", 5, 1),
    ]
    # Nothing at or above: the unmark creates its shard (the classic length grows).
    assert plan_writes(LAYOUT, [("trackist_x_u", 2**21, 0)], set()) == [
        ("SETBIT", "trackist_{shards}", 2, 1),
        ("SETBIT", "trackist_{2}x_u", 0, 0),
    ]
