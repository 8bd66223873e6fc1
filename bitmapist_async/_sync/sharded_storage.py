# This file is generated from bitmapist_async/_async/sharded_storage.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Storage in the sharded layout, on one Redis or on a Redis Cluster.

:class:`ShardedStorage` implements the storage seam on *logical* keys (the classic names) and
keeps each id range in its own physical key, ``{prefix}{shard}{rest}``, whose hash tag puts
every key of one range in one cluster slot (see :mod:`bitmapist_async._core.shards`). The plans
in :mod:`bitmapist_async._core.shard_plan` turn every logical operation into per-shard commands.

Every call sends its commands through one client pipeline: on a single Redis that is one
pipeline; on a ``RedisCluster`` redis-py groups the commands by node and sends one pipeline per
node, concurrently (``asyncio.gather`` in the async client; the sync client writes every node's
pipeline before reading any reply), retrying single commands on ``MOVED``/``ASK``.

Only bitmapist-server's commands are sent: SETBIT, GETBIT, BITCOUNT key, BITOP, EXISTS key,
DEL, GET, SET key value, SCAN cursor MATCH pattern COUNT n, INFO keys, EXPIRE, PING; on
bitmapist-server ``scan`` walks the key space by slash depth (``keyscan.py``).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from typing import Any

import redis as redis_api
from redis.cluster import RedisCluster

from .._core.decode import decode_ids
from .._core.errors import ShardLayoutError
from .._core.keyglob import glob_match, key_bytes
from .._core.options import ClientOptions, Write
from .._core.plan import BitOpStep, Query
from .._core.shard_plan import (
    Command,
    ReadPlan,
    merge_probe,
    plan_delete,
    plan_merges,
    plan_writes,
    read_needs,
    write_probe,
)
from .._core.shards import ShardLayout
from .._core.url import cluster_node_url, redact_url
from .._loops import forget_cluster
from .._pairs import LoopGuard
from .keyscan import KeyScanner
from .redis_storage import RedisStorage, redis_connect_kwargs
from .storage import Storage, QueryResult

__all__ = ("ShardedStorage", "open_sharded_storage")

_SCAN_COUNT = 1000


class ShardedStorage:
    """:class:`~bitmapist_async._sync.storage.Storage` in the sharded layout.

    :param target: a ``redis://``/``rediss://``/``unix://`` URL, a ``redis+cluster://`` or
        ``rediss+cluster://`` URL (any one node of the cluster), or a ``redis.Redis`` or
        ``redis.cluster.RedisCluster`` instance (which the caller keeps ownership of).
    :param layout: the key prefix and ``shard_bits``.
    :param bitop_ttl: seconds every temporary key lives.
    :param pool_options: passed to ``Redis.from_url`` / ``RedisCluster.from_url``.
    """

    def __init__(
        self,
        target: str | redis_api.Redis | RedisCluster,
        *,
        layout: ShardLayout,
        bitop_ttl: int,
        **pool_options: Any,
    ) -> None:
        self._layout = layout
        self._ttl = bitop_ttl
        self._inner: RedisStorage | None = None
        self._owns_client = False
        self._layout_checked = False
        self._scanner = KeyScanner()
        self._client: redis_api.Redis | RedisCluster | None = None
        self._cluster_url: tuple[str, dict[str, Any]] | None = None
        # The event loop of a cluster client's connections (one Redis: its storage's pool).
        self._loop_guard = LoopGuard(self._moved, "the client's Redis Cluster connections")
        node_url = cluster_node_url(target) if isinstance(target, str) else None
        if node_url is not None:
            assert isinstance(target, str)
            # Created on first use: the sync RedisCluster connects as it is built.
            self._cluster_url = (node_url, {**redis_connect_kwargs(), **pool_options})
            self._owns_client = True
            self._description = redact_url(target)
        elif isinstance(target, RedisCluster):
            if pool_options:
                raise TypeError(
                    "pool options cannot be combined with a client instance: "
                    + ", ".join(sorted(pool_options))
                )
            kwargs: dict[str, Any] = target.get_connection_kwargs()  # type: ignore[no-untyped-call,unused-ignore]
            if kwargs.get("decode_responses"):
                raise ValueError("the RedisCluster client must use decode_responses=False")
            self._client = target
            self._description = f"{type(target).__name__} instance"
        else:
            self._inner = RedisStorage(target, bitop_ttl=bitop_ttl, **pool_options)
            self._client = self._inner.client
            self._description = self._inner.describe()

    @property
    def client(self) -> redis_api.Redis | RedisCluster | None:
        """The underlying redis-py client (``None`` until the first command when opened from a
        ``redis+cluster://`` URL)."""
        return self._client

    def _connection(self) -> redis_api.Redis | RedisCluster:
        if self._client is None:
            assert self._cluster_url is not None
            url, options = self._cluster_url
            self._client = RedisCluster.from_url(url, **options)
        return self._client

    @property
    def layout(self) -> ShardLayout:
        """Key names and shard size."""
        return self._layout

    @property
    def is_cluster(self) -> bool:
        """Whether the client is a ``RedisCluster``."""
        return self._cluster_url is not None or isinstance(self._client, RedisCluster)

    def describe(self) -> str:
        return f"{self._description} (sharded, shard_bits={self._layout.shard_bits})"

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, commands: Sequence[Command]) -> list[Any]:
        """Send *commands* in one pipeline (one per node on a cluster); return the replies."""
        if not commands:
            return []
        if self._inner is not None:  # one Redis: hand-packed commands, one round trip
            return self._inner.execute_commands(commands)
        with self._loop_guard, self._connection().pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            replies: list[Any] = pipe.execute()
        return replies

    def _moved(self, old: Any) -> None:
        """The running event loop is not the one the cluster client's connections belong to,
        and none is in use: drop them without running *old* (see ``bitmapist_async._loops``);
        a client this storage made is made anew on first use."""
        client = self._client
        if not isinstance(client, RedisCluster):
            return
        forget_cluster(client, old)
        if self._owns_client:
            self._client = None
            with contextlib.suppress(RuntimeError):  # (a connection forget_cluster missed)
                client.close()

    def _check_layout(self, stored: object) -> None:
        expected = str(self._layout.shard_bits).encode()
        if stored is not None and stored != expected:
            shown = stored.decode(errors="replace") if isinstance(stored, bytes) else stored
            raise ShardLayoutError(
                f"keys under {self._layout.prefix!r} were written with shard_bits={shown}, "
                f"this client uses shard_bits={self._layout.shard_bits} "
                f"({self._layout.layout_key!r})"
            )

    def _layout_prelude(self) -> list[Command]:
        """Before this client's first write: check the stored ``shard_bits`` (and return the
        command recording it when missing)."""
        if self._layout_checked:
            return []
        (stored,) = self._run([("GET", self._layout.layout_key)])
        self._check_layout(stored)
        self._layout_checked = True
        if stored is None:
            return [("SET", self._layout.layout_key, str(self._layout.shard_bits))]
        return []

    def shards(self) -> list[int]:
        """Shards in the index (every shard that may hold keys), ascending."""
        index, stored = self._run(
            [("GET", self._layout.index_key), ("GET", self._layout.layout_key)]
        )
        self._check_layout(stored)
        return decode_ids(bytes(index or b""), use_numpy=False)

    def stored_shard_bits(self) -> int | None:
        """The ``shard_bits`` recorded under this key prefix, or ``None`` when no client of the
        sharded layout has written there."""
        (stored,) = self._run([("GET", self._layout.layout_key)])
        if stored is None:
            return None
        try:
            return int(stored)
        except ValueError:
            raise ShardLayoutError(
                f"{self._layout.layout_key!r} holds {stored!r}, not a shard_bits number"
            ) from None

    def _present(self, pairs: set[tuple[str, int]]) -> set[tuple[str, int]]:
        """The ``(logical key, shard)`` pairs among *pairs* whose physical key exists."""
        ordered = sorted(pairs)
        replies = self._run([("EXISTS", self._layout.key(k, s)) for k, s in ordered])
        return {pair for pair, reply in zip(ordered, replies, strict=True) if int(reply)}

    # -- the seam --------------------------------------------------------------------------

    def write_bits(self, writes: Sequence[Write]) -> None:
        if not writes:
            return
        prelude = self._layout_prelude()
        present: set[tuple[str, int]] = set()
        if any(value == 0 for _, _, value in writes):
            pairs = write_probe(self._layout, writes, self.shards())
            present = self._present(pairs)
        self._run([*prelude, *plan_writes(self._layout, writes, present)])

    def merge_bitmaps(
        self, merges: Sequence[tuple[str, bytes]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        if not merges:
            return
        prelude = self._layout_prelude()
        pairs = merge_probe(self._layout, merges, (), unmark=unmark)
        present: set[tuple[str, int]] = set()
        if pairs:
            pairs = merge_probe(self._layout, merges, self.shards(), unmark=unmark)
            present = self._present(pairs)
        commands = plan_merges(
            self._layout,
            merges,
            temp_prefix=temp_prefix,
            token=secrets.token_hex(8),
            ttl=self._ttl,
            unmark=unmark,
            present=present,
        )
        self._run([*prelude, *commands])

    def merge_bits(
        self, merges: Sequence[tuple[str, Sequence[int]]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        """Like :meth:`merge_bitmaps`, from offsets (each key's offsets become its logical
        bitmap; ids far from 0 make that bitmap large, so import such keys in smaller chunks)."""
        converted: list[tuple[str, bytes]] = []
        for key, offsets in merges:
            if not offsets:
                continue
            data = bytearray(max(offsets) // 8 + 1)
            for offset in offsets:
                data[offset >> 3] |= 0x80 >> (offset & 7)
            converted.append((key, bytes(data)))
        self.merge_bitmaps(converted, temp_prefix=temp_prefix, unmark=unmark)

    def _plan(self, steps: Sequence[BitOpStep], queries: Sequence[Query]) -> ReadPlan:
        needs = read_needs(steps, queries)
        index = self.shards() if needs.index else None
        tops: dict[str, int] = {}
        if needs.probe and index:
            present = self._present({(k, s) for k in needs.probe for s in index})
            for key, shard in present:
                tops[key] = max(tops.get(key, -1), shard)
        return ReadPlan(self._layout, steps, queries, ttl=self._ttl, index=index, leaf_tops=tops)

    def evaluate(
        self, steps: Sequence[BitOpStep], queries: Sequence[Query]
    ) -> list[QueryResult]:
        if not steps and not queries:
            return []
        plan = self._plan(steps, queries)
        return plan.results(self._run(plan.commands))

    def evaluate_segments(
        self, steps: Sequence[BitOpStep], key: str
    ) -> list[tuple[int, bytes]]:
        """Run *steps*, then read *key*'s bitmap as ``(byte offset, bytes)`` pieces in order,
        without the zero bytes between shards (what ``ids()`` decodes)."""
        plan = self._plan(steps, [Query("get", key)])
        parts = plan.parts(self._run(plan.commands), 0)
        size = self._layout.shard_bytes
        return [(shard * size, data) for shard, data in parts]

    def scan(self, pattern: str) -> list[str]:
        physical = self._layout.scan_pattern(pattern)
        wanted = key_bytes(pattern)
        found: set[str] = set()
        with self._loop_guard:
            connection = self._connection()
            if isinstance(connection, RedisCluster):
                scanned = connection.scan_iter(match=physical, count=_SCAN_COUNT)
                raws = [raw for raw in scanned]
            else:
                raws = list(self._scanner.scan(connection, physical))
        for raw in raws:
            key = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
            parsed = self._layout.parse(key)
            if parsed is not None and glob_match(wanted, key_bytes(parsed[1])):
                found.add(parsed[1])
        return list(found)

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        self._run(plan_delete(self._layout, keys, self.shards()))

    def bind_loop(self) -> None:
        """Check that no other event loop has a call in flight (then the next call moves the
        connections to the running loop).

        :raises EventLoopConflictError: another loop has a call in flight.
        """
        if self._inner is not None:
            self._inner.bind_loop()
        else:
            self._loop_guard.check()

    def ping(self) -> None:
        with self._loop_guard:
            self._connection().ping()

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            return
        with self._loop_guard:  # (moved first: a dead loop's connections are dropped)
            if self._owns_client and self._client is not None:
                self._client.close()


def open_sharded_storage(
    target: str | redis_api.Redis | RedisCluster | Storage | None,
    options: ClientOptions,
    pool_options: dict[str, Any],
    default_url: str,
) -> Storage:
    """The storage for ``Bitmapist(..., layout="sharded")`` (no I/O).

    A storage instance is used as given: it must already be a :class:`ShardedStorage` with the
    client's prefix and ``shard_bits``.

    :raises TypeError: *target* is another kind of storage, or not a URL or client.
    :raises ValueError: a :class:`ShardedStorage` with another prefix or ``shard_bits``.
    """
    layout = options.shard_layout()
    if isinstance(target, ShardedStorage):
        if pool_options:
            raise TypeError("pool options cannot be combined with a storage instance")
        if target.layout != layout:
            raise ValueError(
                f"the storage's {target.layout!r} differs from the client's {layout!r}"
            )
        return target
    if target is None:
        target = default_url
    if isinstance(target, (str, redis_api.Redis, RedisCluster)):
        return ShardedStorage(target, layout=layout, bitop_ttl=options.bitop_ttl, **pool_options)
    raise TypeError(
        "layout='sharded' needs a Redis or Redis Cluster URL or client, got "
        f"{type(target).__name__}"
    )
