"""How writes travel to storage: coalescing, backpressure and retries (no I/O here).

Shared by the async batcher and the sync direct writer, so both retry the same way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from .options import Write

__all__ = ("WriteOptions", "dedupe_writes")


def _positive(name: str, value: object, *, integer: bool) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and not isinstance(value, int))
    ):
        kind = "an int" if integer else "a number"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if not value > 0:  # also rejects NaN
        raise ValueError(f"{name} must be positive, got {value!r}")


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """Tuning of the write path. The defaults suit a web application.

    :param max_pending: writes (one ``SETBIT`` each; a ``mark_event`` makes three to five)
        accepted but not yet stored. A call that would go over it waits until earlier writes are
        stored: backpressure instead of a growing queue. Async client only.
    :param max_in_flight: flushes sent concurrently, each on its own pooled connection. Writes
        that would change a bit in opposite directions never travel in concurrent flushes.
        Async client only.
    :param max_flush: writes per flush; a busier queue is cut into several flushes (up to
        ``max_in_flight`` of them on the wire at once). Async client only.
    :param attempt_timeout: seconds one attempt at sending a flush (writing it and reading its
        replies) may take before it counts as failed and is retried (async client, where the
        connection's ``socket_timeout`` does not apply to flushes; the sync client relies on
        ``socket_timeout``).
    :param retry_deadline: seconds after the first attempt during which a flush that failed
        with a connection error or a timeout is retried. After it, every caller of that flush
        gets :class:`~bitmapist_async.WriteFailedError`.
    :param backoff_initial: first pause between attempts, in seconds; it doubles each time.
    :param backoff_max: longest pause between attempts, in seconds.

    Example::

        bm = Bitmapist(url, write_options=WriteOptions(max_pending=10_000, retry_deadline=5))
    """

    max_pending: int = 100_000
    max_in_flight: int = 4
    max_flush: int = 4_096
    attempt_timeout: float = 10.0
    retry_deadline: float = 30.0
    backoff_initial: float = 0.05
    backoff_max: float = 2.0

    def __post_init__(self) -> None:
        for name in ("max_pending", "max_in_flight", "max_flush"):
            _positive(name, getattr(self, name), integer=True)
        for name in ("attempt_timeout", "retry_deadline", "backoff_initial", "backoff_max"):
            _positive(name, getattr(self, name), integer=False)
        if self.backoff_max < self.backoff_initial:
            raise ValueError(
                f"backoff_max ({self.backoff_max!r}) must not be below backoff_initial "
                f"({self.backoff_initial!r})"
            )

    def backoff(self, attempt: int) -> float:
        """Pause before retry number *attempt* (0-based): exponential, capped, with jitter
        (between half and all of the nominal pause) so that clients do not retry in step."""
        nominal = min(self.backoff_max, self.backoff_initial * 2.0 ** min(attempt, 32))
        return nominal * random.uniform(0.5, 1.0)


def dedupe_writes(writes: Sequence[Write]) -> list[Write]:
    """One write per bit: identical writes once, and for the same bit the last value wins."""
    bits: dict[tuple[str, int], int] = {}
    for key, offset, value in writes:
        bits[key, offset] = value
    return [(key, offset, value) for (key, offset), value in bits.items()]
