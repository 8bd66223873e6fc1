"""Exceptions raised by bitmapist-async."""

from __future__ import annotations

from typing import Any

__all__ = (
    "BitmapistError",
    "ClientClosedError",
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


class ImportAbortedError(BitmapistError, ValueError):
    """An import met more bad rows than ``max_errors`` allows and stopped.

    Chunks written before the row that tipped it over stay written; the rows of the chunk in
    progress are not written. ``summary`` (an ``ImportSummary``) says how far it got and lists
    the first bad rows.
    """

    def __init__(self, message: str, summary: Any) -> None:
        super().__init__(message)
        self.summary = summary
