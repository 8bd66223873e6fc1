"""Settling a flush's futures and waking their tasks from one loop callback (_wakeups)."""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from datetime import datetime, timezone
from typing import Any

import pytest

from bitmapist_async import Bitmapist
from bitmapist_async._flush import Flush as _Flush
from bitmapist_async._flush import Progress as _Progress
from bitmapist_async._wakeups import _wake, batches_wakeups, set_results

from ..servers import RedisProcess

NOW = datetime(2026, 11, 28, 13, 45, tzinfo=timezone.utc)
WHO: contextvars.ContextVar[int] = contextvars.ContextVar("who", default=-1)


async def _waiting(count: int) -> tuple[list[asyncio.Future[None]], list[asyncio.Task[int]]]:
    """*count* tasks, each in its own context, awaiting a future of its own."""
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(count)]
    woken: list[int] = []

    async def waiter(i: int) -> int:
        WHO.set(i)
        await futures[i]
        assert futures[i].done()  # done with its result before the task runs
        woken.append(i)
        return WHO.get()

    tasks = [asyncio.create_task(waiter(i)) for i in range(count)]
    while not all(f._callbacks for f in futures):  # noqa: ASYNC110 - only the loop's turns
        await asyncio.sleep(0)  # every task is suspended on its future
    tasks[0].woken = woken  # type: ignore[attr-defined]
    return futures, tasks


async def test_the_standard_loop_batches() -> None:
    assert batches_wakeups(asyncio.get_running_loop())


@pytest.mark.parametrize("batched", [True, False])
async def test_every_task_wakes_in_order_and_in_its_own_context(batched: bool) -> None:
    futures, tasks = await _waiting(50)
    loop = asyncio.get_running_loop()
    set_results(loop, futures, batched)
    assert all(f.done() and f.result() is None for f in futures)
    assert await asyncio.wait_for(asyncio.gather(*tasks), 10) == list(range(50))
    assert tasks[0].woken == list(range(50))  # type: ignore[attr-defined]


async def test_batched_wakeups_take_one_loop_callback() -> None:
    futures, tasks = await _waiting(20)
    loop: Any = asyncio.get_running_loop()
    before = len(loop._ready)  # the standard loop's ready queue
    set_results(loop, futures, True)
    assert len(loop._ready) == before + 1
    await asyncio.gather(*tasks)


async def test_a_cancelled_future_is_left_alone() -> None:
    futures, tasks = await _waiting(3)
    tasks[1].cancel()
    await asyncio.sleep(0)
    assert futures[1].cancelled()
    set_results(asyncio.get_running_loop(), futures, True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 0
    assert results[2] == 2
    assert isinstance(results[1], asyncio.CancelledError)


async def test_a_future_with_more_callbacks_is_settled_the_plain_way() -> None:
    futures, tasks = await _waiting(2)
    seen: list[asyncio.Future[None]] = []
    futures[1].add_done_callback(seen.append)
    set_results(asyncio.get_running_loop(), futures, True)
    assert await asyncio.gather(*tasks) == [0, 1]
    assert seen == [futures[1]]


async def test_a_failing_callback_goes_to_the_exception_handler_and_the_rest_run() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        futures = [loop.create_future() for _ in range(3)]
        ran: list[int] = []

        def callback(i: int) -> Any:
            def run(_future: asyncio.Future[None]) -> None:
                ran.append(i)
                if i == 1:
                    raise ValueError("boom")

            return run

        for i, future in enumerate(futures):
            future.add_done_callback(callback(i))
        set_results(loop, futures, True)
        await asyncio.sleep(0)
        assert ran == [0, 1, 2]
        assert [type(e["exception"]) for e in errors] == [ValueError]
    finally:
        loop.set_exception_handler(None)


def test_keyboard_interrupt_in_a_wakeup_leaves_the_rest_scheduled() -> None:
    loop = asyncio.new_event_loop()
    try:
        ran: list[int] = []

        def run(i: int) -> Any:
            def wake(_future: object) -> None:
                ran.append(i)
                if i == 0:
                    raise KeyboardInterrupt

            return wake

        futures = [loop.create_future() for _ in range(3)]
        wakeups: list[Any] = [
            (run(i), contextvars.copy_context(), f) for i, f in enumerate(futures)
        ]
        loop.call_soon(_wake, loop, wakeups)
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.sleep(0.01))
        loop.run_until_complete(asyncio.sleep(0))
        assert ran == [0, 1, 2]
    finally:
        loop.close()


class _OtherFuture(asyncio.Future[Any]):
    """What a third-party loop's ``create_future`` might return."""


class _OtherLoop(asyncio.SelectorEventLoop):
    def create_future(self) -> asyncio.Future[Any]:
        return _OtherFuture(loop=self)


def test_a_loop_of_other_futures_is_not_batched_and_its_marks_work(
    private_server: RedisProcess,
) -> None:
    async def main() -> list[int]:
        assert not batches_wakeups(asyncio.get_running_loop())
        async with Bitmapist(private_server.url) as bm:
            await asyncio.gather(*(bm.mark_unique("other_loop", uid) for uid in range(100)))
            return await bm.UniqueEvents("other_loop").ids()

    loop = _OtherLoop()
    try:
        assert loop.run_until_complete(main()) == list(range(100))
    finally:
        loop.close()


async def test_marking_tasks_resume_in_their_own_context(private_server: RedisProcess) -> None:
    async def producer(bm: Bitmapist, i: int) -> None:
        WHO.set(i)
        for round_ in range(5):
            await bm.mark_event("ctx", i * 10 + round_, NOW)
            assert WHO.get() == i

    async with Bitmapist(private_server.url) as bm:
        await asyncio.wait_for(asyncio.gather(*(producer(bm, i) for i in range(500))), 30)
        assert await bm.MonthEvents("ctx", 2026, 11).count() == 2_500


@pytest.mark.parametrize("batched", [True, False])
async def test_progress_answers_calls_in_order_once_their_bits_are_stored(batched: bool) -> None:
    loop = asyncio.get_running_loop()
    flush = _Flush()
    flush.offsets = [5, 7, 5, 9]  # the third call repeats the first one's bit
    futures = [loop.create_future() for _ in flush.offsets]
    flush.futures = list(futures)
    progress = _Progress(flush, [5, 7, 9], loop, batched)
    answered = []
    for stored in (0, 1, 1, 2, 3):
        progress(stored)
        answered.append(sum(f.done() for f in futures))
    assert answered == [0, 1, 1, 3, 4]
    assert flush.settled == 4
    assert flush.futures == [None] * 4  # answered: the flush lets go of them


async def test_progress_without_repeats_answers_a_prefix() -> None:
    loop = asyncio.get_running_loop()
    flush = _Flush()
    flush.offsets = [1, 2, 3]
    futures = [loop.create_future() for _ in flush.offsets]
    flush.futures = list(futures)
    futures[1].cancel()  # a cancelled caller is skipped, not answered
    progress = _Progress(flush, [1, 2, 3], loop, True)
    progress(2)
    assert futures[0].done()
    assert not futures[2].done()
    assert flush.settled == 2
    assert flush.futures == [None, None, futures[2]]
    progress(3)
    assert futures[2].result() is None


async def test_answered_futures_go_before_the_next_caller_runs() -> None:
    """Each answered future is freed before the next answered caller runs (the flush and the
    batch of wake-ups let go of it): a caller's next mark then takes the place its last one
    gave back, and thousands of waiting callers do not drive the garbage collector."""
    loop = asyncio.get_running_loop()
    flush = _Flush()
    flush.offsets = [1, 2, 3, 4]
    flush.futures = [loop.create_future() for _ in flush.offsets]
    refs = [weakref.ref(future) for future in flush.futures if future is not None]
    seen: list[list[bool]] = []

    async def caller(i: int, future: asyncio.Future[None]) -> None:
        await future
        del future
        seen.append([ref() is None for ref in refs[:i]])

    tasks = [
        asyncio.ensure_future(caller(i, future))
        for i, future in enumerate(flush.futures)
        if future is not None
    ]
    await asyncio.sleep(0)  # every caller waits on its future
    _Progress(flush, [1, 2, 3, 4], loop, True)(3)
    await asyncio.wait(tasks[:3])
    assert seen == [[], [True], [True, True]]
    assert refs[3]() is not None  # not answered yet
    flush.futures[3].set_result(None)  # type: ignore[union-attr]
    await asyncio.wait(tasks)


async def test_pure_python_futures_batch_too() -> None:
    """Without the C accelerator ``asyncio.Future`` is the pure-Python class, whose done
    futures keep an empty callback list."""
    loop = asyncio.get_running_loop()
    py_future: Any = asyncio.futures._PyFuture  # type: ignore[attr-defined]
    futures = [py_future(loop=loop) for _ in range(3)]

    async def waiter(i: int) -> int:
        await futures[i]
        return i

    tasks = [asyncio.create_task(waiter(i)) for i in range(3)]
    while not all(f._callbacks for f in futures):  # noqa: ASYNC110 - only the loop's turns
        await asyncio.sleep(0)
    futures[1].cancel()
    set_results(loop, futures, True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 0
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[2] == 2
