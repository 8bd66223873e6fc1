"""Which ``batch()`` blocks are open in the current context (no I/O here).

A ``batch()`` block buffers the writes of its client made inside it, in the current task or
thread (a :mod:`contextvars` scope), and hands them to the writer at block exit. Both the async
batcher and the sync direct writer use this.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token

from .options import Write
from .write_options import dedupe_writes

__all__ = ("BatchBuffer", "batches_open", "current_batch")

_ACTIVE: ContextVar[tuple[BatchBuffer, ...]] = ContextVar("bitmapist_async_batches", default=())

#: The open blocks of this context, any client (``()`` when none): a cheap first check.
batches_open = _ACTIVE.get


class BatchBuffer:
    """The writes one ``batch()`` block made for one writer (*owner*)."""

    __slots__ = ("_mask", "_token", "is_open", "owner", "writes")

    def __init__(self, owner: object) -> None:
        self.owner = owner
        self.writes: list[Write] = []
        self._mask = 0  # 1: holds sets, 2: holds clears
        self.is_open = False
        self._token: Token[tuple[BatchBuffer, ...]] | None = None

    def enter(self) -> None:
        if self.is_open or self._token is not None:
            raise RuntimeError("a batch() block cannot be entered twice")
        self.is_open = True
        self._token = _ACTIVE.set((*_ACTIVE.get(), self))

    def add(self, writes: Sequence[Write]) -> None:
        self.writes.extend(writes)
        for _, _, value in writes:
            self._mask |= 2 - value

    def exit(self) -> list[Write]:
        """Close the block; return its writes, one per bit (the last value wins)."""
        self.is_open = False
        token, self._token = self._token, None
        try:
            if token is not None:
                _ACTIVE.reset(token)
        except ValueError:  # left in another context than it was entered in
            _ACTIVE.set(tuple(b for b in _ACTIVE.get() if b is not self))
        writes, self.writes = self.writes, []
        mask, self._mask = self._mask, 0
        if mask == 3:  # a bit may be set and cleared: the last call wins
            return dedupe_writes(writes)
        return list(dict.fromkeys(writes))  # one value throughout: drop repeats


def current_batch(owner: object) -> BatchBuffer | None:
    """The innermost open ``batch()`` block of *owner* in this context, if any."""
    active = _ACTIVE.get()
    if active:
        for buffer in reversed(active):
            if buffer.owner is owner and buffer.is_open:
                return buffer
    return None
