"""The storage seam: the few bitmap operations the rest of the library needs.

Events, bit operations, cohorts and the batcher talk to storage only through
:class:`AsyncStorage`; a backend (Redis, a Redis Cluster layout, the embedded store) implements
it. Keys are *logical* bitmapist keys; a backend may lay them out differently.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Protocol, TypeAlias, runtime_checkable

from .._core.options import Write
from .._core.plan import BitOpStep, Query

__all__ = ("AsyncSegmentedStorage", "AsyncSizedStorage", "AsyncStorage", "QueryResult")

#: ``int`` (count, getbit, exists), ``bytes`` (get) or ``array('I')`` (ids): see ``Query``.
QueryResult: TypeAlias = "int | bytes | array[int]"


class AsyncStorage(Protocol):
    """What a storage backend provides. Every method is one round trip at most."""

    async def write_bits(self, writes: Sequence[Write]) -> None:
        """Apply ``SETBIT key offset value`` for every write, in order.

        May raise :class:`~bitmapist_async.RejectedWritesError` when some writes were refused
        and the others stored. A backend may also offer ``is_transient(exc) -> bool``: which
        failures the write batcher retries (default: ``OSError`` and timeouts).
        """

    async def merge_bitmaps(
        self, merges: Sequence[tuple[str, bytes]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        """Merge each ``(key, bitmap)`` into *key*: OR its bits in, or with *unmark* clear them
        (exact difference). Each key changes atomically: it is either untouched or fully merged.

        :param temp_prefix: where a backend may put short-lived scratch keys (they carry a TTL).
        """

    async def merge_bits(
        self, merges: Sequence[tuple[str, Sequence[int]]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        """Like :meth:`merge_bitmaps` for sparse bitmaps given as bit offsets: each key is
        either untouched or gets every offset set (or with *unmark* cleared), atomically."""

    async def evaluate(
        self, steps: Sequence[BitOpStep], queries: Sequence[Query]
    ) -> list[QueryResult]:
        """Run every step (in order), then every query; return one result per query."""
        ...

    async def scan(self, pattern: str) -> list[str]:
        """Every key matching the glob *pattern* (no duplicates, any order)."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Delete *keys* (missing keys are ignored)."""

    async def ping(self) -> None:
        """Check that storage answers."""

    async def aclose(self) -> None:
        """Release connections (and close the client if the storage created it)."""

    def describe(self) -> str:
        """A human-readable target, without secrets."""
        ...


@runtime_checkable
class AsyncSegmentedStorage(Protocol):
    """Optional: a backend whose bitmaps come in pieces (the sharded layout) reads them without
    building the zero bytes between the pieces; ``ids()`` and ``id_array()`` use it."""

    async def evaluate_segments(
        self, steps: Sequence[BitOpStep], key: str
    ) -> list[tuple[int, bytes]]:
        """Run every step (in order), then return *key*'s bitmap as ``(byte offset, bytes)``
        pieces in ascending order (absent bytes are zero)."""
        ...


@runtime_checkable
class AsyncSizedStorage(Protocol):
    """Optional: a backend that can tell, cheaply, how many bytes fetching each bitmap would
    bring; ``compute="auto"`` (cohorts) uses it to decide whether to count cells here."""

    async def sizes(self, keys: Sequence[str]) -> list[int] | None:
        """Each key's byte length as a ``get`` query would return it (0 for a missing key), in
        one round trip; ``None`` when this server cannot say."""
        ...
