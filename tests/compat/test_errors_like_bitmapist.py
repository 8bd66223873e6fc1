"""Compat writes fail like bitmapist's: with redis-py's own exception, quickly."""

from __future__ import annotations

import pytest
import redis

import bitmapist_async.compat as bitmapist

from ..servers import free_port


def test_unreachable_redis_raises_redis_connection_error() -> None:
    client = redis.Redis(port=free_port(), protocol=2, socket_connect_timeout=1)
    with pytest.raises(redis.ConnectionError):
        bitmapist.mark_event("active", 1, system=client)
    with pytest.raises(redis.ConnectionError):
        bitmapist.mark_unique("premium", 1, system=client)
    client.close()
