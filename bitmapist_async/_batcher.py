"""The coalescing write batcher behind the async client's marks (asyncio).

Every ``mark_event``/``unmark_event``/``mark_unique``/``unmark_unique`` of an async client goes
through its one :class:`WriteBatcher`:

- A call's writes join the *open* flush and the call waits for that flush's reply. Calls that
  arrive while flushes are being sent accumulate in the open flush and travel together in the
  next one. A flush that reaches ``max_flush`` writes is cut, so a busy queue becomes several
  flushes, up to ``max_in_flight`` of them sent concurrently (each on its own connection).
- Marks of one event in the current period share one keys tuple
  (:meth:`~bitmapist_async._core.options.ClientOptions.mark_keys`): while a flush holds only
  such marks it keeps bare offsets, and storages that offer ``write_marks(keys, offsets,
  value, progress)`` get them in that shape. Such a storage reports the leading marks whose
  replies have arrived while it reads the rest, and their callers are answered at once: the
  first callers run while the server still works on the end of the flush.
- Within a flush a bit is written once, with the value of the last call that touched it.
  Writes that would move a bit in opposite directions never travel in concurrent flushes (a
  flush holding values the in-flight ones do not waits for them), so the last call always wins.
- ``max_pending`` caps the writes accepted and not yet stored; callers beyond it wait, in order.
- When a flush is stored, its callers' tasks are woken from one loop callback
  (:mod:`bitmapist_async._wakeups`) rather than one each.
- A flush runs in its own task: a cancelled caller does not cancel it for the others. A
  connection error or a timeout retries the whole flush (``SETBIT`` is idempotent) with capped,
  jittered backoff until ``retry_deadline``; then every caller of the flush gets
  :class:`~bitmapist_async.WriteFailedError` with the last error as its ``__cause__``.

Timers and tasks live here, outside the code that ``scripts/unasync.py`` turns into the sync
client; the sync side maps :class:`AsyncWriteBatch` to :class:`~bitmapist_async._direct.WriteBatch`
through ``bitmapist_async._pairs``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._core.batch_scope import BatchBuffer, batches_open, current_batch
from ._core.errors import ClientClosedError, RejectedWritesError
from ._core.failures import log_first_failure, log_give_up
from ._core.options import MarkWrites, Write
from ._core.write_options import WriteOptions, dedupe_writes
from ._flush import Exhausted, Flush, Progress, failure_of, mask_of
from ._internals import FAST, probe_loop
from ._loops import conflict
from ._wakeups import batches_wakeups, set_results

if TYPE_CHECKING:
    from ._async.storage import AsyncStorage

__all__ = ("AsyncWriteBatch", "WriteBatcher", "default_is_transient")

logger = logging.getLogger("bitmapist_async")

#: Value masks: a flush holding marks (value 1) has bit 1 set, one holding unmarks bit 2.
_BOTH = 3

_get_running_loop = asyncio.get_running_loop
_get_ident = threading.get_ident
_current_task = asyncio.current_task


#: Every batcher, so that a forked child forgets which loop each saw running (below).
_BATCHERS: weakref.WeakSet[WriteBatcher] = weakref.WeakSet()


def _forget_loops_after_fork() -> None:
    """In a forked child the parent's loops do not run, but a loop that was running keeps the
    thread id it recorded, which the forking thread still has: the hot path must not trust it
    (the next write asks asyncio, which knows the child has no running loop yet)."""
    for batcher in list(_BATCHERS):
        batcher._base_loop = None


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_loops_after_fork)


def default_is_transient(exc: BaseException) -> bool:
    """Whether a failed write is worth retrying, for storages that do not say."""
    return isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError))


class _Ready:
    """An awaitable that is already done (what a mark inside ``batch()`` returns)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


_READY = _Ready()


class WriteBatcher:
    """One async client's write queue (see the module docstring).

    :param storage: where flushes go; only :meth:`AsyncStorage.write_bits` is used, plus its
        optional ``is_transient(exc) -> bool``.
    :param options: caps, timeouts and retry policy.
    """

    def __init__(self, storage: AsyncStorage, options: WriteOptions) -> None:
        self._storage = storage
        self._options = options
        is_transient: Callable[[BaseException], bool] | None
        is_transient = getattr(storage, "is_transient", None)
        self._is_transient = is_transient or default_is_transient
        self._max_pending = options.max_pending
        self._max_flush = options.max_flush
        self._max_in_flight = options.max_in_flight
        self._open = Flush()
        self._ready: deque[Flush] = deque()  # cut, not yet sent (FIFO)
        self._in_flight: set[Flush] = set()
        self._in_flight_mask = 0
        self._pending = 0  # writes accepted (or room reserved) and not yet settled
        self._room: deque[tuple[asyncio.Future[None], int]] = deque()
        self._idle: list[asyncio.Future[None]] = []
        self._scheduled = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._base_loop: asyncio.BaseEventLoop | None = None  # self._loop, if of that kind
        self._batched_wakeups = False  # see _wakeups: decided per loop
        self._idle_task: asyncio.Task[None] | None = None
        _BATCHERS.add(self)

    # -- introspection (no I/O) -------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Writes accepted and not yet stored (or failed)."""
        return self._pending

    @property
    def waiting(self) -> int:
        """Calls waiting for room under ``max_pending``."""
        return sum(1 for fut, _ in self._room if not fut.done())

    @property
    def flushes_in_flight(self) -> int:
        return len(self._in_flight)

    # -- public operations ------------------------------------------------------------------

    def batch(self) -> AsyncWriteBatch:
        return AsyncWriteBatch(self)

    def write(self, writes: Sequence[Write]) -> Awaitable[None]:
        """Queue one call's *writes* (all with the same value); await the result to wait until
        they are stored. Inside a ``batch()`` block they are buffered and the result is done.

        A plain function returning an awaitable, not a coroutine: marks are the hot path.

        :raises ClientClosedError: :meth:`aclose` has started.
        """
        if type(writes) is MarkWrites:
            return self.write_mark(writes.keys, writes.offset, writes.value)
        if self._closed:
            raise ClientClosedError("the client is closed")
        return self._buffer_or_write(writes)

    def write_mark(self, keys: tuple[str, ...], offset: int, value: int) -> Awaitable[None]:
        """:meth:`write` for one mark: ``SETBIT key offset value`` for each of *keys* (already
        validated, as :meth:`ClientOptions.mark_keys` returns them).

        The hot path: a mark of the open flush's group only appends its offset and a future.
        """
        if self._closed:
            raise ClientClosedError("the client is closed")
        flush = self._open
        pending = self._pending
        n = len(keys)
        if (
            flush.group is keys
            and flush.value == value
            and not self._room
            and pending + n <= self._max_pending
            and not batches_open()
        ):
            # Is the bound loop the running one? On Python 3.11 asking costs a getpid() system
            # call; a standard loop records the thread it runs in (None once it stops), and a
            # thread runs one loop at a time: _base_loop is set only where the probe found
            # BaseEventLoop._thread_id (_internals.FAST.loop_thread_id; else asyncio is asked).
            # (A forked child forgets the loop first. A loop nested inside another with
            # nest_asyncio is not told apart from the outer one here; with writes pending the
            # inner one could not write anyway, and its task then fails on a future of the
            # other loop.)
            loop: asyncio.AbstractEventLoop | None = self._base_loop
            if loop is None or loop._thread_id != _get_ident():  # type: ignore[attr-defined]
                loop = self._loop if _get_running_loop() is self._loop else None
            if loop is not None:
                future = loop.create_future()
                flush.offsets.append(offset)
                flush.futures.append(future)
                flush.size += n
                self._pending = pending + n
                if flush.size >= self._max_flush or not self._scheduled:
                    self._queued(flush, loop)
                return future
        return self._buffer_or_write(MarkWrites(keys, offset, value))

    def _buffer_or_write(self, writes: Sequence[Write]) -> Awaitable[None]:
        """Into this context's open ``batch()`` block of this writer if there is one (done at
        once), else into the queue."""
        if batches_open():
            buffer = current_batch(self)
            if buffer is not None:
                buffer.add(writes)
                return _READY
        return self._write(writes)

    def _write(self, writes: Sequence[Write]) -> Awaitable[None]:
        """:meth:`write` for any call that does not join the open flush's group."""
        if type(writes) is MarkWrites:
            n = len(writes.keys)
            mask = 2 - writes.value
        else:
            n = len(writes)
            if not n:
                return _READY
            mask = 2 - writes[0][2]
        pending = self._pending
        if self._room or (pending and pending + n > self._max_pending):
            return self._enqueue_when_room(writes, n, mask)
        return self._enqueue(writes, n, mask, reserved=False)

    async def submit(self, writes: Sequence[Write]) -> None:
        """Queue *writes* (any values) and wait until they are stored.

        :raises WriteFailedError: storage failed after every retry, or refused these writes.
        :raises ClientClosedError: :meth:`aclose` has started.
        """
        n = len(writes)
        if not n:
            return
        if self._closed:
            raise ClientClosedError("the client is closed")
        mask = mask_of(writes)
        if self._room or (self._pending and self._pending + n > self._max_pending):
            await self._enqueue_when_room(writes, n, mask)
        else:
            await self._enqueue(writes, n, mask, reserved=False)

    def submit_detached(self, writes: Sequence[Write]) -> None:
        """Queue *writes* without waiting for room or for the result (failures are logged)."""
        if not writes:
            return
        if self._closed:
            logger.warning("%d write(s) dropped: the client is closed", len(writes))
            return
        future = self._enqueue(writes, len(writes), mask_of(writes), reserved=False)
        future.add_done_callback(_log_detached_failure)

    async def flush(self) -> None:
        """Wait until every write queued so far is settled (stored or failed). Calls still
        waiting for room under ``max_pending`` are not queued yet."""
        flushes = [*self._in_flight, *self._ready]
        if self._open.size:
            flushes.append(self._open)
        if not flushes:
            return
        loop = self._bind()
        for flush in flushes:
            if flush.done is None:
                flush.done = loop.create_future()
        await asyncio.wait([f.done for f in flushes if f.done is not None])

    def bind_loop(self) -> None:
        """Serve the running loop from now on, as the storage does (before :meth:`aclose`).

        :raises EventLoopConflictError: another loop has writes pending, or (storages with
            ``bind_loop()``) a query in flight.
        """
        self._bind()
        bind: Callable[[], None] | None = getattr(self._storage, "bind_loop", None)
        if bind is not None:
            bind()

    async def aclose(self) -> None:
        """Refuse new writes, then wait until every accepted or waiting write is settled."""
        self._closed = True
        while self._pending or self._room:
            waiter = self._bind().create_future()
            self._idle.append(waiter)
            await waiter
        idle = self._idle_task
        if idle is not None and idle.get_loop() is asyncio.get_running_loop():
            await asyncio.wait([idle])

    # -- queueing ---------------------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, which this batcher's futures and tasks belong to from now on.

        :raises EventLoopConflictError: another loop has writes of this batcher pending.
        """
        base = self._base_loop
        if (
            base is not None
            and (self._pending or self._in_flight)
            and base._thread_id == _get_ident()  # type: ignore[attr-defined]
        ):
            return base  # the bound loop runs in this thread (see write_mark); while idle,
            # asyncio is asked, so that a client can move to another loop
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            old = self._loop
            if old is not None and old.is_closed():
                self._abandon(old)
            elif old is not None and (self._pending or self._room or self._in_flight):
                raise conflict("the client (it has writes pending on its loop)")
            self._loop = loop
            probe_loop(loop)
            self._base_loop = None
            if FAST.loop_thread_id and isinstance(loop, asyncio.BaseEventLoop):
                self._base_loop = loop
            self._batched_wakeups = batches_wakeups(loop)
            if self._idle_task is not None and self._idle_task.get_loop() is not loop:
                self._idle_task = None  # (the storage binds its connections itself)
        return loop

    def _abandon(self, old: asyncio.AbstractEventLoop) -> None:
        """Forget what a closed loop left queued: its callers' tasks are gone with it (none
        of these writes was acknowledged), and its futures can no longer be answered."""
        lost = self._pending
        for flush in self._in_flight:
            coroutine = flush.task.get_coro() if flush.task is not None else None
            if inspect.iscoroutine(coroutine) and (
                inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED
            ):
                coroutine.close()  # never started: nothing to unwind (and no warning)
        self._open = Flush()
        self._ready.clear()
        self._in_flight.clear()
        self._in_flight_mask = 0
        self._room.clear()
        self._idle.clear()
        self._pending = 0
        self._scheduled = False  # its dispatch will not run
        if lost:
            logger.warning(
                "%d write(s) queued on a closed event loop were dropped (never acknowledged)",
                lost,
            )

    async def _enqueue_when_room(self, writes: Sequence[Write], n: int, mask: int) -> None:
        await self._wait_for_room(n)
        await self._enqueue(writes, n, mask, reserved=True)

    async def _wait_for_room(self, n: int) -> None:
        waiter = self._bind().create_future()
        self._room.append((waiter, n))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # admitted, then cancelled
                self._pending -= n
            self._admit()
            self._wake_idle()
            raise

    def _admit(self) -> None:
        """Let waiting calls in, in order, while they fit under ``max_pending``."""
        room = self._room
        while room:
            waiter, n = room[0]
            if waiter.done():
                room.popleft()
                continue
            if self._pending and self._pending + n > self._max_pending:
                return
            room.popleft()
            self._pending += n
            waiter.set_result(None)

    def _enqueue(
        self, writes: Sequence[Write], n: int, mask: int, *, reserved: bool
    ) -> asyncio.Future[None]:
        loop = self._loop
        if loop is None or not reserved:
            loop = self._bind()
        future = loop.create_future()
        flush = self._open
        flush.add(writes, n, future)
        flush.mask |= mask
        if not reserved:
            self._pending += n
        self._queued(flush, loop)
        return future

    def _queued(self, flush: Flush, loop: asyncio.AbstractEventLoop) -> None:
        """After a call joined the open *flush*: cut it if full, and make sure a dispatch runs."""
        if flush.size >= self._max_flush:
            self._ready.append(flush)
            self._open = Flush()
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        """Start flushes, oldest first, while slots are free and values do not conflict."""
        self._scheduled = False
        loop = self._loop
        assert loop is not None
        while True:
            if self._ready:
                flush = self._ready[0]
            elif self._open.size:
                flush = self._open
            else:
                return
            if self._in_flight and (
                len(self._in_flight) >= self._max_in_flight
                or (flush.mask | self._in_flight_mask) == _BOTH
            ):
                return  # a settling flush dispatches again
            if flush is self._open:
                self._open = Flush()
            else:
                self._ready.popleft()
            self._in_flight.add(flush)
            self._in_flight_mask |= flush.mask
            flush.task = task = loop.create_task(self._run(flush))
            task.add_done_callback(functools.partial(self._ran, flush))

    def _ran(self, flush: Flush, task: asyncio.Task[None]) -> None:
        """A flush task cancelled before its first step never ran :meth:`_run`: its callers
        are told, so that they and :meth:`aclose` do not wait for it forever."""
        if flush in self._in_flight:
            self._settle(flush, asyncio.CancelledError(), {})

    # -- sending ----------------------------------------------------------------------------

    async def _run(self, flush: Flush) -> None:
        write_marks: Callable[..., Awaitable[None]] | None
        write_marks = getattr(self._storage, "write_marks", None)
        send: Callable[[], Awaitable[None]]
        locate: Callable[[int], tuple[str, int]]  # (key, offset) of the i-th write sent
        if flush.group is not None and write_marks is not None:
            # One group, one value: dropping repeated offsets is all the deduplication needed.
            keys, width = flush.group, len(flush.group)
            offsets = list(dict.fromkeys(flush.offsets))
            assert self._loop is not None  # bound by the call that queued the flush
            progress = Progress(flush, offsets, self._loop, self._batched_wakeups)
            value = flush.value

            async def send() -> None:
                base = progress.start_attempt()
                await write_marks(keys, offsets[base:], value, progress=progress)

            def locate(i: int) -> tuple[str, int]:  # i counts the writes of the last attempt
                return keys[i % width], offsets[progress.base + i // width]

        else:
            flush.spell_out()
            if flush.mask == _BOTH:  # a bit may be set and cleared: the last call wins
                writes = dedupe_writes(flush.writes)
            else:  # one value throughout: dropping repeats is enough
                writes = list(dict.fromkeys(flush.writes))
            send = functools.partial(self._storage.write_bits, writes)

            def locate(i: int) -> tuple[str, int]:
                return writes[i][0], writes[i][1]

        error: BaseException | None = None
        rejected: dict[tuple[str, int], Exception] = {}
        try:
            await self._send(send)
        except RejectedWritesError as exc:
            rejected = {locate(i): e for i, e in exc.rejected.items()}
        except BaseException as exc:  # every caller must hear of it
            error = exc
        self._settle(flush, error, rejected)
        if isinstance(error, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
            raise error
        if not self._in_flight and self._loop is not None:
            # After the callers just answered had their turn: if they wrote nothing more, the
            # batcher is idle.
            self._loop.call_soon(self._check_idle)

    def _check_idle(self) -> None:
        """Nothing queued or on the wire: let the storage give back what it keeps for
        flushes (``RedisStorage`` keeps their connections while the batcher is busy)."""
        if self._closed or self._in_flight or self._ready or self._open.size or self._idle_task:
            return  # (aclose closes the storage, which gives everything back)
        idle: Callable[[], Awaitable[None]] | None = getattr(self._storage, "writes_idle", None)
        if idle is not None and self._loop is not None:
            self._idle_task = self._loop.create_task(self._storage_idle(idle))

    async def _storage_idle(self, idle: Callable[[], Awaitable[None]]) -> None:
        try:
            await idle()
        except Exception as exc:  # the writes are settled; this is housekeeping
            logger.warning("could not release the write connections: %r", exc)
        finally:
            self._idle_task = None

    async def _send(self, send: Callable[[], Awaitable[None]]) -> None:
        """Call *send* until it succeeds, retrying transient failures until the deadline."""
        options = self._options
        loop = self._loop  # the flush's task runs on it
        assert loop is not None
        began = loop.time()
        deadline = began + options.retry_deadline
        attempt = 0
        while True:
            try:
                if sys.version_info >= (3, 11):
                    await _within(loop, options.attempt_timeout, send)
                else:  # pragma: no cover - Python 3.10
                    await asyncio.wait_for(send(), options.attempt_timeout)
                return
            except RejectedWritesError:
                raise
            except Exception as exc:
                if not self._is_transient(exc):
                    raise
                delay = options.backoff(attempt)
                attempt += 1
                if loop.time() + delay > deadline:
                    exhausted = Exhausted(attempt, loop.time() - began)
                    log_give_up(self._storage.describe(), attempt, exhausted.seconds, exc)
                    raise exhausted from exc
                if attempt == 1:
                    log_first_failure(self._storage.describe(), options.retry_deadline, exc)
                await asyncio.sleep(delay)

    def _settle(
        self,
        flush: Flush,
        error: BaseException | None,
        rejected: dict[tuple[str, int], Exception],
    ) -> None:
        if error is None and not rejected:
            futures = flush.unanswered()
            if flush.callers:
                futures = [*futures, *(future for future, _ in flush.callers)]
            assert self._loop is not None
            set_results(self._loop, futures, self._batched_wakeups)
        else:
            unheard = 0
            target = self._storage.describe()
            for future, writes in itertools.chain(flush.group_calls(), flush.callers):
                failure = failure_of(writes, error, rejected, target)
                if future.done():
                    unheard += failure is not None
                elif failure is None:
                    future.set_result(None)
                else:
                    future.set_exception(failure)
            if unheard:
                logger.warning(
                    "%d cancelled call(s) had writes that were not stored: %s",
                    unheard,
                    error if error is not None else next(iter(rejected.values())),
                )
        self._pending -= flush.size
        self._in_flight.discard(flush)
        mask = 0
        for other in self._in_flight:
            mask |= other.mask
        self._in_flight_mask = mask
        if flush.done is not None and not flush.done.done():
            flush.done.set_result(None)
        self._admit()
        self._wake_idle()
        self._dispatch()

    def _wake_idle(self) -> None:
        if self._idle and not self._pending and not self._room:
            idle, self._idle = self._idle, []
            for waiter in idle:
                if not waiter.done():
                    waiter.set_result(None)


if sys.version_info >= (3, 11):  # Task.cancelling() and uncancel()

    async def _within(
        loop: asyncio.AbstractEventLoop, seconds: float, send: Callable[[], Awaitable[None]]
    ) -> None:
        """``async with asyncio.timeout(seconds): await send()`` for the running task (Python
        3.11+), without the two ``getpid()`` system calls ``asyncio.timeout`` makes on 3.11 (it
        asks for the running loop and the current task) and its context-manager object: one
        attempt per flush, hundreds of flushes a second.

        :raises TimeoutError: *send* did not finish in time (it was cancelled).
        """
        task = _current_task(loop)
        assert task is not None
        cancelling = task.cancelling()
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        handle = loop.call_at(loop.time() + seconds, expire)
        try:
            await send()
        except asyncio.CancelledError as exc:
            if expired and task.uncancel() <= cancelling:  # no other cancel request: ours
                raise TimeoutError from exc
            raise
        except BaseException:
            if expired:  # (as asyncio.timeout: the cancel request is taken back all the same)
                task.uncancel()
            raise
        finally:
            handle.cancel()


def _log_detached_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        logger.warning("writes of a batch() left by an exception were not stored: %s", exc)


class AsyncWriteBatch:
    """``async with bm.batch():``: the block's marks return at once and are sent in one flush
    when it exits.

    Leaving the block normally waits for that flush and raises
    :class:`~bitmapist_async.WriteFailedError` if it failed. Leaving it with an exception still
    sends the writes, without waiting (a failure is logged), and lets the exception through.
    Marks made inside the block are not visible to queries until it exits.
    """

    __slots__ = ("_buffer", "_writer")

    def __init__(self, writer: WriteBatcher) -> None:
        self._writer = writer
        self._buffer = BatchBuffer(writer)

    async def __aenter__(self) -> AsyncWriteBatch:
        self._buffer.enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        writes = self._buffer.exit()
        if exc_type is None:
            await self._writer.submit(writes)
        else:
            self._writer.submit_detached(writes)
