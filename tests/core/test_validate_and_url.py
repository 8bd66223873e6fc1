from __future__ import annotations

import enum
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from bitmapist_async import Bitmapist
from bitmapist_async._core.url import check_redis_url, cluster_node_url, redact_url
from bitmapist_async._core.validate import check_name, check_uid, to_local
from bitmapist_async.sync import Bitmapist as SyncBitmapist


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
    # a userinfo without a colon may be a password written the wrong way: hidden whole
    assert redact_url("redis://s3cret@h:6379/0") == "redis://***@h:6379/0"


def test_url_schemes() -> None:
    for url in ("redis://h", "rediss://h", "unix:///tmp/r.sock"):
        assert check_redis_url(url) == url
    with pytest.raises(ValueError, match="'http'") as info:
        check_redis_url("http://u:secret@h")
    assert "secret" not in str(info.value)
    with pytest.raises(TypeError):
        check_redis_url(b"redis://h")


def test_password_options_are_redacted() -> None:
    assert redact_url("redis://h:6379/0?password=s3cret&db=1") == (
        "redis://h:6379/0?password=***&db=1"
    )
    assert "s3cret" not in redact_url("rediss://u:pw@h/0?ssl_password=s3cret")
    assert "pw" not in redact_url("rediss://u:pw@h/0?ssl_password=s3cret").replace("password", "")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("redis://127.0.0.1:0/0", "port 0"),
        ("redis://127.0.0.1:65536/0", "'65536'"),
        ("redis://127.0.0.1:abc/0", "'abc'"),
        ("redis://127.0.0.1:6379/x", "database 'x'"),
        ("redis://127.0.0.1:6379/0/1", "database '0/1'"),
        ("redis://127.0.0.1:6379/0?db=two", "db='two'"),
        ("redis://127.0.0.1:6379/0?bogus=1", "unknown option 'bogus'"),
        ("redis://127.0.0.1:6379/0?socket_timeout=soon", "socket_timeout='soon'"),
        ("redis://127.0.0.1:6379/0?ssl_ca_certs=/x", "unknown option 'ssl_ca_certs'"),
        ("redis://:6379/0", "names no host"),
        ("redis:///0", "names no host"),
        ("unix://", "names no socket file"),
        ("redis://127.0.0.1:6379/0#frag", "fragment"),
        ("redis://h/0?timeout=0", "unknown option 'timeout'"),
        ("redis://h/0?encoding=bogus-enc", "encoding='bogus-enc'"),
        ("redis://h/0?protocol=7", "protocol='7'"),
        ("redis://h/0?socket_timeout=-1", "socket_timeout='-1'"),
        ("redis://h/0?socket_connect_timeout=nan", "socket_connect_timeout='nan'"),
        ("redis://h/0?max_connections=0", "max_connections='0'"),
        ("redis://h/99999999999999999999", "database '99999999999999999999'"),
        ("redis://h/0?db=1", "two databases: 0 in its path, 1 in ?db="),
        ("redis://h/0?socket_timeout=1&socket_timeout=2", "'socket_timeout' is given twice"),
    ],
)
def test_a_redis_url_is_never_rerouted(url: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        check_redis_url(url)


def test_a_bad_option_value_hides_a_password() -> None:
    with pytest.raises(ValueError, match="bogus") as info:
        check_redis_url("redis://h:6379/0?password=s3cret&bogus=1")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://h",
        "redis://h:6379",
        "redis://h:6379/",
        "redis://h:1/15",
        "redis://u:p@h:65535/0?socket_timeout=1.5&client_name=app&max_connections=4",
        "rediss://h/0?ssl_cert_reqs=none&ssl_ca_certs=/etc/ca.pem",
        "unix:///tmp/r.sock?db=3",
        "redis://[::1]:6379/0",
    ],
)
def test_good_redis_urls_pass_unchanged(url: str) -> None:
    assert check_redis_url(url) == url


def test_cluster_urls_are_checked_the_same_way() -> None:
    assert cluster_node_url("redis+cluster://h:7000") == "redis://h:7000"
    with pytest.raises(ValueError, match="port 0"):
        cluster_node_url("redis+cluster://h:0")
    with pytest.raises(ValueError, match="database 3"):
        cluster_node_url("redis+cluster://h:7000/3")
    with pytest.raises(ValueError, match=r"redis\+cluster://u:\*\*\*@h:0") as info:
        cluster_node_url("redis+cluster://u:s3cret@h:0")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("layout", ["classic", "sharded"])
def test_the_client_checks_its_url_at_construction(layout: str) -> None:
    with pytest.raises(ValueError, match="port 0"):
        Bitmapist("redis://127.0.0.1:0/0", layout=layout)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="database 'x'"):
        SyncBitmapist("redis://127.0.0.1:6379/x", layout=layout)  # type: ignore[arg-type]


def test_a_query_option_password_never_shows() -> None:
    bm = Bitmapist("redis://127.0.0.1:6379/0?password=s3cret")
    assert "s3cret" not in repr(bm)
    assert "s3cret" not in str(bm)
    assert "password=***" in repr(bm)


@pytest.mark.parametrize("url", ["file:x.db", "file:///tmp/x.db", "memory://"])
def test_the_sharded_layout_on_the_embedded_store_says_why_not(url: str) -> None:
    with pytest.raises(ValueError, match=r"embedded store.*sharded layout .* need Redis"):
        Bitmapist(url, layout="sharded")
