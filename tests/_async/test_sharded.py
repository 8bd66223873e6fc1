"""The sharded layout on one Redis and on the 3-master cluster: key form, metadata, shard
lifecycle, cluster clients, and answers identical to the classic layout (byte for byte)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import hypothesis.strategies as st
import pytest
import redis
import redis.asyncio as redis_api
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio.cluster import RedisCluster

from bitmapist_async import Bitmapist, ShardLayoutError, WriteFailedError

from ..conftest import SHARDED_OPTIONS, CommandLog, LayoutTarget
from ..grammar import violation
from ..portal import AsyncPortal
from .test_model import DAYS, LEAF, NAMES, TREES, Tree, build
from .workload import exercise_public_api

NOV28 = datetime(2026, 11, 28, 13, tzinfo=timezone.utc)
SHARDED = pytest.mark.layouts("sharded-redis", "sharded-bitmapist-server", "cluster")


def _set(target: LayoutTarget, key: str, value: bytes) -> None:
    """SET *key* on whichever node owns it (test-side administration)."""
    for node in target.nodes:
        try:
            node.set(key, value)
        except redis.exceptions.MovedError:
            continue
        else:
            return
    raise AssertionError(f"no node accepted {key!r}")


def _owner(target: LayoutTarget, key: str) -> redis.Redis:
    for node in target.nodes:
        if key.encode() in node.keys("*"):
            return node
    raise AssertionError(f"{key!r} exists on no node")


@SHARDED
async def test_key_form_and_metadata(layout_target: LayoutTarget) -> None:
    far = 3_000_000_123
    async with Bitmapist(layout_target.url, layout="sharded") as bm:  # shard_bits=20
        await bm.mark_event("active", far, NOV28)
        await bm.mark_event("active", 5, NOV28)
        assert await bm.MonthEvents("active", 2026, 11).ids() == [5, far]
    shard, offset = far >> 20, far & (2**20 - 1)
    assert shard == 2861
    periods = ("2026-11", "2026-11-28", "W2026-48")
    assert layout_target.physical_keys() == {
        *(f"trackist_{{{s}}}active_{p}".encode() for s in (0, shard) for p in periods),
        b"trackist_{shards}",
        b"trackist_{shards}layout",
    }
    month = f"trackist_{{{shard}}}active_2026-11"
    assert _owner(layout_target, month).getbit(month, offset) == 1
    index = _owner(layout_target, "trackist_{shards}")
    assert index.get("trackist_{shards}layout") == b"20"
    assert [s for s in range(4096) if index.getbit("trackist_{shards}", s)] == [0, shard]


@pytest.mark.layouts("cluster")
async def test_shards_spread_over_the_nodes(layout_target: LayoutTarget) -> None:
    async with Bitmapist(layout_target.url, **layout_target.options) as bm:
        uids = list(range(0, 256 * 60, 97))  # 60 shards of 256 ids
        for uid in uids:
            await bm.mark_unique("spread", uid)
        ev = bm.UniqueEvents("spread")
        assert await ev.count() == len(uids)
        assert await ev.ids() == uids
        assert await (ev & ~bm.UniqueEvents("none")).count() == len(uids)
    per_node = [len(node.keys("trackist_{[0-9]*}spread_u")) for node in layout_target.nodes]
    assert sum(per_node) == 60
    assert all(per_node), per_node  # every node holds some shards


@SHARDED
async def test_other_shard_bits_are_refused(layout_target: LayoutTarget) -> None:
    async with Bitmapist(layout_target.url, layout="sharded", shard_bits=20) as bm:
        await bm.mark_unique("x", 5)
    before = layout_target.physical_keys()
    async with Bitmapist(layout_target.url, layout="sharded", shard_bits=16) as other:
        # A write goes through the batcher: the layout error is the cause of its failure.
        with pytest.raises(WriteFailedError, match="shard_bits=20") as info:
            await other.mark_unique("x", 6)
        assert isinstance(info.value.__cause__, ShardLayoutError)
        with pytest.raises(ShardLayoutError, match="shard_bits=16"):
            await other.UniqueEvents("x").count()
    assert layout_target.physical_keys() == before


@SHARDED
async def test_unmarks_create_no_needless_shards(layout_target: LayoutTarget) -> None:
    async with Bitmapist(layout_target.url, **layout_target.options) as bm:  # 256-id shards
        x = bm.UniqueEvents("x")
        await bm.mark_unique("x", 1000)  # shard 3
        await bm.unmark_unique("x", 10)  # shard 0 lies below shard 3: nothing to create
        await bm.unmark_unique("x", 1001)
        assert layout_target.physical_keys("trackist_{*}x_u") == {b"trackist_{3}x_u"}
        # Above the highest shard an unmark extends the stored bitmap, like SETBIT 0 does in
        # the classic layout; what ~x and bitmap() answer depends on the ids only.
        await bm.unmark_unique("x", 2000)
        assert layout_target.physical_keys("trackist_{*}x_u") == {
            b"trackist_{3}x_u",
            b"trackist_{7}x_u",
        }
        assert await x.ids() == [1000]
        assert len(await x.bitmap()) == 1000 // 8 + 1
        assert await (~x).count() == (1000 // 8 + 1) * 8 - 1
        await bm.unmark_unique("x", 1000)
        assert await x.count() == 0
        assert await x.bitmap() == b""
        assert await (~x).ids() == []


@SHARDED
async def test_not_far_away_materialises_nothing_new(layout_target: LayoutTarget) -> None:
    far = 3_000_000_000
    async with Bitmapist(layout_target.url, layout="sharded") as bm:
        await bm.mark_unique("far", far)
        ev = bm.UniqueEvents("far")
        inverse = ~ev
        size = far // 8 + 1  # the classic bitmap's bytes
        assert await inverse.count() == size * 8 - 1
        assert await inverse.contains(0)
        assert await inverse.contains(far - 1)
        assert not await inverse.contains(far)
        assert await inverse.contains(size * 8 - 1)
        assert not await inverse.contains(size * 8)
        assert await (inverse | ev).count() == size * 8
        assert await (~inverse).ids() == [far]
        assert await (ev & ~inverse).ids() == [far]
        assert await (inverse ^ ev).has_events_marked()
        assert (await (~inverse).id_array()).tolist() == [far]
    # Only shard 2861 (and the metadata) holds keys: no 375 MiB of ones were written.
    tags = {key.split(b"}")[0] for key in layout_target.physical_keys()}
    assert tags == {b"trackist_{2861", b"trackist_{shards"}


@SHARDED
async def test_event_names_glob_escaping_and_deletes(layout_target: LayoutTarget) -> None:
    names = ["active", "weird*[name]?\\", "x", "zz}bitop_1"]
    async with Bitmapist(layout_target.url, key_prefix="a?c_", **layout_target.options) as bm:
        for name in names:
            await bm.mark_event(name, 7000, NOV28, track_unique=True)
        both = bm.MonthEvents("active", 2026, 11) & ~bm.MonthEvents("x", 2026, 11)
        assert await both.count() == 0
        foreign = [b"abc_{27}x_u", b"a?c_not-an-event", b"a?c_{27x_u", b"a?c_{0027}x_u"]
        for key in foreign:
            _set(layout_target, key.decode(), b"\x80")
        assert await bm.get_event_names() == sorted(names)
        assert await bm.get_event_names(prefix="weird*") == ["weird*[name]?\\"]
        assert await bm.get_event_names(prefix="w*") == []
        assert await bm.get_event_names(prefix="zz}") == ["zz}bitop_1"]
        assert any(b"bitop_AND" in key for key in layout_target.physical_keys())
        await bm.delete_temporary_bitop_keys()
        assert not any(b"bitop_AND" in key for key in layout_target.physical_keys())
        assert await bm.UniqueEvents("zz}bitop_1").ids() == [7000]
        await bm.delete_all_events()
        assert await bm.get_event_names() == []
    assert layout_target.physical_keys() == {*foreign, b"a?c_{shards}", b"a?c_{shards}layout"}


@SHARDED
async def test_ids_skip_the_gap_between_shards(layout_target: LayoutTarget) -> None:
    async with Bitmapist(layout_target.url, layout="sharded") as bm:
        uids = [5, 2**20 + 1, 3_000_000_005, 2**32 - 1]
        for uid in uids:
            await bm.mark_unique("gap", uid)
        ev = bm.UniqueEvents("gap")
        assert await ev.ids() == uids
        assert (await ev.id_array()).tolist() == uids
        assert [uid async for uid in ev] == uids
        assert await ev.count() == 4
        assert await bm.counts([ev, ev & ev]) == [4, 4]
        await ev.delete()
        assert await ev.ids() == []


@SHARDED
async def test_merge_bitmaps_across_shards(layout_target: LayoutTarget) -> None:
    async with Bitmapist(layout_target.url, **layout_target.options) as bm:  # 32-byte shards
        key = bm.UniqueEvents("m").redis_key
        scratch = bm.options.scheme.bitop_prefix
        data = bytearray(100)  # shards 0..3, the last one 4 bytes long
        data[0], data[40], data[99] = 0x80, 0x01, 0x02
        await bm.storage.merge_bitmaps([(key, bytes(data))], temp_prefix=scratch)
        assert await bm.UniqueEvents("m").ids() == [0, 327, 798]
        assert len(await bm.UniqueEvents("m").bitmap()) == 100
        # shard 2 had no bits: never created
        assert {k.split(b"}")[0] for k in layout_target.physical_keys("trackist_{*}m_u")} == {
            b"trackist_{0",
            b"trackist_{1",
            b"trackist_{3",
        }
        clear = bytearray(41)
        clear[40] = 0x01
        await bm.storage.merge_bitmaps([(key, bytes(clear))], temp_prefix=scratch, unmark=True)
        assert await bm.UniqueEvents("m").ids() == [0, 798]
        assert not layout_target.physical_keys("trackist_{*}bitop_merge*")


@pytest.mark.layouts("sharded-redis")
async def test_sharded_commands_stay_in_grammar(
    layout_target: LayoutTarget, command_log: CommandLog
) -> None:
    start = command_log.mark()
    async with Bitmapist(layout_target.url, **layout_target.options) as bm:
        await exercise_public_api(bm)
    sent = command_log.wait_for(["GETBIT", "trackist_{0}end-marker_u", "7"], start)
    names = {c[0] for c in sent}
    expected = {"SETBIT", "GETBIT", "BITCOUNT", "BITOP", "EXPIRE", "GET", "SET", "DEL", "SCAN"}
    assert expected | {"EXISTS", "PING"} <= names
    assert [v for c in sent if (v := violation(c))] == []


# -- clients and options ---------------------------------------------------------------------


async def test_cluster_needs_the_sharded_layout(cluster_url: str) -> None:
    with pytest.raises(ValueError, match="layout='sharded'"):
        Bitmapist(cluster_url)
    client = RedisCluster.from_url(cluster_url.replace("redis+cluster", "redis"), protocol=2)
    with pytest.raises(ValueError, match="layout='sharded'"):
        Bitmapist(client)
    await client.aclose()


async def test_cluster_client_instance_stays_open(cluster_url: str) -> None:
    client = RedisCluster.from_url(cluster_url.replace("redis+cluster", "redis"), protocol=2)
    async with Bitmapist(client, layout="sharded") as bm:
        await bm.mark_unique("x", 3_000_000_000)
        assert await bm.UniqueEvents("x").ids() == [3_000_000_000]
        assert "RedisCluster instance" in repr(bm)
    assert await client.getbit("trackist_{2861}x_u", 3_000_000_000 & (2**20 - 1)) == 1
    with pytest.raises(TypeError, match="pool options"):
        Bitmapist(client, layout="sharded", max_connections=3)
    await client.aclose()
    decoding = RedisCluster.from_url(
        cluster_url.replace("redis+cluster", "redis"), decode_responses=True
    )
    with pytest.raises(ValueError, match="decode_responses"):
        Bitmapist(decoding, layout="sharded")
    await decoding.aclose()


async def test_cluster_url_hides_the_password() -> None:
    bm = Bitmapist("redis+cluster://bob:hunter2@127.0.0.1:7000", layout="sharded")
    assert "hunter2" not in repr(bm)
    assert "redis+cluster://bob:***@127.0.0.1:7000" in repr(bm)
    await bm.aclose()


async def test_bad_layout_options(redis_url: str) -> None:
    with pytest.raises(ValueError, match="'flat'"):
        Bitmapist(redis_url, layout="flat")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="layout must be a str"):
        Bitmapist(redis_url, layout=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"shard_bits must be in \[8, 32\], got 7"):
        Bitmapist(redis_url, layout="sharded", shard_bits=7)
    with pytest.raises(TypeError, match="shard_bits must be an int, got True"):
        Bitmapist(redis_url, layout="sharded", shard_bits=True)
    with pytest.raises(ValueError, match="must not contain"):
        Bitmapist(redis_url, layout="sharded", key_prefix="app{1}:")
    client = redis_api.Redis.from_url(redis_url, protocol=2)
    with pytest.raises(TypeError, match="layout='sharded' needs"):
        Bitmapist(Bitmapist(client).storage, layout="sharded")
    await client.aclose()


# -- the same answers as the classic layout ----------------------------------------------------

UIDS = st.one_of(st.integers(0, 40), st.integers(0, 3000))
# Zero runs before and after the bits: slices without bits, and trailing zeros that only set the
# classic length (32-byte shards).
BITMAPS = st.builds(
    lambda lead, body, trail: bytes(lead) + body + bytes(trail),
    st.integers(0, 200),
    st.binary(max_size=100),
    st.integers(0, 100),
)


class SameAsClassic(RuleBasedStateMachine):
    """The same random marks, unmarks, deletes and bitmap merges go to a classic client and a
    sharded one; every expression must then give the same bytes, ids, count and membership."""

    classic_url = ""
    sharded: LayoutTarget = LayoutTarget("sharded-redis", "", SHARDED_OPTIONS)

    def __init__(self) -> None:
        super().__init__()
        self.portal = AsyncPortal()
        self.clients: list[Bitmapist] = []

    @initialize()
    def connect(self) -> None:
        self.clients = [
            self.portal.call(_fresh, self.classic_url, {"key_prefix": "c_"}),
            self.portal.call(_fresh, self.sharded.url, {"key_prefix": "s_", **SHARDED_OPTIONS}),
        ]

    @rule(
        name=st.sampled_from(NAMES),
        day=st.sampled_from(DAYS),
        uid=UIDS,
        value=st.sampled_from([0, 1]),
    )
    def mark(self, name: str, day: int, uid: int, value: int) -> None:
        when = datetime(2026, 11, day, 12, tzinfo=timezone.utc)
        for bm in self.clients:
            self.portal.call(bm.mark_event if value else bm.unmark_event, name, uid, when)

    @rule(name=st.sampled_from(NAMES), uid=UIDS, value=st.sampled_from([0, 1]))
    def mark_unique(self, name: str, uid: int, value: int) -> None:
        for bm in self.clients:
            self.portal.call(bm.mark_unique if value else bm.unmark_unique, name, uid)

    @rule(tree=LEAF)
    def delete(self, tree: Tree) -> None:
        for bm in self.clients:
            self.portal.call(build(bm, tree).delete)

    @rule(tree=LEAF, data=BITMAPS, unmark=st.booleans())
    def merge(self, tree: Tree, data: bytes, unmark: bool) -> None:
        for bm in self.clients:
            key = build(bm, tree).redis_key
            prefix = bm.options.scheme.bitop_prefix
            self.portal.call(_merge, bm, key, data, prefix, unmark)

    @rule(tree=TREES, probe=UIDS)
    def query(self, tree: Tree, probe: int) -> None:
        classic, sharded = (build(bm, tree) for bm in self.clients)
        for method in ("bitmap", "ids", "count", "has_events_marked"):
            expected = self.portal.call(getattr(classic, method))
            assert self.portal.call(getattr(sharded, method)) == expected, (method, tree)
        expected_in = self.portal.call(classic.contains, probe)
        assert self.portal.call(sharded.contains, probe) == expected_in

    def teardown(self) -> None:
        for bm in self.clients:
            self.portal.call(bm.aclose)
        self.portal.close()


async def _fresh(url: str, options: dict[str, Any]) -> Bitmapist:
    bm = Bitmapist(url, **options)
    await bm.delete_all_events()
    return bm


async def _merge(bm: Bitmapist, key: str, data: bytes, prefix: str, unmark: bool) -> None:
    await bm.storage.merge_bitmaps([(key, data)], temp_prefix=prefix, unmark=unmark)


@SHARDED
def test_same_answers_as_classic(layout_target: LayoutTarget, redis_url: str) -> None:
    SameAsClassic.classic_url = redis_url
    SameAsClassic.sharded = layout_target
    run_state_machine_as_test(
        SameAsClassic,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
