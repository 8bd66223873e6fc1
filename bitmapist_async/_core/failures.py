"""What a failure of the layer below (redis-py, the OS) becomes for the caller (no I/O here).

Queries and marks report the same cause with the same type: a query raises the
:class:`~bitmapist_async.StorageError` this module makes, a mark raises
:class:`~bitmapist_async.WriteFailedError` with it as ``__cause__``.
"""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import BitmapistError, StorageError, StorageTimeoutError, StorageUnavailableError

__all__ = ("log_first_failure", "log_give_up", "storage_failure", "timed_out")

logger = logging.getLogger("bitmapist_async")


def timed_out(target: str, seconds: float | None) -> StorageTimeoutError:
    """The error of a request that *target* left unanswered for *seconds*."""
    return StorageTimeoutError(
        f"{target} did not answer within {seconds:g} s"
        if seconds is not None
        else f"{target} did not answer in time",
        target=target,
        seconds=seconds,
    )


def storage_failure(exc: BaseException, target: str) -> StorageError | None:
    """The library's error for *exc*, raised while talking to *target* (a redacted
    description); ``None`` when *exc* is not a storage failure (the library's own errors, input
    errors, cancellation): those go to the caller unchanged.
    """
    if isinstance(exc, BitmapistError) or not isinstance(exc, Exception):
        return None
    if isinstance(exc, (RedisTimeoutError, TimeoutError)):
        failure: StorageError = timed_out(target, None)
    elif isinstance(exc, (RedisConnectionError, OSError)):
        failure = StorageUnavailableError(f"cannot reach {target}: {exc}", target=target)
    elif isinstance(exc, RedisError):
        failure = StorageError(f"{target} refused the request: {exc}", target=target)
    else:
        return None
    failure.__cause__ = exc
    return failure


def log_first_failure(target: str, retry_deadline: float, exc: BaseException) -> None:
    """The WARNING of a flush's first failed attempt (later ones are retried quietly)."""
    logger.warning(
        "writing to %s failed at attempt 1 (%s); retrying for up to %g s (retry_deadline)",
        target,
        _described(exc),
        retry_deadline,
    )


def log_give_up(target: str, attempts: int, seconds: float, exc: BaseException) -> None:
    """The WARNING of a flush given up: its callers get ``WriteFailedError``."""
    logger.warning(
        "gave up writing to %s after %d attempt(s) over %.1f s (%s); the callers get "
        "WriteFailedError",
        target,
        attempts,
        seconds,
        _described(exc),
    )


def _described(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
