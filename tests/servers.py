"""Private servers for the test session (started by the tests themselves).

``RedisProcess`` starts ``redis-server`` on a free loopback port and waits for its
"Ready to accept connections" line; ``BitmapistServerProcess`` starts Doist's bitmapist-server
with a fresh database file and waits for its "loaded in" line, then for its port to accept a
connection. Readiness is observed, never slept on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = (
    "BitmapistServerProcess",
    "RedisProcess",
    "bitmapist_server_binary",
    "free_port",
    "redis_server_binary",
)


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


#: ``BITMAPIST_SERVER_PATH`` resolved when the session starts (a test may change directory).
_CONFIGURED_SERVER = (
    Path(os.environ["BITMAPIST_SERVER_PATH"]).resolve()
    if os.environ.get("BITMAPIST_SERVER_PATH")
    else None
)


def bitmapist_server_binary() -> str | None:
    """``BITMAPIST_SERVER_PATH`` (relative to the directory the session started in), else
    ``bitmapist-server`` on ``PATH``; ``None`` when neither exists."""
    if _CONFIGURED_SERVER is not None:
        return str(_CONFIGURED_SERVER) if _CONFIGURED_SERVER.is_file() else None
    return shutil.which("bitmapist-server")


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


@dataclass
class BitmapistServerProcess:
    """One ``bitmapist-server`` child process on 127.0.0.1, with its own database file."""

    binary: str
    port: int = field(default_factory=free_port)
    debug: bool = False
    process: subprocess.Popen[str] | None = None
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="bitmapist-server-"))
    )
    output: list[str] = field(default_factory=list)
    _seen: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> BitmapistServerProcess:
        args = [
            self.binary,
            "-addr",
            f"127.0.0.1:{self.port}",
            "-db",
            str(self.workdir / "bitmapist.db"),
        ]
        if self.debug:
            args.append("-debug")
        # -debug logs keys and values as they are: bytes that are not UTF-8 stay readable.
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="backslashreplace",
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "loaded in" in line:
                break
        else:
            raise RuntimeError("bitmapist-server exited before it loaded:\n" + "".join(self.output))
        self._drain = threading.Thread(target=self._read_output, daemon=True)
        self._drain.start()
        # It listens right after loading: the first connection attempts may still be refused.
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=timeout).close()
                return self
            except ConnectionRefusedError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "bitmapist-server never listened:\n" + "".join(self.output)
                    ) from None

    def _read_output(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._seen:
                self.output.append(line)
                self._seen.notify_all()

    def wait_for_output(self, text: str, timeout: float = 30.0) -> list[str]:
        """Block until a line holding *text* was logged; return every line so far."""
        with self._seen:
            if not self._seen.wait_for(lambda: any(text in line for line in self.output), timeout):
                raise TimeoutError(f"bitmapist-server never logged {text!r}")
            return list(self.output)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        drain = getattr(self, "_drain", None)
        if drain is not None:
            drain.join(timeout=30)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
