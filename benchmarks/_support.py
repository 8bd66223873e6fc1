"""Shared benchmark plumbing: a private redis-server, bitmapist 3.119, timing and reporting."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.legacy import legacy_python, run_legacy
from tests.servers import (
    BitmapistServerProcess,
    RedisProcess,
    bitmapist_server_binary,
    redis_server_binary,
)

__all__ = (
    "Result",
    "best_of",
    "legacy_python",
    "private_bitmapist_server",
    "private_redis",
    "report",
    "run_legacy",
)


@contextmanager
def private_redis(*extra_args: str) -> Iterator[RedisProcess]:
    """A fresh ``redis-server`` on a free port, stopped afterwards."""
    binary = redis_server_binary()
    if binary is None:
        raise SystemExit("redis-server not found (set BITMAPIST_REDIS_SERVER)")
    server = RedisProcess(binary, extra_args=extra_args).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def private_bitmapist_server() -> Iterator[BitmapistServerProcess | None]:
    """A fresh bitmapist-server (``BITMAPIST_SERVER_PATH``, else ``PATH``), or ``None``."""
    binary = bitmapist_server_binary()
    if binary is None:
        yield None
        return
    server = BitmapistServerProcess(binary).start()
    try:
        yield server
    finally:
        server.stop()


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run *fn* *repeat* times; return the fastest wall time and the last result."""
    times = []
    result: Any = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), result


@dataclass
class Result:
    name: str
    seconds: float
    note: str = ""


def report(title: str, baseline: Result, others: list[Result]) -> str:
    """A markdown table of *others* against *baseline* (higher ratio = faster)."""
    lines = [
        f"### {title}",
        "",
        "| what | seconds | speed-up vs baseline | note |",
        "|---|---|---|---|",
    ]
    for r in [baseline, *others]:
        ratio = baseline.seconds / r.seconds if r.seconds else float("inf")
        lines.append(f"| {r.name} | {r.seconds:.4f} | {ratio:.1f}x | {r.note} |")
    return "\n".join(lines)


def median(values: list[float]) -> float:
    return statistics.median(values)
