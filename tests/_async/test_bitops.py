"""Lazy bit operations on a real Redis."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import redis

from bitmapist_async import Bitmapist, BitOpAnd, BitOpNot, BitOpOr, BitOpXor
from bitmapist_async._core.plan import Query

NOV = datetime(2026, 11, 3, tzinfo=timezone.utc)
DEC = datetime(2026, 12, 3, tzinfo=timezone.utc)


async def _fill(bm: Bitmapist) -> None:
    for uid in (1, 2, 3, 10):
        await bm.mark_event("active", uid, NOV)
    for uid in (2, 3, 4, 1000):
        await bm.mark_event("active", uid, DEC)
    for uid in (3, 4):
        await bm.mark_unique("premium", uid)


async def test_operators(bm: Bitmapist) -> None:
    await _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    premium = bm.UniqueEvents("premium")
    assert await (nov & dec).ids() == [2, 3]
    assert await (nov | dec).ids() == [1, 2, 3, 4, 10, 1000]
    assert await (nov ^ dec).ids() == [1, 4, 10, 1000]
    assert await ((nov | dec) & premium).ids() == [3, 4]
    assert await (nov & dec & premium).count() == 1
    assert await bm.BitOpAnd(nov, dec, premium).ids() == [3]
    assert await BitOpOr(nov, premium).contains(4)
    assert await BitOpXor(nov, dec, premium).ids() == [1, 3, 10, 1000]
    nested = bm.BitOpAnd(bm.BitOpAnd(nov, dec), dec)
    assert await nested.ids() == [2, 3]
    assert await nested.has_events_marked()
    assert [uid async for uid in nested] == [2, 3]


async def test_exact_difference_whatever_the_lengths(bm: Bitmapist) -> None:
    await _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    premium = bm.UniqueEvents("premium")  # one byte long: ids 0..7
    # Redis's BITOP NOT premium stops at premium's last byte: 1000 would be lost.
    assert await (dec & ~premium).ids() == [2, 1000]
    assert await (~premium & dec).ids() == [2, 1000]
    assert await bm.BitOpAnd(dec, BitOpNot(premium), ~nov).ids() == [1000]
    assert await (dec & ~(nov | premium)).count() == 1
    assert await ((nov | dec) & ~premium & ~bm.UniqueEvents("nobody")).ids() == [1, 2, 10, 1000]


async def test_standalone_not_is_byte_padded(bm: Bitmapist) -> None:
    await bm.mark_unique("p", 1)
    await bm.mark_unique("p", 9)  # two bytes: ids 0..15
    assert await (~bm.UniqueEvents("p")).ids() == [0, *range(2, 9), *range(10, 16)]
    assert await (~bm.UniqueEvents("missing")).count() == 0
    # An AND of negations only is NOT(OR(...)), padded to the longest operand.
    await bm.mark_unique("q", 2)
    both_not = ~bm.UniqueEvents("p") & ~bm.UniqueEvents("q")
    assert await both_not.ids() == [0, *range(3, 9), *range(10, 16)]


async def test_not_ignores_stored_lengths(bm: Bitmapist) -> None:
    """``~x`` is the complement up to the end of the byte of x's largest id, whatever the
    stored bytes: an unmark of the largest id leaves Redis a longer string, bitmapist-server
    none, and the answer is the same everywhere."""
    await bm.mark_unique("n", 5)
    await bm.mark_unique("n", 100)
    await bm.unmark_unique("n", 100)
    n = bm.UniqueEvents("n")
    assert await (~n).count() == 7
    assert await (~n).ids() == [0, 1, 2, 3, 4, 6, 7]
    assert await (~n).contains(6)
    assert not await (~n).contains(100)
    assert await bm.counts([~n, ~~n, ~n | n]) == [7, 1, 8]
    assert await (~(~n | bm.UniqueEvents("nobody"))).ids() == [5]
    await bm.unmark_unique("n", 5)  # the key exists and holds no id
    assert await (~n).count() == 0
    assert await (~n).bitmap() == b""


async def test_not_near_the_top_of_the_id_space(bm: Bitmapist) -> None:
    top = 2**32 - 1
    await bm.mark_unique("t", 0)
    await bm.mark_unique("t", top)
    t = bm.UniqueEvents("t")
    assert await (~t).count() == 2**32 - 2
    assert await (~t).contains(top - 1)
    assert not await (~t).contains(top)
    await bm.unmark_unique("t", top)
    assert await (~t).count() == 7
    await bm.delete_all_events()


async def test_one_operand_operations_are_their_operand(bm: Bitmapist) -> None:
    await bm.mark_unique("o", 3)
    await bm.mark_unique("o", 11)
    o = bm.UniqueEvents("o")
    for expr in (bm.BitOpAnd(o), bm.BitOpOr(o), bm.BitOpXor(o), bm.BitOpAnd(bm.BitOpOr(o))):
        assert await expr.ids() == [3, 11]
        assert await expr.count() == 2
        assert await expr.contains(11)
        key = await expr.store()
        assert key == expr.redis_key
        assert await bm.storage.evaluate([], [Query("count", key)]) == [2]
        await expr.delete()  # its own result only: the operand stays
        assert await o.count() == 2
    assert await bm.BitOpOr(~o).count() == 14
    assert await bm.counts([bm.BitOpXor(o), bm.BitOpAnd(o) | o]) == [2, 2]


async def test_and_with_a_double_negation(bm: Bitmapist) -> None:
    # ~~b inside an AND removes ~b's ids (b's complement within b's bytes), nothing more.
    await bm.mark_unique("a", 0)
    await bm.mark_unique("a", 20)
    a, b = bm.UniqueEvents("a"), bm.UniqueEvents("b")
    assert await (a & ~~b).ids() == [0, 20]  # ~b is empty: b has no bytes
    await bm.mark_unique("b", 3)  # ~b = 0..7 without 3
    assert await (a & ~~b).ids() == [20]
    assert await bm.BitOpAnd(bm.BitOpAnd(a), ~~b).ids() == [20]


async def test_building_does_no_io_and_reflects_later_marks(bm: Bitmapist) -> None:
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    both = nov & dec
    assert await both.count() == 0
    await bm.mark_event("active", 5, NOV)
    await bm.mark_event("active", 5, DEC)
    assert await both.count() == 1
    await bm.unmark_event("active", 5, DEC)
    assert await both.count() == 0


@pytest.mark.layouts("redis")  # inspects classic key names
async def test_temporary_keys_are_deterministic_and_expire(
    bm: Bitmapist, admin: redis.Redis
) -> None:
    await _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    both = nov & dec
    assert both.redis_key == "trackist_bitop_AND_trackist_active_2026-11-trackist_active_2026-12"
    assert (nov & dec) == both
    assert hash(nov & dec) == hash(both)
    assert await both.count() == 2
    bitop_keys = admin.keys("trackist_bitop_*")
    assert bitop_keys == [both.redis_key.encode()]
    assert 0 < admin.ttl(both.redis_key) <= 60
    await (dec & ~bm.UniqueEvents("premium")).count()
    for key in admin.keys("trackist_bitop_*"):
        assert admin.ttl(key) > 0, key
    await bm.delete_temporary_bitop_keys()
    assert admin.keys("trackist_bitop_*") == []
    assert await nov.count() == 4


async def test_year_key_matches_bitmapist(bm: Bitmapist) -> None:
    year = bm.YearEvents("active", 2026)
    months = "-".join(f"trackist_active_2026-{m}" for m in range(1, 13))
    assert year.redis_key == f"trackist_bitop_OR_{months}"


async def test_long_expressions_get_hashed_keys(bm: Bitmapist) -> None:
    days = [bm.DayEvents("a-rather-long-event-name", 2026, 11, d) for d in range(1, 31)]
    expr = bm.BitOpOr(*days)
    assert expr.redis_key.startswith("trackist_bitop_OR_sha256:")
    await bm.mark_event("a-rather-long-event-name", 3, NOV)
    assert await expr.ids() == [3]


@pytest.mark.layouts("redis")  # inspects classic key names
async def test_store_and_delete(bm: Bitmapist, admin: redis.Redis) -> None:
    await _fill(bm)
    both = bm.MonthEvents("active", 2026, 11) & bm.MonthEvents("active", 2026, 12)
    key = await both.store()
    assert admin.bitcount(key) == 2
    await both.delete()
    assert not admin.exists(key)


async def test_counts_in_one_round_trip(bm: Bitmapist) -> None:
    await _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    assert await bm.counts([nov, dec, nov & dec, nov | dec, ~bm.UniqueEvents("premium")]) == [
        4, 4, 2, 6, 6,
    ]  # fmt: skip
    assert await bm.counts([]) == []


async def test_operands_must_share_a_client(bm: Bitmapist, redis_url: str) -> None:
    async with Bitmapist(redis_url) as other:
        with pytest.raises(ValueError, match="different clients"):
            _ = bm.MonthEvents("a", 2026, 1) & other.MonthEvents("a", 2026, 1)
        with pytest.raises(ValueError, match="another client"):
            await bm.counts([other.MonthEvents("a", 2026, 1)])


async def test_bad_operands(bm: Bitmapist) -> None:
    with pytest.raises(TypeError, match="at least one operand"):
        BitOpAnd()
    with pytest.raises(TypeError, match="'x'"):
        BitOpOr(bm.UniqueEvents("a"), "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exactly one operand"):
        BitOpNot(bm.UniqueEvents("a"), bm.UniqueEvents("b"))


async def test_storage_merge_bitmaps(bm: Bitmapist, admin: redis.Redis) -> None:
    await bm.mark_unique("m", 3)
    await bm.mark_unique("m", 100)
    key = bm.UniqueEvents("m").redis_key
    scratch = bm.options.scheme.bitop_prefix
    # bits 0 and 9 in, on top of 3 and 100
    await bm.storage.merge_bitmaps([(key, b"\x80\x40")], temp_prefix=scratch)
    assert await bm.UniqueEvents("m").ids() == [0, 3, 9, 100]
    # clear 3 and 100 (100 lies beyond the cleared bitmap's own bytes on one side)
    clear = bytearray(13)
    clear[0] = 0x10
    clear[12] = 0x08
    await bm.storage.merge_bitmaps([(key, bytes(clear))], temp_prefix=scratch, unmark=True)
    assert await bm.UniqueEvents("m").ids() == [0, 9]
    await bm.storage.merge_bitmaps([(key, b"\x01")], temp_prefix=scratch, unmark=True)
    assert await bm.UniqueEvents("m").ids() == [0, 9]
    assert admin.keys("trackist_bitop_*") == []
