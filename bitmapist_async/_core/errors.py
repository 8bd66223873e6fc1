"""Exceptions raised by bitmapist-async."""

from __future__ import annotations

from typing import Any

__all__ = (
    "BitmapistError",
    "ClientClosedError",
    "ServerCapabilityError",
    "StorageError",
    "StorageTimeoutError",
    "StorageUnavailableError",
    "ShardLayoutError",
    "RejectedWritesError",
    "EmbeddedStorageError",
    "EventLoopConflictError",
    "ImportAbortedError",
    "ImportInputError",
    "ReadOnlyStoreError",
    "WriteFailedError",
)


class BitmapistError(Exception):
    """Base class of every error this library raises itself.

    Input errors are plain :class:`TypeError` / :class:`ValueError` (they name the bad value, and
    are raised before any I/O). Everything storage does wrong reaches the caller as a
    :class:`StorageError`: a query as :class:`StorageUnavailableError`,
    :class:`StorageTimeoutError` or :class:`StorageError`, a mark as :class:`WriteFailedError`
    whose ``__cause__`` is one of those.
    """


class StorageError(BitmapistError):
    """Storage did not answer a request as asked: it refused the command (for example
    ``WRONGTYPE``: the key holds something else), or one of the subclasses below.

    The exception of the layer below (redis-py, SQLite, ...) is kept as ``__cause__``;
    :attr:`target` is the storage's redacted description (no password).
    """

    def __init__(self, message: str, *, target: str = "") -> None:
        super().__init__(message)
        self.target = target


class StorageUnavailableError(StorageError, ConnectionError):
    """Storage could not be reached, or the connection broke before the answer arrived
    (connection refused or reset, DNS failure, TLS or authentication failure)."""


class StorageTimeoutError(StorageError, TimeoutError):
    """Storage did not answer before the deadline (the client's ``timeout`` for a query).

    The connection that was waiting is closed, never reused half-read; the request may or may
    not have been carried out (a query's temporary keys expire on their own).

    :attr:`seconds` is the deadline that expired (``None`` when a socket timeout of the layer
    below expired first).
    """

    def __init__(self, message: str, *, target: str = "", seconds: float | None = None) -> None:
        super().__init__(message, target=target)
        self.seconds = seconds


class ClientClosedError(BitmapistError, RuntimeError):
    """The client was closed: nothing more can be written through it."""


class WriteFailedError(StorageError):
    """A batch of writes could not be stored after every retry.

    The cause is kept as ``__cause__``: a :class:`StorageUnavailableError` or
    :class:`StorageTimeoutError` when storage was unreachable or silent, a :class:`StorageError`
    when it refused the write. None of the writes in the failed batch was
    acknowledged; some of them may nevertheless have reached storage (SETBIT is idempotent, so
    retrying the same calls is always safe).
    """


class ServerCapabilityError(BitmapistError, ValueError):
    """The server lacks a command this configuration needs (bitmapist-server has no ``AUTH``:
    a URL with a password cannot work there)."""


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


class EmbeddedStorageError(StorageError):
    """The embedded store's file cannot be used: not a bitmapist-async store (another
    application's database), written by a newer version, unreadable, damaged (a container that
    does not decode: the message names the key), or locked by another process's write for longer
    than its ``timeout``.

    The SQLite error, when there is one, is kept as ``__cause__``.
    """


class ReadOnlyStoreError(EmbeddedStorageError):
    """A write through an embedded store opened read-only (``file:...?mode=ro``); nothing was
    written."""


class ImportAbortedError(BitmapistError, ValueError):
    """An import met more bad rows than ``max_errors`` allows and stopped.

    Chunks written before the row that tipped it over stay written; the rows of the chunk in
    progress are not written. ``summary`` (an ``ImportSummary``) says how far it got and lists
    the first bad rows.
    """

    def __init__(self, message: str, summary: Any) -> None:
        super().__init__(message)
        self.summary = summary


class ImportInputError(BitmapistError, ValueError):
    """An import's input file could not be read to its end (a truncated or corrupt gzip
    stream, say); the message names the file and the last position read.

    Chunks written before it stay written, the chunk in progress is not written. ``summary``
    (an ``ImportSummary``) says how far it got (``position``: the last row written). The
    underlying error (``EOFError``, ``gzip.BadGzipFile``, ...) is kept as ``__cause__``.
    """

    def __init__(self, message: str, summary: Any) -> None:
        super().__init__(message)
        self.summary = summary


class EventLoopConflictError(BitmapistError, RuntimeError):
    """A call from one event loop while the client is busy on another (writes pending or a
    query in flight there). An idle client moves to the calling loop by itself; to use one
    from several loops at once, give each loop (or thread) its own client."""
