"""A TCP proxy between a client and a Redis server, for fault and flush-observation tests.

It sees the wire: the commands each connection sends, grouped into *turns* (commands sent while
none of that connection's earlier commands was waiting for its reply: one pipelined flush is one
turn), and the replies. It can hold traffic (to freeze a flush in flight), cut every connection
(optionally in the middle of a flush: part of it reaches the server, no reply reaches the
client), and refuse new connections.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import hiredis

__all__ = ("RedisProxy", "Turn")


@dataclass
class Turn:
    """Commands one connection sent in one go (before any of their replies came back)."""

    connection: int
    commands: list[list[bytes]] = field(default_factory=list)

    def setbits(self) -> list[tuple[str, int, int]]:
        return [
            (c[1].decode(), int(c[2]), int(c[3]))
            for c in self.commands
            if c[0].upper() == b"SETBIT"
        ]


@dataclass(eq=False)
class _Link:
    number: int
    client_reader: asyncio.StreamReader
    client_writer: asyncio.StreamWriter
    server_reader: asyncio.StreamReader
    server_writer: asyncio.StreamWriter
    outstanding: int = 0
    turn: Turn | None = None

    def abort(self) -> None:
        for writer in (self.client_writer, self.server_writer):
            writer.transport.abort()


class RedisProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<upstream_port>."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.turns: list[Turn] = []
        self.refuse = False
        self.cuts = 0
        self.commands_seen = 0
        self.held = asyncio.Event()  # data arrived while traffic was held
        self._gate = asyncio.Event()
        self._gate.set()
        self._cut_at: int | None = None
        self.replies_held = asyncio.Event()  # replies arrived past the allowance
        self._reply_allowance: int | None = None
        self._replies_gate = asyncio.Event()
        self._replies_gate.set()
        self._links: set[_Link] = set()
        self._numbers = itertools.count()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.cut_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._tasks:
            await asyncio.wait(self._tasks)

    # -- controls ---------------------------------------------------------------------------

    def hold(self) -> None:
        """Stop forwarding what clients send (it is kept, in order) until :meth:`release`."""
        self.held.clear()
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    @contextmanager
    def holding(self) -> Iterator[None]:
        """:meth:`hold` for the block, released even when the block fails (so that clients
        closed after it can drain)."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def hold_replies_after(self, nbytes: int) -> None:
        """Forward only the next *nbytes* bytes the server sends; keep the rest, in order,
        until :meth:`release_replies`."""
        self._reply_allowance = nbytes
        self.replies_held.clear()
        self._replies_gate.clear()

    def release_replies(self) -> None:
        self._reply_allowance = None
        self._replies_gate.set()

    def cut_all(self) -> None:
        """Drop every connection at once, both sides."""
        for link in list(self._links):
            link.abort()
        self._links.clear()

    def cut_after(self, commands: int) -> None:
        """Once *commands* more commands arrived, forward half of the chunk holding the last
        of them, then cut every connection: a flush dies half sent."""
        self._cut_at = self.commands_seen + commands

    def setbit_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.setbits()]

    # -- plumbing ---------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.transport.abort()
            return
        try:
            server = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(next(self._numbers), reader, writer, *server)
        self._links.add(link)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up = asyncio.ensure_future(self._client_to_server(link))
            down = asyncio.ensure_future(self._server_to_client(link))
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            link.abort()
            await asyncio.wait({up, down})
            for pump in (up, down):
                if not pump.cancelled():
                    pump.exception()  # connection errors after a cut are expected
        finally:
            self._links.discard(link)
            self._tasks.discard(task)

    async def _client_to_server(self, link: _Link) -> None:
        parser = hiredis.Reader()
        while data := await link.client_reader.read(65536):
            if not self._gate.is_set():
                self.held.set()
                await self._gate.wait()
            parser.feed(data)
            commands = []
            while (command := parser.gets()) is not False:
                commands.append(command)
            if link.turn is None or link.outstanding == 0:
                link.turn = Turn(link.number)
                self.turns.append(link.turn)
            link.turn.commands.extend(commands)
            link.outstanding += len(commands)
            self.commands_seen += len(commands)
            if self._cut_at is not None and self.commands_seen >= self._cut_at:
                self._cut_at = None
                link.server_writer.write(data[: len(data) // 2])
                await link.server_writer.drain()
                self.cuts += 1
                self.cut_all()
                return
            link.server_writer.write(data)
            await link.server_writer.drain()

    async def _server_to_client(self, link: _Link) -> None:
        parser = hiredis.Reader()
        while data := await link.server_reader.read(65536):
            parser.feed(data)
            while parser.gets() is not False:
                link.outstanding -= 1
            allowance = self._reply_allowance
            if allowance is not None:
                head, data = data[:allowance], data[allowance:]
                self._reply_allowance = allowance - len(head)
                if head:
                    link.client_writer.write(head)
                    await link.client_writer.drain()
                if data:
                    self.replies_held.set()
                    await self._replies_gate.wait()
            if data:
                link.client_writer.write(data)
                await link.client_writer.drain()
