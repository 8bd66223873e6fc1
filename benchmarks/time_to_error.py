"""Time to error of each failure mode with the default options (or ``--scale`` of them): what
a caller of the async client sees, and after how long. One private redis-server, one run.

    python -m benchmarks.time_to_error           # defaults: about three minutes
    python -m benchmarks.time_to_error --quick   # timeout 1 s, retry_deadline 3 s

The figures go in ``docs/reliability.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bitmapist_async import DEFAULT_TIMEOUT, Bitmapist, WriteOptions
from tests.servers import free_port
from tests.silent import SilentServer

from ._support import private_redis

Scenario = Callable[[], Awaitable[Any]]


async def _timed(scenario: Scenario) -> tuple[str, float]:
    began = time.monotonic()
    try:
        await scenario()
    except BaseException as exc:  # the point: what the caller gets
        cause = exc.__cause__
        shown = type(exc).__name__ + (f" (cause {type(cause).__name__})" if cause else "")
        return shown, time.monotonic() - began
    return "no error", time.monotonic() - began


async def _run(quick: bool) -> list[tuple[str, str, float]]:
    timeout = 1.0 if quick else DEFAULT_TIMEOUT
    writes = WriteOptions(attempt_timeout=1.0, retry_deadline=3.0) if quick else WriteOptions()
    options: dict[str, Any] = {"timeout": timeout, "write_options": writes}
    rows: list[tuple[str, str, float]] = []
    refused = f"redis://127.0.0.1:{free_port()}/0"

    async def query_refused() -> None:
        async with Bitmapist(refused, **options) as bm:
            await bm.DayEvents("e").count()

    async def mark_refused() -> None:
        async with Bitmapist(refused, **options) as bm:
            await bm.mark_event("e", 1)

    async def bad_name() -> None:
        async with Bitmapist(refused, **options) as bm:
            await bm.mark_event("bad\ud800", 1)

    async def closed() -> None:
        bm = Bitmapist(refused, **options)
        await bm.aclose()
        await bm.mark_event("e", 1)

    for name, scenario in (
        ("query, server refuses connections", query_refused),
        ("mark, server refuses connections", mark_refused),
        ("mark, bad input (lone surrogate)", bad_name),
        ("mark, closed client", closed),
    ):
        shown, seconds = await _timed(scenario)
        rows.append((name, shown, seconds))

    with SilentServer() as silent:

        async def query_silent() -> None:
            async with Bitmapist(silent.url, **options) as bm:
                await bm.DayEvents("e").count()

        async def mark_silent() -> None:
            async with Bitmapist(silent.url, **options) as bm:
                await bm.mark_event("e", 1)

        for name, scenario in (
            ("query, server accepts and never answers", query_silent),
            ("mark, server accepts and never answers", mark_silent),
        ):
            shown, seconds = await _timed(scenario)
            rows.append((name, shown, seconds))

    with private_redis() as server:
        assert server.process is not None
        pid = server.process.pid
        async with Bitmapist(server.url, **options) as bm:
            await bm.mark_event("e", 1)
            os.kill(pid, signal.SIGSTOP)
            try:
                shown, seconds = await _timed(lambda: bm.DayEvents("e").count())
                rows.append(("query, server stopped (SIGSTOP)", shown, seconds))
                shown, seconds = await _timed(lambda: bm.mark_event("e", 2))
                rows.append(("mark, server stopped (SIGSTOP)", shown, seconds))
            finally:
                os.kill(pid, signal.SIGCONT)
            began = time.monotonic()
            answer = await bm.DayEvents("e").count()
            rows.append(
                (f"query after SIGCONT (answer {answer})", "no error", time.monotonic() - began)
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="timeout 1 s, attempt 1 s, retry_deadline 3 s"
    )
    args = parser.parse_args()
    rows = asyncio.run(_run(args.quick))
    print("| failure | the caller gets | after |")
    print("| --- | --- | --- |")
    for name, shown, seconds in rows:
        print(f"| {name} | {shown} | {seconds:.2f} s |")


if __name__ == "__main__":
    main()
