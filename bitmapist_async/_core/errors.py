"""Exceptions raised by bitmapist-async."""

from __future__ import annotations

from typing import Any

__all__ = (
    "BitmapistError",
    "ClientClosedError",
    "ShardLayoutError",
    "RejectedWritesError",
    "EmbeddedStorageError",
    "EventLoopConflictError",
    "ImportAbortedError",
    "WriteFailedError",
)


class BitmapistError(Exception):
    """Base class of every error this library raises itself.

    Input errors are plain :class:`TypeError` / :class:`ValueError` (they name the bad value), and
    errors from the storage layer that are not about a failed write are passed through unchanged.
    """


class ClientClosedError(BitmapistError, RuntimeError):
    """The client was closed: nothing more can be written through it."""


class WriteFailedError(BitmapistError):
    """A batch of writes could not be stored after every retry.

    The original exception is kept as ``__cause__``. None of the writes in the failed batch was
    acknowledged; some of them may nevertheless have reached storage (SETBIT is idempotent, so
    retrying the same calls is always safe).
    """


class ShardLayoutError(BitmapistError, ValueError):
    """The keys under this prefix were written with another ``shard_bits`` (sharded layout):
    reading or writing them with this client would mix up ids."""


class RejectedWritesError(BitmapistError):
    """Storage refused some writes of a batch and stored the others.

    Raised by :meth:`Storage.write_bits <bitmapist_async.Storage.write_bits>` implementations
    after every reply was read (for example a ``WRONGTYPE`` reply: the key holds something other
    than a string). The client turns it into :class:`WriteFailedError` for the callers whose
    writes were refused only; the others are acknowledged.

    :param rejected: index in the batch of each refused write, with the storage's error.
    """

    def __init__(self, rejected: dict[int, Exception]) -> None:
        first = min(rejected)
        super().__init__(f"{len(rejected)} write(s) refused, first at #{first}: {rejected[first]}")
        self.rejected = rejected


class EmbeddedStorageError(BitmapistError):
    """The embedded store's file cannot be used: not a bitmapist-async store, written by a newer
    version, unreadable, or locked by another process's write for longer than its ``timeout``.

    The SQLite error, when there is one, is kept as ``__cause__``.
    """


class ImportAbortedError(BitmapistError, ValueError):
    """An import met more bad rows than ``max_errors`` allows and stopped.

    Chunks written before the row that tipped it over stay written; the rows of the chunk in
    progress are not written. ``summary`` (an ``ImportSummary``) says how far it got and lists
    the first bad rows.
    """

    def __init__(self, message: str, summary: Any) -> None:
        super().__init__(message)
        self.summary = summary


class EventLoopConflictError(BitmapistError, RuntimeError):
    """A call from one event loop while the client is busy on another (writes pending or a
    query in flight there). An idle client moves to the calling loop by itself; to use one
    from several loops at once, give each loop (or thread) its own client."""
