# This file is generated from tests/_async/test_bitops.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Lazy bit operations on a real Redis."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import redis

from bitmapist_async.sync import Bitmapist, BitOpAnd, BitOpNot, BitOpOr, BitOpXor
from bitmapist_async._core.plan import Query

NOV = datetime(2026, 11, 3, tzinfo=timezone.utc)
DEC = datetime(2026, 12, 3, tzinfo=timezone.utc)


def _fill(bm: Bitmapist) -> None:
    for uid in (1, 2, 3, 10):
        bm.mark_event("active", uid, NOV)
    for uid in (2, 3, 4, 1000):
        bm.mark_event("active", uid, DEC)
    for uid in (3, 4):
        bm.mark_unique("premium", uid)


def test_operators(bm: Bitmapist) -> None:
    _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    premium = bm.UniqueEvents("premium")
    assert (nov & dec).ids() == [2, 3]
    assert (nov | dec).ids() == [1, 2, 3, 4, 10, 1000]
    assert (nov ^ dec).ids() == [1, 4, 10, 1000]
    assert ((nov | dec) & premium).ids() == [3, 4]
    assert (nov & dec & premium).count() == 1
    assert bm.BitOpAnd(nov, dec, premium).ids() == [3]
    assert BitOpOr(nov, premium).contains(4)
    assert BitOpXor(nov, dec, premium).ids() == [1, 3, 10, 1000]
    nested = bm.BitOpAnd(bm.BitOpAnd(nov, dec), dec)
    assert nested.ids() == [2, 3]
    assert nested.has_events_marked()
    assert [uid for uid in nested] == [2, 3]


def test_exact_difference_whatever_the_lengths(bm: Bitmapist) -> None:
    _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    premium = bm.UniqueEvents("premium")  # one byte long: ids 0..7
    # Redis's BITOP NOT premium stops at premium's last byte: 1000 would be lost.
    assert (dec & ~premium).ids() == [2, 1000]
    assert (~premium & dec).ids() == [2, 1000]
    assert bm.BitOpAnd(dec, BitOpNot(premium), ~nov).ids() == [1000]
    assert (dec & ~(nov | premium)).count() == 1
    assert ((nov | dec) & ~premium & ~bm.UniqueEvents("nobody")).ids() == [1, 2, 10, 1000]


def test_standalone_not_is_byte_padded(bm: Bitmapist) -> None:
    bm.mark_unique("p", 1)
    bm.mark_unique("p", 9)  # two bytes: ids 0..15
    assert (~bm.UniqueEvents("p")).ids() == [0, *range(2, 9), *range(10, 16)]
    assert (~bm.UniqueEvents("missing")).count() == 0
    # An AND of negations only is NOT(OR(...)), padded to the longest operand.
    bm.mark_unique("q", 2)
    both_not = ~bm.UniqueEvents("p") & ~bm.UniqueEvents("q")
    assert both_not.ids() == [0, *range(3, 9), *range(10, 16)]


def test_not_ignores_stored_lengths(bm: Bitmapist) -> None:
    """``~x`` is the complement up to the end of the byte of x's largest id, whatever the
    stored bytes: an unmark of the largest id leaves Redis a longer string, bitmapist-server
    none, and the answer is the same everywhere."""
    bm.mark_unique("n", 5)
    bm.mark_unique("n", 100)
    bm.unmark_unique("n", 100)
    n = bm.UniqueEvents("n")
    assert (~n).count() == 7
    assert (~n).ids() == [0, 1, 2, 3, 4, 6, 7]
    assert (~n).contains(6)
    assert not (~n).contains(100)
    assert bm.counts([~n, ~~n, ~n | n]) == [7, 1, 8]
    assert (~(~n | bm.UniqueEvents("nobody"))).ids() == [5]
    bm.unmark_unique("n", 5)  # the key exists and holds no id
    assert (~n).count() == 0
    assert (~n).bitmap() == b""


def test_not_near_the_top_of_the_id_space(bm: Bitmapist) -> None:
    top = 2**32 - 1
    bm.mark_unique("t", 0)
    bm.mark_unique("t", top)
    t = bm.UniqueEvents("t")
    assert (~t).count() == 2**32 - 2
    assert (~t).contains(top - 1)
    assert not (~t).contains(top)
    bm.unmark_unique("t", top)
    assert (~t).count() == 7
    bm.delete_all_events()


def test_one_operand_operations_are_their_operand(bm: Bitmapist) -> None:
    bm.mark_unique("o", 3)
    bm.mark_unique("o", 11)
    o = bm.UniqueEvents("o")
    for expr in (bm.BitOpAnd(o), bm.BitOpOr(o), bm.BitOpXor(o), bm.BitOpAnd(bm.BitOpOr(o))):
        assert expr.ids() == [3, 11]
        assert expr.count() == 2
        assert expr.contains(11)
        key = expr.store()
        assert key == expr.redis_key
        assert bm.storage.evaluate([], [Query("count", key)]) == [2]
        expr.delete()  # its own result only: the operand stays
        assert o.count() == 2
    assert bm.BitOpOr(~o).count() == 14
    assert bm.counts([bm.BitOpXor(o), bm.BitOpAnd(o) | o]) == [2, 2]


def test_and_with_a_double_negation(bm: Bitmapist) -> None:
    # ~~b inside an AND removes ~b's ids (b's complement within b's bytes), nothing more.
    bm.mark_unique("a", 0)
    bm.mark_unique("a", 20)
    a, b = bm.UniqueEvents("a"), bm.UniqueEvents("b")
    assert (a & ~~b).ids() == [0, 20]  # ~b is empty: b has no bytes
    bm.mark_unique("b", 3)  # ~b = 0..7 without 3
    assert (a & ~~b).ids() == [20]
    assert bm.BitOpAnd(bm.BitOpAnd(a), ~~b).ids() == [20]


def test_building_does_no_io_and_reflects_later_marks(bm: Bitmapist) -> None:
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    both = nov & dec
    assert both.count() == 0
    bm.mark_event("active", 5, NOV)
    bm.mark_event("active", 5, DEC)
    assert both.count() == 1
    bm.unmark_event("active", 5, DEC)
    assert both.count() == 0


@pytest.mark.layouts("redis")  # inspects classic key names
def test_temporary_keys_are_deterministic_and_expire(
    bm: Bitmapist, admin: redis.Redis
) -> None:
    _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    both = nov & dec
    assert both.redis_key == "trackist_bitop_AND_trackist_active_2026-11-trackist_active_2026-12"
    assert (nov & dec) == both
    assert hash(nov & dec) == hash(both)
    assert both.count() == 2
    bitop_keys = admin.keys("trackist_bitop_*")
    assert bitop_keys == [both.redis_key.encode()]
    assert 0 < admin.ttl(both.redis_key) <= 60
    (dec & ~bm.UniqueEvents("premium")).count()
    for key in admin.keys("trackist_bitop_*"):
        assert admin.ttl(key) > 0, key
    bm.delete_temporary_bitop_keys()
    assert admin.keys("trackist_bitop_*") == []
    assert nov.count() == 4


def test_year_key_matches_bitmapist(bm: Bitmapist) -> None:
    year = bm.YearEvents("active", 2026)
    months = "-".join(f"trackist_active_2026-{m}" for m in range(1, 13))
    assert year.redis_key == f"trackist_bitop_OR_{months}"


def test_long_expressions_get_hashed_keys(bm: Bitmapist) -> None:
    days = [bm.DayEvents("a-rather-long-event-name", 2026, 11, d) for d in range(1, 31)]
    expr = bm.BitOpOr(*days)
    assert expr.redis_key.startswith("trackist_bitop_OR_sha256:")
    bm.mark_event("a-rather-long-event-name", 3, NOV)
    assert expr.ids() == [3]


@pytest.mark.layouts("redis")  # inspects classic key names
def test_store_and_delete(bm: Bitmapist, admin: redis.Redis) -> None:
    _fill(bm)
    both = bm.MonthEvents("active", 2026, 11) & bm.MonthEvents("active", 2026, 12)
    key = both.store()
    assert admin.bitcount(key) == 2
    both.delete()
    assert not admin.exists(key)


def test_counts_in_one_round_trip(bm: Bitmapist) -> None:
    _fill(bm)
    nov, dec = bm.MonthEvents("active", 2026, 11), bm.MonthEvents("active", 2026, 12)
    assert bm.counts([nov, dec, nov & dec, nov | dec, ~bm.UniqueEvents("premium")]) == [
        4, 4, 2, 6, 6,
    ]  # fmt: skip
    assert bm.counts([]) == []


def test_operands_must_share_a_client(bm: Bitmapist, redis_url: str) -> None:
    with Bitmapist(redis_url) as other:
        with pytest.raises(ValueError, match="different clients"):
            _ = bm.MonthEvents("a", 2026, 1) & other.MonthEvents("a", 2026, 1)
        with pytest.raises(ValueError, match="another client"):
            bm.counts([other.MonthEvents("a", 2026, 1)])


def test_bad_operands(bm: Bitmapist) -> None:
    with pytest.raises(TypeError, match="at least one operand"):
        BitOpAnd()
    with pytest.raises(TypeError, match="'x'"):
        BitOpOr(bm.UniqueEvents("a"), "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exactly one operand"):
        BitOpNot(bm.UniqueEvents("a"), bm.UniqueEvents("b"))


def test_storage_merge_bitmaps(bm: Bitmapist, admin: redis.Redis) -> None:
    bm.mark_unique("m", 3)
    bm.mark_unique("m", 100)
    key = bm.UniqueEvents("m").redis_key
    scratch = bm.options.scheme.bitop_prefix
    # bits 0 and 9 in, on top of 3 and 100
    bm.storage.merge_bitmaps([(key, b"\x80\x40")], temp_prefix=scratch)
    assert bm.UniqueEvents("m").ids() == [0, 3, 9, 100]
    # clear 3 and 100 (100 lies beyond the cleared bitmap's own bytes on one side)
    clear = bytearray(13)
    clear[0] = 0x10
    clear[12] = 0x08
    bm.storage.merge_bitmaps([(key, bytes(clear))], temp_prefix=scratch, unmark=True)
    assert bm.UniqueEvents("m").ids() == [0, 9]
    bm.storage.merge_bitmaps([(key, b"\x01")], temp_prefix=scratch, unmark=True)
    assert bm.UniqueEvents("m").ids() == [0, 9]
    assert admin.keys("trackist_bitop_*") == []
