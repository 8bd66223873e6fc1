"""Exceptions raised by bitmapist-async."""

from __future__ import annotations

__all__ = (
    "BitmapistError",
    "ClientClosedError",
    "ShardLayoutError",
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
