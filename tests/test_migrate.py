"""``bitmapist-async migrate`` between layouts and servers (single Redis and the cluster)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bitmapist_async._cli import main
from bitmapist_async.sync import Bitmapist, Expression

NOV = datetime(2026, 11, 3, 12, tzinfo=timezone.utc)
UIDS = [0, 7, 255, 256, 4095, 70_000, 123_456]


def _fill(bm: Bitmapist) -> None:
    for uid in UIDS:
        bm.mark_event("active", uid, NOV, track_hourly=True)
    for uid in UIDS[::2]:
        bm.mark_unique("premium", uid)
    bm.unmark_unique("premium", 200_000)  # a longer bitmap with no bit there: ~premium sees it
    (bm.MonthEvents("active", 2026, 11) & bm.UniqueEvents("premium")).count()  # a bit-op key


def _expressions(bm: Bitmapist) -> list[Expression]:
    month, premium = bm.MonthEvents("active", 2026, 11), bm.UniqueEvents("premium")
    return [
        month,
        bm.DayEvents("active", 2026, 11, 3),
        bm.WeekEvents("active", 2026, 45),
        bm.HourEvents("active", 2026, 11, 3, 12),
        premium,
        ~premium,
        month & ~premium,
    ]


def _answers(bm: Bitmapist) -> list[tuple[bytes, int]]:
    return [(e.bitmap(), e.count()) for e in _expressions(bm)]


def test_classic_to_cluster_and_back(
    redis_url: str, cluster_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Bitmapist(redis_url) as classic:
        _fill(classic)
        expected = _answers(classic)
        names = classic.get_event_names()

    status = main(
        [
            *["migrate", "--from", redis_url, "--to", cluster_url, "--layout", "sharded"],
            *["--shard-bits", "10"],
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "copied 5 event keys" in out  # month, week, day, hour of active; premium
    assert "every key's count verified" in out
    with Bitmapist(cluster_url, layout="sharded", shard_bits=10) as sharded:
        assert _answers(sharded) == expected
        assert sharded.get_event_names() == names
        assert sharded.MonthEvents("active", 2026, 11).ids() == UIDS

    # Back to the single Redis under another prefix: the source layout is detected.
    status = main(
        [
            *["migrate", "--from", cluster_url, "--to", redis_url, "--layout", "classic"],
            *["--to-key-prefix", "back_"],
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "(sharded, shard_bits=10)" in out
    with Bitmapist(redis_url, key_prefix="back_") as back:
        assert _answers(back) == expected


def test_sharded_on_one_redis_to_classic_replaces_keys(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Bitmapist(redis_url, layout="sharded", key_prefix="s_") as sharded:
        _fill(sharded)
        expected = _answers(sharded)
    with Bitmapist(redis_url, key_prefix="c_") as stale:
        stale.mark_unique("premium", 99)  # replaced by the copy
        stale.mark_unique("kept", 1)  # not in the source: left alone
    status = main(
        [
            *["migrate", "--from", redis_url, "--to", redis_url, "--layout", "classic"],
            *["--key-prefix", "s_", "--to-key-prefix", "c_"],
        ]
    )
    assert status == 0, capsys.readouterr().out
    with Bitmapist(redis_url, key_prefix="c_") as classic:
        assert _answers(classic) == expected
        assert classic.UniqueEvents("kept").ids() == [1]


def test_refuses_to_copy_onto_itself_and_wrong_shard_bits(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--from", redis_url, "--to", redis_url, "--layout", "sharded"]) == 2
    assert "same keys" in capsys.readouterr().err
    with Bitmapist(redis_url, layout="sharded", shard_bits=12) as bm:
        bm.mark_unique("x", 1)
    status = main(
        [
            *["migrate", "--from", redis_url, "--to", redis_url, "--layout", "classic"],
            *["--to-key-prefix", "c_", "--from-layout", "sharded", "--from-shard-bits", "20"],
        ]
    )
    assert status == 2
    assert "shard_bits=12" in capsys.readouterr().err


def test_redis_to_bitmapist_server_sharded_and_classic(
    redis_url: str, server_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Redis -> bitmapist-server (sharded) -> bitmapist-server (classic): every expression,
    ``~premium`` included, answers the same on each (its universe is defined by contents)."""
    with Bitmapist(redis_url) as classic:
        _fill(classic)
        classic.mark_unique("page/view", 3)  # a name bitmapist-server's SCAN hides behind '/'
        expected = _answers(classic)
        names = classic.get_event_names()
    assert "page/view" in names
    argv = ["migrate", "--from", redis_url, "--to", server_url, "--layout", "sharded"]
    status = main([*argv, "--shard-bits", "10"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "copied 6 event keys" in out
    with Bitmapist(server_url, layout="sharded", shard_bits=10) as sharded:
        assert _answers(sharded) == expected
        assert sharded.get_event_names() == names
    argv = ["migrate", "--from", server_url, "--to", server_url, "--layout", "classic"]
    status = main([*argv, "--to-key-prefix", "back_"])
    out = capsys.readouterr().out
    assert status == 0, out
    with Bitmapist(server_url, key_prefix="back_") as back:
        assert _answers(back) == expected
        assert back.get_event_names() == names
