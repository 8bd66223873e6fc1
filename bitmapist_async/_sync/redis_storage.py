# This file is generated from bitmapist_async/_async/redis_storage.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Storage on a Redis server (or any server speaking bitmapist-server's subset of Redis).

Only these commands are sent: SETBIT, GETBIT, BITCOUNT (key only), BITOP, EXISTS (one key), DEL,
GET, SCAN (``cursor MATCH pattern COUNT n``), EXPIRE, PING. Connections speak RESP2 and skip
``CLIENT SETINFO``, which bitmapist-server does not know.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import redis as redis_api

from .._core.options import Write
from .._core.plan import BitOpStep, Query
from .._core.url import check_redis_url, redact_url
from .storage import QueryResult

__all__ = ("RedisStorage", "redis_connect_kwargs")

_DELETE_BATCH = 1000
_SCAN_COUNT = 1000


def redis_connect_kwargs() -> dict[str, Any]:
    """Connection options that keep the handshake inside bitmapist-server's grammar."""
    try:
        from redis.driver_info import DriverInfo
    except ImportError:  # pragma: no cover - redis-py < 7
        return {"protocol": 2, "lib_name": None, "lib_version": None}
    return {"protocol": 2, "driver_info": DriverInfo(name=None, lib_version=None)}


class RedisStorage:
    """:class:`~bitmapist_async._sync.storage.Storage` on ``redis``.

    :param target: a ``redis://``/``rediss://``/``unix://`` URL, or a client instance (which the
        caller keeps ownership of: :meth:`close` does not close it).
    :param bitop_ttl: seconds every temporary bit-operation key lives.
    :param pool_options: passed to ``Redis.from_url`` (``max_connections``, ``socket_timeout``,
        ``ssl_ca_certs``, ``username``, ...).
    """

    def __init__(
        self, target: str | redis_api.Redis, *, bitop_ttl: int, **pool_options: Any
    ) -> None:
        if isinstance(target, str):
            url = check_redis_url(target)
            options = {**redis_connect_kwargs(), **pool_options}
            self._client: redis_api.Redis = redis_api.Redis.from_url(url, **options)
            self._owns_client = True
            self._description = redact_url(url)
        elif isinstance(target, redis_api.Redis):
            if pool_options:
                raise TypeError(
                    "pool options cannot be combined with a client instance: "
                    + ", ".join(sorted(pool_options))
                )
            kwargs = target.connection_pool.connection_kwargs
            if kwargs.get("decode_responses"):
                raise ValueError("the Redis client must use decode_responses=False")
            self._client = target
            self._owns_client = False
            self._description = f"{type(target).__name__} instance"
        else:
            raise TypeError(
                f"expected a Redis URL or a {redis_api.Redis.__module__}.Redis instance, "
                f"got {type(target).__name__}"
            )
        self._ttl = bitop_ttl

    @property
    def client(self) -> redis_api.Redis:
        """The underlying redis-py client."""
        return self._client

    def describe(self) -> str:
        return self._description

    def write_bits(self, writes: Sequence[Write]) -> None:
        if not writes:
            return
        with self._client.pipeline(transaction=False) as pipe:
            for key, offset, value in writes:
                pipe.setbit(key, offset, value)
            pipe.execute()

    def merge_bitmaps(
        self, merges: Sequence[tuple[str, bytes]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        if not merges:
            return
        # One scratch key serves the whole pipeline: SET replaces it (and drops its TTL, which
        # EXPIRE puts back at once), BITOP merges it, one DEL removes it at the end.
        scratch = f"{temp_prefix}merge_{secrets.token_hex(8)}"
        common = f"{scratch}_and"
        with self._client.pipeline(transaction=False) as pipe:
            for key, data in merges:
                pipe.set(scratch, data)
                pipe.expire(scratch, self._ttl)
                if unmark:
                    pipe.bitop("AND", common, key, scratch)
                    pipe.expire(common, self._ttl)
                    pipe.bitop("XOR", key, key, common)
                else:
                    pipe.bitop("OR", key, key, scratch)
            pipe.delete(scratch, common)
            pipe.execute()

    def merge_bits(
        self, merges: Sequence[tuple[str, Sequence[int]]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        if not merges:
            return
        token = secrets.token_hex(8)
        with self._client.pipeline(transaction=False) as pipe:
            for index, (key, offsets) in enumerate(merges):
                if not offsets:
                    continue
                scratch = f"{temp_prefix}merge_{token}_{index}"
                # The TTL goes on right after the first bit: only a pipeline cut between these
                # two commands can leave a scratch key without one.
                pipe.setbit(scratch, offsets[0], 1)
                pipe.expire(scratch, self._ttl)
                for offset in offsets[1:]:
                    pipe.setbit(scratch, offset, 1)
                self._merge_scratch(pipe, key, scratch, unmark)
            pipe.execute()

    def _merge_scratch(self, pipe: Any, key: str, scratch: str, unmark: bool) -> None:
        """Queue the one command that changes *key* (``BITOP``), then drop the scratch key."""
        if unmark:
            common = f"{scratch}_and"
            pipe.bitop("AND", common, key, scratch)
            pipe.expire(common, self._ttl)
            pipe.bitop("XOR", key, key, common)
            pipe.delete(scratch, common)
        else:
            pipe.bitop("OR", key, key, scratch)
            pipe.delete(scratch)

    def evaluate(
        self, steps: Sequence[BitOpStep], queries: Sequence[Query]
    ) -> list[QueryResult]:
        with self._client.pipeline(transaction=False) as pipe:
            for step in steps:
                pipe.bitop(step.op, step.dest, *step.sources)
                pipe.expire(step.dest, self._ttl)
            for query in queries:
                if query.kind == "count":
                    pipe.bitcount(query.key)
                elif query.kind == "getbit":
                    pipe.getbit(query.key, query.offset)
                elif query.kind == "get":
                    pipe.get(query.key)
                else:
                    pipe.exists(query.key)
            replies = pipe.execute()
        results: list[QueryResult] = []
        for query, reply in zip(queries, replies[2 * len(steps) :], strict=True):
            if query.kind == "get":
                results.append(b"" if reply is None else bytes(reply))
            else:
                results.append(int(reply))
        return results

    def scan(self, pattern: str) -> list[str]:
        found: set[str] = set()
        for key in self._client.scan_iter(match=pattern, count=_SCAN_COUNT):
            found.add(key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else key)
        return list(found)

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._client.pipeline(transaction=False) as pipe:
            for start in range(0, len(keys), _DELETE_BATCH):
                pipe.delete(*keys[start : start + _DELETE_BATCH])
            pipe.execute()

    def ping(self) -> None:
        self._client.ping()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
