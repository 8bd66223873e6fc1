"""A TCP server that accepts connections, reads what it is sent, and never answers: a hung
Redis as a client sees it (for deadline tests, sync and async alike)."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

__all__ = ("SilentServer",)


class SilentServer:
    """``with SilentServer() as server:`` listens on a free loopback port until the block ends."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._peers: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=10)
        for peer in self._peers:
            peer.close()

    def _serve(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stopping.is_set():
            try:
                peer, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._peers.append(peer)  # kept open, read by nobody: the client's sends succeed
