"""Embedded-store URLs: parsing, options, and errors that name the bad part."""

from __future__ import annotations

import pytest

from bitmapist_async._core.url import (
    EmbeddedTarget,
    check_redis_url,
    is_embedded_url,
    parse_embedded_url,
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
