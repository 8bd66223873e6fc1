"""Private Redis servers for the test session (started by the tests themselves).

``RedisProcess`` starts ``redis-server`` on a free loopback port and waits for its
"Ready to accept connections" line: readiness is observed, never slept on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ("RedisProcess", "free_port", "redis_server_binary")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_server_binary() -> str | None:
    configured = os.environ.get("BITMAPIST_REDIS_SERVER")
    if configured:
        return configured
    return shutil.which("redis-server")


@dataclass
class RedisProcess:
    """One ``redis-server`` child process on 127.0.0.1."""

    binary: str
    port: int = field(default_factory=free_port)
    extra_args: Sequence[str] = ()
    process: subprocess.Popen[str] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bitmapist-redis-")))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", "",
            *self.extra_args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.process.stdout is not None
        seen = []
        for line in self.process.stdout:
            seen.append(line)
            if "Ready to accept connections" in line:
                break
        else:
            raise RuntimeError("redis-server exited before it was ready:\n" + "".join(seen))
        # Keep draining its output so the pipe never fills up.
        self._drain = threading.Thread(target=self.process.stdout.read, daemon=True)
        self._drain.start()
        return self

    def kill(self) -> None:
        """SIGKILL the server and reap it (used by fault tests); :meth:`start` may follow, on
        the same port and data directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_output()

    def _close_output(self) -> None:
        drain = getattr(self, "_drain", None)
        if drain is not None:
            drain.join(timeout=30)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self._close_output()
        shutil.rmtree(self.workdir, ignore_errors=True)
