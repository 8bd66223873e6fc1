"""``bitmapist-async dashboard`` as a child process: started on a free port, ready when uvicorn
logs its address (observed, never slept on), stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ("running_dashboard",)

_READY = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@contextmanager
def running_dashboard(
    redis_url: str | None,
    *extra: str,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Yield the dashboard's base URL (``http://127.0.0.1:PORT``); *redis_url* ``None``: no
    ``--store`` (the demo's store in *cwd*)."""
    url_args = [] if redis_url is None else ["--store", redis_url]
    process = subprocess.Popen(
        [sys.executable, "-m", "bitmapist_async", "dashboard", *url_args,
         "--host", "127.0.0.1", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
    )  # fmt: skip
    assert process.stdout is not None
    seen: list[str] = []
    url = None
    for line in process.stdout:
        seen.append(line)
        match = _READY.search(line)
        if match:
            url = match.group(1)
            break
    if url is None:
        process.wait(timeout=30)
        raise RuntimeError("the dashboard exited before serving:\n" + "".join(seen))
    drain = threading.Thread(target=process.stdout.read, daemon=True)
    drain.start()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        drain.join(timeout=30)
        process.stdout.close()
