"""Settling many futures and waking their tasks from one event-loop callback (asyncio).

``Future.set_result`` hands each done callback to ``loop.call_soon``: on the standard event
loop that is a ``Handle`` object and four Python-level calls per waiting task, plus a turn of
the loop's ready queue to run it. For a flush of a few hundred marks that is most of what
asyncio costs per mark. A flush's futures are awaited by one task each, so the batcher takes
that one callback (the task's wake-up) off each future before setting its result, and runs
them all, in order and each in its own :mod:`contextvars` context, from a single callback.

What callers see does not change: the future is done with its result before its task runs,
the task runs in its own context, a cancelled caller's future is left alone, and a callback
that raises goes to the loop's exception handler like any other. This relies on
``Future._callbacks`` (what asyncio's own ``Future.__repr__`` reads), so it is used only where
:mod:`bitmapist_async._internals` found it and for futures of the exact :class:`asyncio.Future`
type (:func:`batches_wakeups` says whether a loop makes them); anything else is settled with
plain ``set_result`` (``tests/asyncio_only/test_wakeups.py`` and the batcher tests run both).

The wake-ups let go of each future and task wake-up as they go, so each is freed once its
task has run and before the next one runs. A woken caller usually queues its next mark at
once: what it allocates then is balanced by what its last mark frees, and the garbage
collector's count of new objects stays flat. Freed only after the whole batch, a batch of
2,000 callers would leave that count thousands higher each time, and the collections it
triggers (full ones included) took a quarter of the batcher's time with 2,000 producers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from contextvars import Context
from typing import Any

from ._internals import FAST, probe_loop

__all__ = ("batches_wakeups", "set_results")

_Wakeup = tuple[Callable[..., object], Context, "asyncio.Future[None]"]
_Wakeups = list[_Wakeup | None]  # None once run


def batches_wakeups(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether :func:`set_results` may batch the wake-ups of *loop*'s futures: they are of the
    exact :class:`asyncio.Future` type, whose ``_callbacks`` the probe found
    (``bitmapist_async._internals.FAST.future_callbacks``)."""
    probe_loop(loop)
    if not FAST.future_callbacks:
        return False
    probe = loop.create_future()
    try:
        return type(probe) is asyncio.Future
    finally:
        probe.cancel()


def set_results(
    loop: asyncio.AbstractEventLoop,
    futures: Iterable[asyncio.Future[None]],
    batched: bool,
) -> None:
    """Set the result of each future of *futures* that is not done yet (a cancelled caller's
    is) to ``None``.

    With *batched* (see :func:`batches_wakeups`), a future's single done callback is run by
    one ``loop.call_soon`` callback for all of them, instead of one each.
    """
    if not batched:
        for future in futures:
            if not future.done():
                future.set_result(None)
        return
    wakeups: _Wakeups = []
    append = wakeups.append
    for future in futures:
        # A done future has no callbacks left (they were scheduled when it was settled).
        callbacks: list[tuple[Callable[..., object], Context]] | None = future._callbacks
        if not callbacks:
            if not future.done():
                future.set_result(None)
            continue
        if len(callbacks) == 1:
            callback, context = callbacks[0]
            future.remove_done_callback(callback)
            append((callback, context, future))
        future.set_result(None)
    if wakeups:
        loop.call_soon(_wake, loop, wakeups)


def _wake(loop: asyncio.AbstractEventLoop, wakeups: _Wakeups) -> None:
    """Run each wake-up as ``Handle._run`` would run it (a failure does not stop the rest),
    letting go of each before the next runs (see the module docstring)."""
    for i, wakeup in enumerate(wakeups):
        assert wakeup is not None
        callback, context, future = wakeup
        try:
            context.run(callback, future)
        except (SystemExit, KeyboardInterrupt):
            rest = wakeups[i + 1 :]
            if rest:  # the tasks still waiting must not be forgotten
                loop.call_soon(_wake, loop, rest)
            raise
        except BaseException as exc:
            context_info: dict[str, Any] = {
                "message": f"Exception in callback {callback!r}",
                "exception": exc,
                "future": future,
            }
            loop.call_exception_handler(context_info)
        # Freed before the next task runs (the locals are rebound first).
        wakeups[i] = wakeup = None
