from __future__ import annotations

import enum
from datetime import date, datetime, timedelta, timezone

import pytest

from bitmapist_async._core.url import check_redis_url, redact_url
from bitmapist_async._core.validate import check_name, check_uid, to_local


class Uid(enum.IntEnum):
    ALICE = 7


def test_uids() -> None:
    assert check_uid(0) == 0
    assert check_uid(2**32 - 1) == 2**32 - 1
    assert check_uid(Uid.ALICE) == 7
    assert type(check_uid(Uid.ALICE)) is int
    for bad in (True, False, 1.0, "1", None):
        with pytest.raises(TypeError, match=repr(bad).replace(".", r"\.")):
            check_uid(bad)
    for bad in (-1, 2**32, 2**64):
        with pytest.raises(ValueError, match=str(bad)):
            check_uid(bad)


def test_names() -> None:
    assert check_name("a") == "a"
    with pytest.raises(ValueError, match="''"):
        check_name("")
    with pytest.raises(TypeError, match="b'x'"):
        check_name(b"x")
    with pytest.raises(ValueError, match="bitop_"):
        check_name("bitop_AND")


def test_to_local() -> None:
    plus2 = timezone(timedelta(hours=2))
    aware = datetime(2026, 1, 1, 23, 30, tzinfo=timezone.utc)
    assert to_local(aware, plus2) == datetime(2026, 1, 2, 1, 30)
    assert to_local(datetime(2026, 1, 1, 23, 30), plus2) == datetime(2026, 1, 1, 23, 30)
    assert to_local(date(2026, 1, 1), plus2) == datetime(2026, 1, 1)
    with pytest.raises(TypeError, match="'2026'"):
        to_local("2026", plus2)


def test_redaction() -> None:
    assert redact_url("redis://u:secret@h:6379/0") == "redis://u:***@h:6379/0"
    assert redact_url("rediss://:secret@h/1") == "rediss://:***@h/1"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"
    assert "secret" not in redact_url("redis://u:secret@[::1]:6379/0")


def test_url_schemes() -> None:
    for url in ("redis://h", "rediss://h", "unix:///tmp/r.sock"):
        assert check_redis_url(url) == url
    with pytest.raises(ValueError, match="'http'") as info:
        check_redis_url("http://u:secret@h")
    assert "secret" not in str(info.value)
    with pytest.raises(TypeError):
        check_redis_url(b"redis://h")
