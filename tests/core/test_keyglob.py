"""Redis glob matching: documented cases (the comparison with a real Redis is in
tests/test_keyglob_redis.py)."""

from __future__ import annotations

import pytest

from bitmapist_async._core.keyglob import glob_literal_prefix, glob_match, key_bytes

CASES = [
    (b"*", b"", False),  # stringmatchlen; SCAN and KEYS special-case the pattern "*" itself
    (b"*", b"anything", True),
    (b"a*", b"a", True),
    (b"a*b", b"ab", True),
    (b"a*b", b"axxb", True),
    (b"a*b", b"axxbc", False),
    (b"a**b*", b"ab", True),
    (b"?", b"", False),
    (b"?", b"x", True),
    (b"a?c", b"abc", True),
    (b"h[ae]llo", b"hello", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hbllo", True),  # reversed bounds are swapped
    (b"h[a-b]llo", b"hcllo", False),
    (b"\\*", b"*", True),
    (b"\\*", b"x", False),
    (b"a\\", b"a\\", True),  # a trailing backslash is literal
    (b"[\\]]", b"]", True),
    (b"[\\-]", b"-", True),
    (b"[a-]", b"a", True),  # the range ']'..'a'
    (b"[a-]", b"^", True),
    (b"[a-]x", b"x", True),  # ... and the class runs on (unclosed)
    (b"[abc", b"b", True),  # an unclosed class ends with the pattern
    (b"[abc", b"bc", False),
    (b"[", b"x", False),
    (b"[]", b"x", False),
    (b"[^]", b"x", True),
    (b"trackist\\_*", b"trackist_a_2026-11", True),
    (b"a*b*c", b"aXbYbZc", True),
    (b"a*b*c", b"aXbYbZ", False),
    (b"[\x00-\x7f]", b"\x80", False),
]


@pytest.mark.parametrize(("pattern", "key", "expected"), CASES)
def test_cases(pattern: bytes, key: bytes, expected: bool) -> None:
    assert glob_match(pattern, key) is expected


def test_signed_char_ranges() -> None:
    # Bytes >= 0x80 are negative chars on x86-64: [\x80-\xff] is -128..-1, so it holds all of
    # them, and [\x01-\xff] is -1..1 (swapped), which holds \xff, \x00 and \x01.
    assert glob_match(b"[\x80-\xff]", b"\x90") is True
    assert glob_match(b"[\x01-\xff]", b"\x90") is False
    assert glob_match(b"[\x01-\xff]", b"\xff") is True
    assert glob_match(b"[\x01-\xff]", b"\x00") is True


def test_nesting_limit() -> None:
    many = b"a*" * 1001 + b"b"
    assert glob_match(b"a*" * 999 + b"b", b"a" * 999 + b"b") is True
    assert glob_match(many, b"a" * 1001 + b"b") is False


def test_literal_prefix() -> None:
    assert glob_literal_prefix(b"trackist\\_a*") == b"trackist_a"
    assert glob_literal_prefix(b"ab?") == b"ab"
    assert glob_literal_prefix(b"ab[c]") == b"ab"
    assert glob_literal_prefix(b"ab\\") == b"ab\\"
    assert glob_literal_prefix(b"*") == b""


def test_key_bytes_keep_undecodable_keys() -> None:
    key = b"k\xff".decode("utf-8", "surrogateescape")
    assert key_bytes(key) == b"k\xff"
    assert key_bytes("é") == "é".encode()
