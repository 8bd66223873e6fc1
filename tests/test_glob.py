"""``glob_match`` (which filters the sharded layout's SCAN replies and the embedded store's keys)
agrees with Redis's own ``SCAN MATCH`` on random text keys and patterns, special characters and
non-ASCII included (tests/test_keyglob_redis.py covers raw bytes with ``KEYS``)."""

from __future__ import annotations

import hypothesis.strategies as st
import redis
from hypothesis import HealthCheck, given, settings

from bitmapist_async._core.keyglob import glob_match

ALPHABET = "ab-^[]*?\\{}é"
KEYS = st.lists(st.text(ALPHABET, max_size=6), min_size=1, max_size=12, unique=True)
PATTERNS = st.text(ALPHABET, max_size=7)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(keys=KEYS, pattern=PATTERNS)
def test_glob_match_matches_like_redis(admin: redis.Redis, keys: list[str], pattern: str) -> None:
    prefixed = [f"globtest:{key}" for key in keys]
    admin.delete(*prefixed)
    for key in prefixed:
        admin.set(key, b"x")
    try:
        full = f"globtest:{pattern}"
        by_redis = {bytes(k) for k in admin.scan_iter(match=full, count=1000)}
        ours = {k.encode() for k in prefixed if glob_match(full.encode(), k.encode())}
        assert ours == by_redis, (pattern, keys)
    finally:
        admin.delete(*prefixed)
