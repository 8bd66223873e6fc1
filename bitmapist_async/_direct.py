"""The sync client's writes: each call is one pipelined write, ``batch()`` an explicit buffer.

The sync twin of :mod:`bitmapist_async._batcher` (mapped through ``bitmapist_async._pairs``).
A blocking caller cannot share a flush with other callers, so there is no queue: a call writes
its bits at once, with the same retry policy as the async batcher (``attempt_timeout`` aside:
set ``socket_timeout`` to bound one attempt). ``with bm.batch():`` buffers the block's writes and
sends them as one pipelined write when the block exits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from ._core.batch_scope import BatchBuffer, current_batch
from ._core.errors import ClientClosedError, RejectedWritesError, WriteFailedError
from ._core.failures import log_first_failure, log_give_up, storage_failure
from ._core.options import MarkWrites, Write
from ._core.write_options import WriteOptions

if TYPE_CHECKING:
    from ._sync.storage import Storage

__all__ = ("DirectWriter", "WriteBatch")

logger = logging.getLogger("bitmapist_async")


def _default_is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (OSError, TimeoutError))


class DirectWriter:
    """Writes straight to storage, retrying transient failures until the deadline.

    :param storage: only :meth:`Storage.write_bits` is used, plus its optional
        ``is_transient(exc) -> bool``.
    :param options: the retry policy (the queue caps do not apply).
    """

    def __init__(self, storage: Storage, options: WriteOptions) -> None:
        self._storage = storage
        self._options = options
        is_transient: Callable[[BaseException], bool] | None
        is_transient = getattr(storage, "is_transient", None)
        self._is_transient = is_transient or _default_is_transient
        self._closed = False

    @property
    def pending(self) -> int:
        """Always 0: sync writes are stored before the call returns."""
        return 0

    def batch(self) -> WriteBatch:
        return WriteBatch(self)

    def write(self, writes: Sequence[Write]) -> None:
        """Store *writes*, or buffer them in the open ``batch()`` block.

        :raises ClientClosedError: the client is closed.
        """
        if self._closed:
            raise ClientClosedError("the client is closed")
        buffer = current_batch(self)
        if buffer is not None:
            buffer.add(writes)
            return
        self.submit(writes)

    def write_mark(self, keys: tuple[str, ...], offset: int, value: int) -> None:
        """:meth:`write` for one mark: ``SETBIT key offset value`` for each of *keys*."""
        self.write(MarkWrites(keys, offset, value))

    def submit(self, writes: Sequence[Write]) -> None:
        """Store *writes* now (one pipelined write, retried on connection errors).

        :raises WriteFailedError: storage failed after every retry, or refused a write.
        :raises ClientClosedError: the client is closed.
        """
        if not writes:
            return
        if self._closed:
            raise ClientClosedError("the client is closed")
        options = self._options
        target = self._storage.describe()
        began = time.monotonic()
        attempt = 0
        while True:
            try:
                self._storage.write_bits(writes)
                return
            except RejectedWritesError as exc:
                index = min(exc.rejected)
                cause = storage_failure(exc.rejected[index], target) or exc.rejected[index]
                failure = WriteFailedError(f"storage refused the write to {writes[index][0]!r}")
                raise failure from cause
            except Exception as exc:
                typed = storage_failure(exc, target) or exc
                if not self._is_transient(exc):
                    raise WriteFailedError(f"writes not stored: {typed}") from typed
                delay = options.backoff(attempt)
                attempt += 1
                elapsed = time.monotonic() - began
                if elapsed + delay > options.retry_deadline:
                    log_give_up(target, attempt, elapsed, exc)
                    message = f"writes not stored after {attempt} attempt(s) over {elapsed:.1f}s"
                    raise WriteFailedError(f"{message}: {typed}") from typed
                if attempt == 1:
                    log_first_failure(target, options.retry_deadline, exc)
                time.sleep(delay)

    def flush(self) -> None:
        """Nothing to wait for: sync writes are stored before the call returns."""

    def bind_loop(self) -> None:
        """Nothing to bind: a sync client has no event loop."""

    def close(self) -> None:
        self._closed = True


class WriteBatch:
    """``with bm.batch():``: the block's marks are buffered and sent as one pipelined write
    when it exits (one bit once, the last value winning).

    Leaving the block normally raises :class:`~bitmapist_async.WriteFailedError` if the write
    failed. Leaving it with an exception still sends the writes (a failure is logged) and lets
    the exception through. Marks made inside the block are not visible to queries until it exits.
    """

    __slots__ = ("_buffer", "_writer")

    def __init__(self, writer: DirectWriter) -> None:
        self._writer = writer
        self._buffer = BatchBuffer(writer)

    def __enter__(self) -> WriteBatch:
        self._buffer.enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        writes = self._buffer.exit()
        if exc_type is None:
            self._writer.submit(writes)
            return
        try:
            self._writer.submit(writes)
        except Exception as failure:
            logger.warning("writes of a batch() left by an exception were not stored: %s", failure)
