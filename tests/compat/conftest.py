"""Fixtures for the compat tests: the ``default`` system points at the suite's private server.

Autouse, so that no compat test can reach ``localhost:6379`` (bitmapist's default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest
import redis

import bitmapist_async.compat as compat
from bitmapist_async._sync.redis_storage import redis_connect_kwargs
from bitmapist_async.compat import _systems

ClientFactory = Callable[..., redis.Redis]


@pytest.fixture(autouse=True)
def compat_default(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``setup_redis("default", ...)`` on the suite's server for this test; SYSTEMS, the module
    flags and this thread's runtime bit-op registry are restored afterwards."""
    url = urlparse(redis_url)
    assert url.hostname is not None
    assert url.port is not None
    saved = dict(compat.SYSTEMS)
    monkeypatch.setattr(compat, "TRACK_HOURLY", False)
    monkeypatch.setattr(compat, "TRACK_UNIQUE", False)
    compat.setup_redis("default", url.hostname, url.port)
    _systems.runtime_bitop_keys().clear()
    yield redis_url
    _systems.runtime_bitop_keys().clear()
    for name, client in compat.SYSTEMS.items():
        if saved.get(name) is not client:
            client.close()
    compat.SYSTEMS.clear()
    compat.SYSTEMS.update(saved)


@pytest.fixture
def make_client(redis_url: str) -> Iterator[ClientFactory]:
    """Plain redis-py clients on the suite's server (handshake inside the grammar), closed at
    the end of the test."""
    made: list[redis.Redis] = []

    def make(url: str = redis_url, **kwargs: object) -> redis.Redis:
        client = redis.Redis.from_url(url, **{**redis_connect_kwargs(), **kwargs})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
