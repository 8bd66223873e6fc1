"""Exceptions raised by bitmapist-async."""

from __future__ import annotations

__all__ = (
    "BitmapistError",
    "ClientClosedError",
    "EmbeddedStorageError",
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


class EmbeddedStorageError(BitmapistError):
    """The embedded store's file cannot be used: not a bitmapist-async store, written by a newer
    version, unreadable, or locked by another process's write for longer than its ``timeout``.

    The SQLite error, when there is one, is kept as ``__cause__``.
    """
