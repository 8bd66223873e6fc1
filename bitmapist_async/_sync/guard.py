# This file is generated from bitmapist_async/_async/guard.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""The storage as query calls see it: every round trip under the client's deadline, and every
failure of the layer below raised as the library's own :class:`~bitmapist_async.StorageError`.

Marks do not come through here: the write batcher bounds and retries its flushes itself
(``WriteOptions.attempt_timeout`` and ``retry_deadline``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from .._core.errors import BitmapistError, ClientClosedError
from .._core.failures import storage_failure, timed_out
from .._core.options import Write
from .._core.plan import BitOpStep, Query
from .._deadline import Deadline
from .storage import SegmentedStorage, SizedStorage, Storage, QueryResult

__all__ = ("GuardedSegmentedStorage", "GuardedStorage", "guarded")


class GuardedStorage:
    """Wraps *storage* for query calls (no I/O until a method is awaited).

    :param storage: the client's backend.
    :param timeout: seconds each round trip may take (``None``: no deadline).
    """

    __slots__ = ("_closed", "_storage", "_timeout")

    def __init__(self, storage: Storage, timeout: float | None) -> None:
        self._storage = storage
        self._timeout = timeout
        self._closed = False

    def refuse_calls(self) -> None:
        """Refuse every later call with :class:`~bitmapist_async.ClientClosedError` (the
        client is closing: its connections are going, and must not be opened again)."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("the client is closed")

    @property
    def timeout(self) -> float | None:
        return self._timeout

    def describe(self) -> str:
        return self._storage.describe()

    def close(self) -> None:
        """Closing is the client's, through the storage itself: nothing to do here."""

    def _fail(self, exc: Exception) -> NoReturn:
        target = self._storage.describe()
        if isinstance(exc, BitmapistError):
            raise exc
        if isinstance(exc, TimeoutError):  # the deadline (or a socket timeout below it)
            raise timed_out(target, self._timeout) from exc
        failure = storage_failure(exc, target)
        if failure is None:
            raise exc
        raise failure from exc

    def evaluate(
        self, steps: Sequence[BitOpStep], queries: Sequence[Query]
    ) -> list[QueryResult]:
        self._check_open()
        try:
            return Deadline.run(self._timeout, self._storage.evaluate(steps, queries))
        except Exception as exc:
            self._fail(exc)

    def sizes(self, keys: Sequence[str]) -> list[int] | None:
        """The storage's :meth:`~SizedStorage.sizes`, or ``None`` when it has none."""
        self._check_open()
        storage = self._storage
        if not isinstance(storage, SizedStorage):
            return None
        try:
            return Deadline.run(self._timeout, storage.sizes(keys))
        except Exception as exc:
            self._fail(exc)

    def scan(self, pattern: str) -> list[str]:
        self._check_open()
        try:
            return Deadline.run(self._timeout, self._storage.scan(pattern))
        except Exception as exc:
            self._fail(exc)

    def delete(self, keys: Sequence[str]) -> None:
        self._check_open()
        try:
            Deadline.run(self._timeout, self._storage.delete(keys))  # type: ignore[func-returns-value,unused-ignore]
        except Exception as exc:
            self._fail(exc)

    def ping(self) -> None:
        self._check_open()
        try:
            Deadline.run(self._timeout, self._storage.ping())  # type: ignore[func-returns-value,unused-ignore]
        except Exception as exc:
            self._fail(exc)

    def write_bits(self, writes: Sequence[Write]) -> None:
        """For bulk imports (marks go through the write batcher instead)."""
        self._check_open()
        try:
            Deadline.run(self._timeout, self._storage.write_bits(writes))  # type: ignore[func-returns-value,unused-ignore]
        except Exception as exc:
            self._fail(exc)

    def merge_bitmaps(
        self, merges: Sequence[tuple[str, bytes]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        self._check_open()
        try:
            call = self._storage.merge_bitmaps(merges, temp_prefix=temp_prefix, unmark=unmark)  # type: ignore[func-returns-value,unused-ignore]
            Deadline.run(self._timeout, call)  # type: ignore[func-returns-value,unused-ignore]
        except Exception as exc:
            self._fail(exc)

    def merge_bits(
        self, merges: Sequence[tuple[str, Sequence[int]]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        self._check_open()
        try:
            call = self._storage.merge_bits(merges, temp_prefix=temp_prefix, unmark=unmark)  # type: ignore[func-returns-value,unused-ignore]
            Deadline.run(self._timeout, call)  # type: ignore[func-returns-value,unused-ignore]
        except Exception as exc:
            self._fail(exc)


class GuardedSegmentedStorage(GuardedStorage):
    """:class:`GuardedStorage` of a storage whose bitmaps come in pieces (the sharded
    layout): it is an ``SegmentedStorage`` too."""

    __slots__ = ()

    def evaluate_segments(
        self, steps: Sequence[BitOpStep], key: str
    ) -> list[tuple[int, bytes]]:
        self._check_open()
        storage = self._storage
        assert isinstance(storage, SegmentedStorage)
        try:
            return Deadline.run(self._timeout, storage.evaluate_segments(steps, key))
        except Exception as exc:
            self._fail(exc)


def guarded(storage: Storage, timeout: float | None) -> GuardedStorage:
    """The query view of *storage* (segmented when *storage* is)."""
    if isinstance(storage, SegmentedStorage):
        return GuardedSegmentedStorage(storage, timeout)
    return GuardedStorage(storage, timeout)
