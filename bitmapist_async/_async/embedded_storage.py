"""The embedded backend: no server, roaring bitmaps persisted in an SQLite file.

Selected by ``Bitmapist("file:///path/to/events.db")`` or ``Bitmapist("memory://")``. It answers
every seam operation exactly as Redis would (byte lengths, ``BITOP NOT`` padding, ``GET`` byte
order, glob patterns), while storing ids compressed: a million random ids over ``[0, 2**32)``
take a few MiB instead of Redis's 512 MiB string.

Blocking SQLite work goes through the runner pair of ``bitmapist_async._pairs``: the async
class runs it in a worker thread, so the event loop is never blocked; the generated sync twin
calls it directly.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from pyroaring import BitMap

from .._core.bitstrings import BitString
from .._core.options import Write
from .._core.plan import BitOpStep, Query
from .._core.roaring import from_redis_bytes
from .._core.store_check import StoreCheckReport
from .._core.url import parse_embedded_url
from .._pairs import AsyncBlockingRunner
from .._sqlite_store import SqliteBitmapStore
from .storage import QueryResult

__all__ = ("EmbeddedStorage",)


def _bitstring(data: bytes) -> BitString | None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a bitmap to merge must be bytes, got {type(data).__name__}")
    if not len(data):
        return None
    return BitString(from_redis_bytes(bytes(data)), len(data))


class EmbeddedStorage:
    """:class:`~bitmapist_async._async.storage.AsyncStorage` in this process: roaring bitmaps
    (pyroaring) persisted in SQLite (WAL mode).

    :param target: ``file:///absolute/path.db``, ``file:relative/path.db`` or ``memory://``
        (a private store that lives until :meth:`aclose`). Options:
        ``?synchronous=full`` (survive power cuts too, slower writes; the default ``normal``
        survives a killed process), ``?timeout=SECONDS`` (how long a write waits for another
        process's write, default 10) and ``?mode=ro`` (read-only: nothing is ever written or
        created, even in a read-only directory; writes raise
        :class:`~bitmapist_async.ReadOnlyStoreError`).
    :param bitop_ttl: seconds that results written by ``Expression.store()`` live.
    :raises ValueError: a malformed URL or option (before any I/O).

    Example::

        async with Bitmapist("file:///var/lib/app/events.db") as bm:
            await bm.mark_event("active", 123)
    """

    def __init__(self, target: str = "memory://", *, bitop_ttl: int = 60) -> None:
        parsed = parse_embedded_url(target)
        if parsed.path is not None:
            parsed = dataclasses.replace(parsed, path=os.path.abspath(parsed.path))
        if isinstance(bitop_ttl, bool) or not isinstance(bitop_ttl, int) or bitop_ttl < 1:
            raise ValueError(f"bitop_ttl must be an int >= 1, got {bitop_ttl!r}")
        self._store = SqliteBitmapStore(parsed)
        self._runner = AsyncBlockingRunner()
        self._ttl = bitop_ttl

    @property
    def path(self) -> str | None:
        """The absolute path of the SQLite file (``None`` for ``memory://``)."""
        return self._store.target.path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only (``?mode=ro``): every write raises
        :class:`~bitmapist_async.ReadOnlyStoreError`."""
        return self._store.target.read_only

    def describe(self) -> str:
        return self._store.target.url

    async def write_bits(self, writes: Sequence[Write]) -> None:
        if not writes:
            return
        await self._runner.run(self._store.write_bits, list(writes))

    def _merge(self, merges: list[tuple[str, bytes]], unmark: bool) -> None:
        converted = [(key, _bitstring(data)) for key, data in merges]
        self._store.merge(converted, unmark=unmark)

    async def merge_bitmaps(
        self, merges: Sequence[tuple[str, bytes]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        # No scratch keys: the merge happens in one SQLite transaction, so temp_prefix is unused.
        if not merges:
            return
        await self._runner.run(self._merge, list(merges), unmark)

    async def merge_bits(
        self, merges: Sequence[tuple[str, Sequence[int]]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        # Like merge_bitmaps (one transaction, no scratch keys), from offsets: a merged key grows
        # to the byte of its highest offset, as Redis's SETBIT + BITOP make it.
        if not merges:
            return
        converted = [
            (key, BitString(BitMap(list(offsets)), max(offsets) // 8 + 1) if offsets else None)
            for key, offsets in merges
        ]
        await self._runner.run(self._store_merge, converted, unmark)

    def _store_merge(self, merges: list[tuple[str, BitString | None]], unmark: bool) -> None:
        self._store.merge(merges, unmark=unmark)

    def _evaluate(
        self, steps: list[BitOpStep], queries: list[Query], persist_ttl: int | None
    ) -> list[QueryResult]:
        return self._store.evaluate(steps, queries, persist_ttl=persist_ttl)

    async def evaluate(
        self, steps: Sequence[BitOpStep], queries: Sequence[Query]
    ) -> list[QueryResult]:
        # Queries compute their steps in memory. With no query (``Expression.store()``) the
        # steps' results are written at their keys with the bit-op TTL, as on Redis.
        if not steps and not queries:
            return []
        persist_ttl = None if queries else self._ttl
        return await self._runner.run(self._evaluate, list(steps), list(queries), persist_ttl)

    async def sizes(self, keys: Sequence[str]) -> list[int] | None:
        """Each key's byte length (0: missing): what a ``GET`` of it would bring."""
        if not keys:
            return []
        return await self._runner.run(self._store.sizes, list(keys))

    async def scan(self, pattern: str) -> list[str]:
        if not isinstance(pattern, str):
            raise TypeError(f"pattern must be a str, got {type(pattern).__name__}")
        return await self._runner.run(self._store.scan, pattern)

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        await self._runner.run(self._store.delete, list(keys))

    async def read_bitstrings(self, keys: Sequence[str]) -> list[BitString | None]:
        """Each key's ids (a roaring bitmap) and Redis byte length, ``None`` when missing, from
        one consistent snapshot. Embedded-only: the export tool reads sparse bitmaps this way
        without building their ``GET`` bytes.
        """
        return await self._runner.run(self._store.read, list(keys))

    async def replace_bitstrings(self, items: Sequence[tuple[str, BitString | None]]) -> None:
        """Set each key to exactly the given value (``None`` deletes it), atomically.
        Embedded-only counterpart of ``SET``, used by the import tool."""
        if items:
            await self._runner.run(self._store.replace, list(items))

    async def ping(self) -> None:
        await self._runner.run(self._store.ping)

    async def check(self) -> StoreCheckReport:
        """Read every stored row and report the damaged keys: containers that do not decode, a
        stored cardinality that differs from the ids in the payload (``count()`` would be
        wrong), ids beyond the key's byte length, rows of no key, and SQLite's own
        ``integrity_check``. Reads only (open the store with ``?mode=ro`` to be sure).

        :raises EmbeddedStorageError: the file is not a bitmapist-async store at all.
        """
        return await self._runner.run(self._store.check)

    async def aclose(self) -> None:
        await self._runner.run(self._store.close)
