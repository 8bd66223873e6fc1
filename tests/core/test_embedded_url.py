"""Embedded-store URLs: parsing, options, and errors that name the bad part."""

from __future__ import annotations

import pytest

from bitmapist_async._core.url import (
    EmbeddedTarget,
    check_redis_url,
    is_embedded_url,
    parse_embedded_url,
    read_only_url,
)


def test_forms() -> None:
    assert parse_embedded_url("file:///tmp/a.db") == EmbeddedTarget("/tmp/a.db")
    assert parse_embedded_url("FILE:data/a.db") == EmbeddedTarget("data/a.db")
    assert parse_embedded_url("file://localhost/x/y.db").path == "/x/y.db"
    assert parse_embedded_url("file:///a%20b.db").path == "/a b.db"
    assert parse_embedded_url("memory://") == EmbeddedTarget(None)
    full = parse_embedded_url("file:///a.db?synchronous=FULL&timeout=2.5")
    assert (full.synchronous, full.timeout) == ("full", 2.5)


def test_canonical_urls() -> None:
    assert EmbeddedTarget("/tmp/a b.db").url == "file:///tmp/a%20b.db"
    assert EmbeddedTarget("rel.db").url == "file:rel.db"
    assert EmbeddedTarget(None).url == "memory://"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://host/a.db", "names host 'host'"),
        ("memory://x", "takes no host"),
        ("memory://?timeout=1", "takes no host"),
        ("file:///a.db?x=1", "unknown option 'x'"),
        ("file:///a.db?timeout=-1", "timeout"),
        ("file:///a.db?timeout=nan", "timeout"),
        ("file:///a.db?synchronous=off", "synchronous"),
        ("file:///a.db?synchronous", "cannot parse the options"),
        ("file:///a.db?mode=rwc", "mode must be 'ro' or 'rw', got 'rwc'"),
        ("file:///a.db?mode=", "mode must be"),
        ("memory://?mode=ro", "takes no host"),
        ("file:", "names no file"),
        ("file:///dir/", "names no file"),
        ("file:///a.db#frag", "fragment"),
        ("redis://h", "not an embedded-store URL"),
    ],
)
def test_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_embedded_url(url)


def test_type_errors_and_scheme_detection() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_embedded_url(b"file:///a.db")
    assert is_embedded_url("file:///a.db")
    assert is_embedded_url("Memory://")
    assert not is_embedded_url("redis://h")
    assert not is_embedded_url(b"file:///a.db")
    with pytest.raises(ValueError, match=r"file://, memory://"):
        check_redis_url("http://h")


def test_read_only_mode() -> None:
    assert parse_embedded_url("file:///a.db?mode=ro") == EmbeddedTarget("/a.db", read_only=True)
    assert parse_embedded_url("file:///a.db?mode=RW&timeout=1").read_only is False
    assert not parse_embedded_url("file:///a.db").read_only
    assert EmbeddedTarget("/a b.db", read_only=True).url == "file:///a%20b.db?mode=ro"
    assert parse_embedded_url(EmbeddedTarget("rel.db", read_only=True).url).read_only


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///a.db", "file:///a.db?mode=ro"),
        ("file:rel.db?timeout=2", "file:rel.db?timeout=2&mode=ro"),
        ("file:///a.db?mode=ro", "file:///a.db?mode=ro"),
        ("file:///a.db?mode=rw", "file:///a.db?mode=rw"),  # asked for: kept
        ("memory://", "memory://"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_read_only_url(url: str, expected: str) -> None:
    assert read_only_url(url) == expected


def test_read_only_url_checks_the_url() -> None:
    with pytest.raises(ValueError, match="unknown option 'x'"):
        read_only_url("file:///a.db?x=1")


def test_an_option_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="'mode' is given twice"):
        parse_embedded_url("file:///x.db?mode=ro&mode=rw")


def test_a_password_in_a_file_url_is_not_shown() -> None:
    with pytest.raises(ValueError, match="names host") as info:
        parse_embedded_url("file://user:s3cret@localhost/tmp/x.db")
    assert "s3cret" not in str(info.value)
