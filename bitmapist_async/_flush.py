"""A flush of the write batcher: the writes that travel together, their callers, and what
each caller hears of the outcome (asyncio futures; no I/O here).

:class:`Flush` keeps a group of marks of one event as bare offsets until a call of another
shape spells it out; :class:`Progress` answers a group's callers as the storage reports their
bits stored; :func:`failure_of` builds the exception one caller gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import cast

from ._core.errors import BitmapistError, EventLoopConflictError, WriteFailedError
from ._core.failures import storage_failure
from ._core.options import MarkWrites, Write
from ._wakeups import set_results

__all__ = ("Caller", "Exhausted", "Flush", "Progress", "failure_of", "mask_of")

#: A call that did not join a flush's group: its future and its writes.
Caller = tuple["asyncio.Future[None]", Sequence[Write]]


class Flush:
    """Writes that travel to storage together, and the callers waiting for them.

    While every call is a mark of the same keys with the same value (the common case: many
    users doing one thing now), the flush keeps only their offsets and futures (*group*,
    *value*, *offsets*, *futures*). The first call of any other shape spells the group out into
    *writes* (call order is kept) and *group* becomes ``None``; *group_keys* stays, to tell the
    group's callers how their writes went.
    """

    __slots__ = (
        "callers",
        "done",
        "futures",
        "group",
        "group_keys",
        "mask",
        "offsets",
        "settled",
        "size",
        "task",
        "value",
        "writes",
    )

    def __init__(self) -> None:
        self.group: tuple[str, ...] | None = None  # set while marks of these keys may join
        self.group_keys: tuple[str, ...] = ()
        self.value = 0
        self.offsets: list[int] = []  # of the group's marks, in call order
        # Of the group's marks, likewise; None once answered (see Progress).
        self.futures: list[asyncio.Future[None] | None] = []
        self.settled = 0  # leading futures already answered while the replies came in
        self.writes: list[Write] = []  # once spelled out: every caller's, in call order
        self.callers: list[Caller] = []  # calls that did not join the group
        self.size = 0  # writes, counted as spelled out
        self.mask = 0
        self.done: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None

    def add(self, writes: Sequence[Write], n: int, future: asyncio.Future[None]) -> None:
        """Append one call's *writes* (*n* of them), answered through *future*."""
        first = not self.size
        self.size += n
        if type(writes) is MarkWrites:
            if first:  # the first call starts the group
                self.group = self.group_keys = writes.keys
                self.value = writes.value
            group = self.group
            if group is not None and (
                (group is writes.keys or group == writes.keys) and self.value == writes.value
            ):
                self.offsets.append(writes.offset)
                self.futures.append(future)
                return
        self.spell_out()
        self.writes.extend(writes)
        self.callers.append((future, writes))

    def spell_out(self) -> None:
        """Write the group's marks out as plain writes; no mark joins the group after this."""
        group = self.group
        if group is not None:
            value = self.value
            self.writes = [(key, offset, value) for offset in self.offsets for key in group]
            self.group = None

    def unanswered(self, end: int | None = None) -> list[asyncio.Future[None]]:
        """The futures of the group's calls not answered yet (up to call *end*), in order."""
        return cast("list[asyncio.Future[None]]", self.futures[self.settled : end])

    def group_calls(self) -> Iterator[tuple[asyncio.Future[None], MarkWrites]]:
        """The unanswered group callers and their writes (to tell each how its writes went)."""
        keys, value = self.group_keys, self.value
        offsets = self.offsets[self.settled :]
        for future, offset in zip(self.unanswered(), offsets, strict=True):
            yield future, MarkWrites(keys, offset, value)


class Progress:
    """Answers a group flush's callers as the storage reports its leading offsets stored.

    *stored* counts the offsets (in the order sent) known to be stored, across attempts: a
    retry sends only the offsets after it (:meth:`start_attempt`), so a bit whose caller was told it
    is stored is never written again (a delete made after that answer would be undone).
    """

    __slots__ = ("_batched", "_flush", "_loop", "_where", "base", "stored")

    def __init__(
        self,
        flush: Flush,
        offsets: list[int],
        loop: asyncio.AbstractEventLoop,
        batched: bool,
    ) -> None:
        self._flush = flush
        self._loop = loop
        self._batched = batched
        self.base = 0  # offsets stored before the current attempt
        self.stored = 0
        self._where: list[int] | None = None  # each call's index in *offsets*, if not its own
        if len(offsets) < len(flush.offsets):  # repeated offsets were dropped
            index = {offset: i for i, offset in enumerate(offsets)}
            self._where = [index[offset] for offset in flush.offsets]

    def start_attempt(self) -> int:
        """Begin an attempt; return how many leading offsets it skips (stored already)."""
        self.base = self.stored
        return self.base

    def __call__(self, stored: int) -> None:
        """The first *stored* offsets this attempt sent are stored: answer the calls, in
        order, whose bits are all among those stored so far."""
        stored += self.base
        if stored <= self.stored:
            return
        self.stored = stored
        flush = self._flush
        start = end = flush.settled
        where = self._where
        if where is None:
            end = max(start, min(stored, len(flush.futures)))
        else:
            while end < len(where) and where[end] < stored:
                end += 1
        if end > start:
            set_results(self._loop, flush.unanswered(end), self._batched)
            # The flush lets go of the answered futures now, not when its last reply is in:
            # each then goes as its caller runs, before that caller's next mark is queued (see
            # _wakeups: with thousands of callers, this spares most garbage collections).
            flush.futures[start:end] = repeat(None, end - start)
            flush.settled = end


class Exhausted(Exception):
    """A flush failed at every attempt until the retry deadline (the last error is its cause)."""

    def __init__(self, attempts: int, seconds: float) -> None:
        super().__init__(f"gave up after {attempts} attempt(s) over {seconds:.1f} s")
        self.attempts = attempts
        self.seconds = seconds


def mask_of(writes: Sequence[Write]) -> int:
    mask = 0
    for _, _, value in writes:
        mask |= 2 - value
    return mask


def failure_of(
    writes: Sequence[Write],
    error: BaseException | None,
    rejected: dict[tuple[str, int], Exception],
    target: str = "storage",
) -> BitmapistError | None:
    """The exception one caller gets (a new instance each: tracebacks are per caller):
    :class:`WriteFailedError`, whose ``__cause__`` is the
    :class:`~bitmapist_async.StorageError` a query would get for the same failure (which keeps
    the layer below's exception as its own cause), or :class:`EventLoopConflictError` when the
    storage was busy on another event loop (nothing of the flush was sent)."""
    if isinstance(error, EventLoopConflictError):
        conflict = EventLoopConflictError(*error.args)
        conflict.__cause__ = error.__cause__
        return conflict
    if error is None:
        for key, offset, _ in writes:
            if (key, offset) in rejected:
                cause: BaseException = _typed(rejected[key, offset], target)
                failure = WriteFailedError(f"storage refused the write to {key!r}: {cause}")
                failure.__cause__ = cause
                return failure
        return None
    if isinstance(error, Exhausted):
        cause = _typed(error.__cause__ if error.__cause__ is not None else error, target)
        failure = WriteFailedError(
            f"writes not stored after {error.attempts} attempt(s) over "
            f"{error.seconds:.1f}s: {cause}"
        )
    else:
        cause = _typed(error, target)
        failure = WriteFailedError(f"writes not stored: {cause}")
    failure.__cause__ = cause
    return failure


def _typed(exc: BaseException, target: str) -> BaseException:
    return storage_failure(exc, target) or exc
