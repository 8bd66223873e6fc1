"""Fixtures of the async-only tests: a private redis-server and a proxy in front of it.

These tests cut, hold and restart servers, so they never use the session's server for that.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from bitmapist_async import Bitmapist
from bitmapist_async._flush import Flush
from bitmapist_async._internals import forced_fallbacks

from ..servers import RedisProcess, redis_server_binary
from .proxy import RedisProxy


def start_private_server(*extra_args: str) -> RedisProcess:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("needs a redis-server binary to start private servers")
    return RedisProcess(binary, extra_args=extra_args).start()


@pytest.fixture
async def bm(redis_url: str) -> AsyncIterator[Bitmapist]:
    """A client of the session's server (whose commands are grammar-checked)."""
    async with Bitmapist(redis_url) as client:
        yield client


@pytest.fixture(scope="module")
def private_server() -> Iterator[RedisProcess]:
    server = start_private_server()
    yield server
    server.stop()


@pytest.fixture
def private_admin(private_server: RedisProcess) -> Iterator[redis.Redis]:
    """A plain connection to the private server, emptied for this test."""
    client = redis.Redis(port=private_server.port, protocol=2)
    keys = list(client.scan_iter(count=1000))
    if keys:
        client.delete(*keys)
    yield client
    client.close()


@pytest.fixture
async def proxy(
    private_server: RedisProcess, private_admin: redis.Redis
) -> AsyncIterator[RedisProxy]:
    proxy = await RedisProxy(private_server.port).start()
    yield proxy
    proxy.release()
    proxy.release_replies()
    await proxy.close()


class Arrivals:
    """Counts producers arriving right before their call. Once :meth:`wait` returns, every
    producer has made its call up to its first suspension: the last producer's step ran on to
    that point before the waiter's step could start. No timing involved."""

    def __init__(self, count: int) -> None:
        self._left = count
        self._all = asyncio.Event()

    def arrive(self) -> None:
        self._left -= 1
        if self._left == 0:
            self._all.set()

    async def wait(self) -> None:
        await self._all.wait()


async def callbacks_run() -> None:
    """Return once every callback already scheduled on the loop has run (they run in order),
    for example the batcher's dispatch of what was just queued."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(done.set_result, None)
    await done


async def flush_on_the_wire(bm: Bitmapist) -> Flush:
    """The flush the batcher has in flight, once it has one (its task may not have run yet)."""
    while not bm._writer.flushes_in_flight:  # noqa: ASYNC110 - the batcher sets no event
        await asyncio.sleep(0)
    (flush,) = bm._writer._in_flight
    return flush


async def held_and_open(bm: Bitmapist, event: str) -> tuple[asyncio.Future[None], ...]:
    """With ``max_in_flight=1`` and the proxy holding: mark uid 1 (its flush goes out and is
    held), then uid 2 (it waits in the open flush). Returns both calls."""
    first = asyncio.ensure_future(bm.mark_event(event, 1))
    await flush_on_the_wire(bm)
    second = asyncio.ensure_future(bm.mark_event(event, 2))
    await callbacks_run()  # the second call has joined the open flush
    assert bm.pending_writes == 6
    return first, second


@pytest.fixture(params=["fast", "fallback"])
def internals(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with the fast paths that read asyncio's and redis-py's internals, and
    again with every one forced off (their public-API fallbacks; see
    ``bitmapist_async._internals``)."""
    if request.param == "fallback":
        # Without the transport internals, a closed loop's sockets close when collected, with
        # the ResourceWarning asyncio gives any transport collected open (docs/batching.md).
        # (pytest restores the filters after the test)
        warnings.simplefilter("ignore", ResourceWarning)
    with forced_fallbacks(request.param == "fallback"):
        yield request.param
