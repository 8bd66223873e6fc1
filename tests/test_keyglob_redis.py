"""The glob matcher of the embedded store against Redis's own, on random keys and patterns.

The keys are written and matched through the ``admin`` connection (``KEYS``), whose commands
are outside the grammar check, so any byte may appear in keys and patterns.
"""

from __future__ import annotations

from collections.abc import Iterable

import hypothesis.strategies as st
import redis
from hypothesis import HealthCheck, given, settings

from bitmapist_async._core.keyglob import glob_match

# Bytes that exercise every rule: metacharacters, range bounds, and negative (signed) chars.
KEY_BYTES = st.sampled_from([*b"ab-]^\\*?[", 0x00, 0x7F, 0x80, 0xC3, 0xFF])
PATTERN_BYTES = st.sampled_from([*b"ab-]^\\*?[", 0x00, 0x80, 0xFF])

KEYS = st.lists(st.binary(min_size=0, max_size=6).map(bytes), max_size=8).flatmap(
    lambda extra: st.lists(
        st.lists(KEY_BYTES, min_size=1, max_size=5).map(bytes), min_size=1, max_size=12
    ).map(lambda keys: keys + extra)
)
_ONE = KEY_BYTES.map(lambda b: bytes([b]))
_CLASS_ITEM = st.one_of(
    _ONE,
    st.builds(lambda a, b: a + b"-" + b, _ONE, _ONE),  # a range, bounds in either order
    _ONE.map(lambda b: b"\\" + b),  # an escaped byte
)
_CLASS = st.builds(
    lambda negate, items, close: b"[" + (b"^" if negate else b"") + b"".join(items) + close,
    st.booleans(),
    st.lists(_CLASS_ITEM, max_size=3),
    st.sampled_from([b"]", b"]", b"]", b""]),  # sometimes unclosed
)
_PIECE = st.one_of(_ONE, _ONE, st.just(b"*"), st.just(b"?"), _ONE.map(lambda b: b"\\" + b), _CLASS)
# Structured patterns (every construct, nested in any order) and raw byte soup.
PATTERNS = st.one_of(
    st.lists(_PIECE, min_size=1, max_size=5).map(b"".join),
    st.lists(PATTERN_BYTES, min_size=1, max_size=8).map(bytes),
)


def set_keys(admin: redis.Redis, keys: Iterable[bytes]) -> None:
    """One SET per key, pipelined (bitmapist-server has no MSET)."""
    with admin.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.set(key, b"1")
        pipe.execute()


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(keys=KEYS, pattern=PATTERNS)
def test_glob_match_agrees_with_redis_keys(
    redis_url: str, admin: redis.Redis, keys: list[bytes], pattern: bytes
) -> None:
    unique = set(keys)
    set_keys(admin, unique)
    try:
        got_redis = set(admin.keys(pattern))
        expected = {k for k in unique if pattern == b"*" or glob_match(pattern, k)}
        assert got_redis == expected, (pattern, sorted(unique))
    finally:
        admin.delete(*unique)


def test_pathological_patterns_agree_with_redis(redis_url: str, admin: redis.Redis) -> None:
    keys = [b"a" * 30 + b"b", b"a" * 30, b"ab" * 10, b"[a-]x", b"]", b"^", b"a\\"]
    set_keys(admin, keys)
    patterns = [
        *(b"a*a*a*a*a*a*a*a*b", b"*a*a*c", b"[a-]*", b"[a-]x", b"[a-]", b"[^a-]"),
        *(b"a\\", b"*\\", b"[^]", b"[", b"[\\", b"\\[a]"),
    ]
    for pattern in patterns:
        expected = {k for k in keys if glob_match(pattern, k)}
        assert set(admin.keys(pattern)) == expected, pattern
