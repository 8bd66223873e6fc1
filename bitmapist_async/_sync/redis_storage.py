# This file is generated from bitmapist_async/_async/redis_storage.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Storage on a Redis server (or any server speaking bitmapist-server's subset of Redis).

Only these commands are sent: SETBIT, GETBIT, BITCOUNT (key only), BITOP, EXISTS (one key), DEL,
GET, SET, SCAN (``cursor MATCH pattern COUNT n``; see ``keyscan.py`` for bitmapist-server), INFO
keys, EXPIRE, PING. Connections speak RESP2 and skip
``CLIENT SETINFO``, which bitmapist-server does not know.

Writes and evaluations take a fast path: redis-py's pipeline object costs several microseconds
per command, which would dominate a batch of marks or a cohort table's hundreds of ``BITOP``s,
so :meth:`RedisStorage.write_bits` and :meth:`RedisStorage.evaluate` pack the commands
themselves, send them in one write on a pooled connection and read the replies straight from
that connection's hiredis reader. Where redis-py's internals are not as expected (no
hiredis, RESP3, a single-connection client) it falls back to redis-py's public calls.
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Callable, Sequence
from typing import Any

import redis as redis_api
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .._core.decode import decode_id_array
from .._core.errors import RejectedWritesError
from .._core.options import Write
from .._core.plan import BitOpStep, Query
from .._core.url import check_redis_url, redact_url
from .._internals import FAST
from .._pairs import IntReplies, KeptConnections, PackedSender
from .keyscan import KeyScanner
from .server_errors import no_auth_aware
from .storage import QueryResult

__all__ = ("RedisStorage", "redis_connect_kwargs")

_DELETE_BATCH = 1000
_HEADER_CACHE_SIZE = 4096
#: :func:`_offset_part` as a format, by the number of characters of the offset (ids: up to 10).
_OFFSET_PARTS = tuple(b"$%d\r\n%%d\r\n$1\r\n" % digits for digits in range(11))

try:
    import hiredis

    _HIREDIS_READER: Any = hiredis.Reader
except ImportError:  # pragma: no cover - hiredis is a dependency
    _HIREDIS_READER = None
try:
    from redis._parsers.hiredis import NOT_ENOUGH_DATA as _NOT_ENOUGH_DATA
except ImportError:  # pragma: no cover - older redis-py: hiredis's default
    _NOT_ENOUGH_DATA = False


def redis_connect_kwargs() -> dict[str, Any]:
    """Connection options that keep the handshake inside bitmapist-server's grammar."""
    try:
        from redis.driver_info import DriverInfo
    except ImportError:  # pragma: no cover - redis-py < 7
        return {"protocol": 2, "lib_name": None, "lib_version": None}
    return {"protocol": 2, "driver_info": DriverInfo(name=None, lib_version=None)}


def _offset_part(offset: int) -> bytes:
    """What follows a ``SETBIT``'s key: its offset, then the length of its value."""
    digits = b"%d" % offset
    return b"$%d\r\n%b\r\n$1\r\n" % (len(digits), digits)


class RedisStorage:
    """:class:`~bitmapist_async._sync.storage.Storage` on ``redis``.

    :param target: a ``redis://``/``rediss://``/``unix://`` URL, or a client instance (which the
        caller keeps ownership of: :meth:`close` does not close it).
    :param bitop_ttl: seconds every temporary bit-operation key lives.
    :param use_numpy: how ``ids`` queries decode ``GET`` bytes (``None``: numpy when installed).
    :param pool_options: passed to ``Redis.from_url`` (``max_connections``, ``socket_timeout``,
        ``ssl_ca_certs``, ``username``, ...).
    """

    def __init__(
        self,
        target: str | redis_api.Redis,
        *,
        bitop_ttl: int,
        use_numpy: bool | None = None,
        **pool_options: Any,
    ) -> None:
        if isinstance(target, str):
            url = check_redis_url(target)
            options = {**redis_connect_kwargs(), **pool_options}
            self._client: redis_api.Redis = redis_api.Redis.from_url(url, **options)
            self._owns_client = True
            self._description = redact_url(url)
            pool = self._client.connection_pool
            pool.connection_class = no_auth_aware(pool.connection_class, self._description)
        elif isinstance(target, redis_api.Redis):
            if pool_options:
                raise TypeError(
                    "pool options cannot be combined with a client instance: "
                    + ", ".join(sorted(pool_options))
                )
            kwargs = target.connection_pool.connection_kwargs
            if kwargs.get("decode_responses"):
                raise ValueError("the Redis client must use decode_responses=False")
            self._client = target
            self._owns_client = False
            self._description = f"{type(target).__name__} instance"
        else:
            raise TypeError(
                f"expected a Redis URL or a {redis_api.Redis.__module__}.Redis instance, "
                f"got {type(target).__name__}"
            )
        self._ttl = bitop_ttl
        pool = self._client.connection_pool
        self._encoding = str(pool.connection_kwargs.get("encoding", "utf-8"))
        self._encoding_errors = str(pool.connection_kwargs.get("encoding_errors", "strict"))
        self._get_connection_args = _get_connection_args(pool)
        self._setbit_headers: dict[str, bytes] = {}
        self._kept = KeptConnections(pool)  # between flushes; and the pool's event loop
        self._fast_writes = not (
            getattr(self._client, "single_connection_client", False)
            or getattr(self._client, "_single_connection_client", False)
        )
        self._use_numpy = use_numpy
        self._scanner = KeyScanner()

    @property
    def client(self) -> redis_api.Redis:
        """The underlying redis-py client."""
        return self._client

    def describe(self) -> str:
        return self._description

    def is_transient(self, exc: BaseException) -> bool:
        """Whether a failed write may succeed if retried: connection errors and timeouts
        (including a server still loading its data), not bad credentials."""
        if isinstance(exc, AuthenticationError):
            return False
        return isinstance(exc, (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError))

    def write_bits(self, writes: Sequence[Write]) -> None:
        """Send every ``SETBIT`` in one write and read every reply.

        :raises RejectedWritesError: the server refused some writes (the others are stored).
        """
        if not writes:
            return
        try:
            if not self._fast_writes:
                self._write_bits_pipeline(writes)
                return
            data = self._pack_setbits(writes)
        except UnicodeError:
            self._write_encodable(writes)
            return
        self._send_setbits(data, len(writes))

    def _write_encodable(self, writes: Sequence[Write]) -> None:
        """Some key of *writes* cannot be encoded (the client's ``encoding`` lacks one of its
        characters): refuse those writes and store the others, so that one caller's key never
        fails another caller's write.

        :raises RejectedWritesError: always (the unencodable writes, and any the server refused).
        """
        refused: dict[int, Exception] = {}
        kept: list[int] = []
        for index, (key, _, _) in enumerate(writes):
            try:
                key.encode(self._encoding, self._encoding_errors)
            except UnicodeError as exc:
                refused[index] = exc
            else:
                kept.append(index)
        try:
            self.write_bits([writes[i] for i in kept])
        except RejectedWritesError as exc:
            refused.update({kept[i]: e for i, e in exc.rejected.items()})
        raise RejectedWritesError(refused)

    def write_marks(
        self,
        keys: Sequence[str],
        offsets: Sequence[int],
        value: int,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """``SETBIT key offset value`` for each offset and, within it, each of *keys*, in one
        write (what the batcher sends for many marks of one event and period).

        :param progress: called with how many leading offsets are stored (every key's reply
            arrived), each time that number grows, while the replies are plain bits: the
            batcher answers those marks' callers before the last reply is in.
        :raises RejectedWritesError: the server refused some writes (indices count offsets
            first, then keys: write ``i`` is ``keys[i % len(keys)]``, ``offsets[i // len(keys)]``).
        """
        if not offsets:
            return
        if not self._fast_writes:
            writes = [(key, offset, value) for offset in offsets for key in keys]
            self._write_bits_pipeline(writes)
            return
        try:
            data = self._pack_marks(keys, offsets, value)
        except UnicodeError:
            self._write_encodable([(k, offset, value) for offset in offsets for k in keys])
            return
        self._send_setbits(data, len(keys) * len(offsets), progress, len(keys))

    def _send_setbits(
        self,
        data: bytes,
        count: int,
        progress: Callable[[int], None] | None = None,
        width: int = 1,
    ) -> None:
        """Send *count* packed ``SETBIT``s on a pooled connection and read their replies (as
        they arrive while they are all ``:0``/``:1``, telling *progress* of each *width*).

        :raises RejectedWritesError: the server refused some writes (the others are stored).
        """
        pool: Any = self._client.connection_pool
        connection = self._kept.take(pool, self._get_connection_args)
        try:
            PackedSender.send(connection, data)
            parser = getattr(connection, "_parser", None)
            try:
                done = IntReplies.read(parser, count, progress, width)
            except OSError as exc:  # as redis-py's own reads report it
                raise RedisConnectionError(f"Error while reading replies: {exc}") from exc
            rejected: dict[int, Exception] = {}
            if done < count:
                rest = self._read_replies(connection, count - done)
                rejected = {done + i: e for i, e in rest.items()}
        except BaseException:
            self._kept.discard(pool, connection)
            raise
        self._kept.give_back(pool, connection)
        if rejected:
            raise RejectedWritesError(rejected)

    def _pack_marks(self, keys: Sequence[str], offsets: Sequence[int], value: int) -> bytes:
        """RESP for :meth:`write_marks`: per offset, one ``bytes.join`` of cached pieces."""
        headers = self._setbit_headers
        ending = b"1\r\n" if value else b"0\r\n"
        pieces = []
        for i, key in enumerate(keys):
            header = headers.get(key)
            if header is None:
                header = self._setbit_header(key)
            pieces.append(ending + header if i else header)
        pieces.append(ending)
        # Each command is header + "$<len>\r\n<offset>\r\n$1\r\n" + value: the offset part
        # is the separator joining [header1, value+header2, ..., value].
        join = bytes.join
        parts = _OFFSET_PARTS
        try:
            return b"".join([join(parts[len(str(offset))] % offset, pieces) for offset in offsets])
        except IndexError:  # an offset of more digits than ids have: Redis will say what is wrong
            return b"".join([join(_offset_part(offset), pieces) for offset in offsets])

    def _pack_setbits(self, writes: Sequence[Write]) -> bytes:
        """RESP for ``SETBIT key offset value`` per write (the key part is cached, and the
        offset part is formatted once for consecutive writes of one mark)."""
        headers = self._setbit_headers
        parts: list[bytes] = []
        append = parts.append
        last = -1
        tail = b""
        for key, offset, value in writes:
            header = headers.get(key)
            if header is None:
                header = self._setbit_header(key)
            if offset != last:
                tail = _offset_part(offset)
                last = offset
            append(header)
            append(tail)
            append(b"1\r\n" if value else b"0\r\n")
        return b"".join(parts)

    def _setbit_header(self, key: str) -> bytes:
        headers = self._setbit_headers
        if len(headers) >= _HEADER_CACHE_SIZE:
            headers.clear()
        raw = key.encode(self._encoding, self._encoding_errors)
        header = headers[key] = b"*4\r\n$6\r\nSETBIT\r\n$%d\r\n%b\r\n" % (len(raw), raw)
        return header

    def _read_replies(self, connection: Any, count: int) -> dict[int, Exception]:
        """Read *count* replies; return the refused ones by index (errors that concern the
        connection are raised after every reply was read)."""
        replies = self._read_all(connection, count)
        rejected = {i: r for i, r in enumerate(replies) if isinstance(r, Exception)}
        transient = [e for e in rejected.values() if isinstance(e, RedisConnectionError)]
        if transient:  # e.g. LOADING: the server is starting, retry the whole flush
            raise transient[0]
        return rejected

    def _read_all(self, connection: Any, count: int) -> list[Any]:
        """Read *count* replies, error replies included as exception objects."""
        replies: list[Any] = []
        parser: Any = getattr(connection, "_parser", None)
        reader: Any = getattr(parser, "_reader", None)
        if (
            FAST.hiredis_replies
            and FAST.connection_streams
            and _HIREDIS_READER is not None
            and isinstance(reader, _HIREDIS_READER)
            and str(getattr(connection, "protocol", 2)) == "2"
            and hasattr(parser, "read_from_socket")
        ):
            assert parser is not None
            gets = reader.gets
            for _ in range(count):
                reply = gets()
                while reply is _NOT_ENOUGH_DATA or reply is False:
                    try:
                        parser.read_from_socket()
                    except OSError as exc:  # as redis-py's own reads report it
                        raise RedisConnectionError(f"Error while reading replies: {exc}") from exc
                    reply = gets()
                replies.append(reply)
        else:
            for _ in range(count):
                try:
                    replies.append(connection.read_response(disable_decoding=True))
                except ResponseError as exc:
                    replies.append(exc)
        return replies

    def _pack_command(self, args: Sequence[str | bytes | int]) -> bytes:
        """RESP for one command."""
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            if isinstance(arg, str):
                raw = arg.encode(self._encoding, self._encoding_errors)
            elif isinstance(arg, int):
                raw = b"%d" % arg
            else:
                raw = arg
            out.append(b"$%d\r\n%b\r\n" % (len(raw), raw))
        return b"".join(out)

    def execute_commands(self, commands: Sequence[Sequence[str | bytes | int]]) -> list[Any]:
        """Send *commands* in one round trip and return their raw replies (``bytes``, ``int``,
        ``None``); the first error reply is raised after every reply was read. For layouts built
        on this storage (the sharded layout on one Redis)."""
        if not commands:
            return []
        if self._fast_writes:
            return self._execute_packed(commands)
        with self._client.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)  # type: ignore[no-untyped-call,unused-ignore]
            replies: list[Any] = pipe.execute()
        return replies

    def _execute_packed(self, commands: Sequence[Sequence[str | bytes | int]]) -> list[Any]:
        """Send *commands* in one write on a pooled connection and return their replies; the
        first error reply is raised (as redis-py's pipeline does) after every reply was read."""
        data = b"".join(self._pack_command(c) for c in commands)
        pool: Any = self._client.connection_pool
        connection = pool.get_connection(*self._get_connection_args)
        try:
            connection.send_packed_command([data], check_health=False)
            replies = self._read_all(connection, len(commands))
        except BaseException:
            connection.disconnect(nowait=True)
            raise
        finally:
            pool.release(connection)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    def _write_bits_pipeline(self, writes: Sequence[Write]) -> None:
        with self._client.pipeline(transaction=False) as pipe:
            for key, offset, value in writes:
                pipe.setbit(key, offset, value)
            replies = pipe.execute(raise_on_error=False)
        rejected = {i: r for i, r in enumerate(replies) if isinstance(r, Exception)}
        if rejected:
            raise RejectedWritesError(rejected)

    def merge_bitmaps(
        self, merges: Sequence[tuple[str, bytes]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        if not merges:
            return
        # One scratch key serves the whole pipeline: SET replaces it (and drops its TTL, which
        # EXPIRE puts back at once), BITOP merges it, one DEL removes it at the end.
        scratch = f"{temp_prefix}merge_{secrets.token_hex(8)}"
        common = f"{scratch}_and"
        with self._client.pipeline(transaction=False) as pipe:
            for key, data in merges:
                pipe.set(scratch, data)
                pipe.expire(scratch, self._ttl)
                if unmark:
                    pipe.bitop("AND", common, key, scratch)
                    pipe.expire(common, self._ttl)
                    pipe.bitop("XOR", key, key, common)
                else:
                    pipe.bitop("OR", key, key, scratch)
            pipe.delete(scratch, common)
            pipe.execute()

    def merge_bits(
        self, merges: Sequence[tuple[str, Sequence[int]]], *, temp_prefix: str, unmark: bool = False
    ) -> None:
        if not merges:
            return
        token = secrets.token_hex(8)
        with self._client.pipeline(transaction=False) as pipe:
            for index, (key, offsets) in enumerate(merges):
                if not offsets:
                    continue
                scratch = f"{temp_prefix}merge_{token}_{index}"
                # The TTL goes on right after the first bit: only a pipeline cut between these
                # two commands can leave a scratch key without one.
                pipe.setbit(scratch, offsets[0], 1)
                pipe.expire(scratch, self._ttl)
                for offset in offsets[1:]:
                    pipe.setbit(scratch, offset, 1)
                self._merge_scratch(pipe, key, scratch, unmark)
            pipe.execute()

    def _merge_scratch(self, pipe: Any, key: str, scratch: str, unmark: bool) -> None:
        """Queue the one command that changes *key* (``BITOP``), then drop the scratch key."""
        if unmark:
            common = f"{scratch}_and"
            pipe.bitop("AND", common, key, scratch)
            pipe.expire(common, self._ttl)
            pipe.bitop("XOR", key, key, common)
            pipe.delete(scratch, common)
        else:
            pipe.bitop("OR", key, key, scratch)
            pipe.delete(scratch)

    def evaluate(
        self, steps: Sequence[BitOpStep], queries: Sequence[Query]
    ) -> list[QueryResult]:
        if self._fast_writes:
            replies = self._execute_packed(_evaluate_commands(steps, queries, self._ttl))
            return self._query_results(queries, replies[2 * len(steps) :])
        with self._client.pipeline(transaction=False) as pipe:
            for step in steps:
                pipe.bitop(step.op, step.dest, *step.sources)
                pipe.expire(step.dest, self._ttl)
            for query in queries:
                if query.kind == "count":
                    pipe.bitcount(query.key)
                elif query.kind == "getbit":
                    pipe.getbit(query.key, query.offset)
                elif query.kind in ("get", "ids"):
                    pipe.get(query.key)
                else:
                    pipe.exists(query.key)
            replies = pipe.execute()
        return self._query_results(queries, replies[2 * len(steps) :])

    def _query_results(self, queries: Sequence[Query], replies: Sequence[Any]) -> list[QueryResult]:
        results: list[QueryResult] = []
        for query, reply in zip(queries, replies, strict=True):
            if query.kind == "get":
                results.append(b"" if reply is None else bytes(reply))
            elif query.kind == "ids":
                ids = decode_id_array(reply or b"", use_numpy=self._use_numpy)
                results.append(ids)
            else:
                results.append(int(reply))
        return results

    def scan(self, pattern: str) -> list[str]:
        found = self._scanner.scan(self._client, pattern)
        return [key.decode("utf-8", "surrogateescape") for key in found]

    def sizes(self, keys: Sequence[str]) -> list[int] | None:
        """Each key's byte length (``STRLEN``; 0: missing) in one round trip: what a ``GET``
        of it would bring. ``None`` on bitmapist-server, which has no ``STRLEN``."""
        if not keys:
            return []
        if self.is_bitmapist_server():
            return None
        replies = self.execute_commands([("STRLEN", key) for key in keys])
        return [int(r) for r in replies]

    def is_bitmapist_server(self) -> bool:
        """Whether the server is bitmapist-server (one ``INFO keys`` on first use)."""
        return self._scanner.is_bitmapist_server(self._client)

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._client.pipeline(transaction=False) as pipe:
            for start in range(0, len(keys), _DELETE_BATCH):
                pipe.delete(*keys[start : start + _DELETE_BATCH])
            pipe.execute()

    def ping(self) -> None:
        self._client.ping()

    def bind_loop(self) -> None:
        """Bind the connections to the running event loop (dropping another loop's while
        none is in use; see ``KeptConnections.bind``).

        :raises EventLoopConflictError: another loop has a connection in use.
        """
        self._kept.bind(self._client.connection_pool)

    def writes_idle(self) -> None:
        """The batcher has nothing queued or on the wire: give the connections kept for its
        flushes back to the pool (they would hold its slots while nothing is written)."""
        self._kept.release_all(self._client.connection_pool)

    def close(self) -> None:
        self._kept.release_all(self._client.connection_pool)
        if self._owns_client:
            self._client.close()


_QUERY_COMMANDS = {"count": "BITCOUNT", "get": "GET", "ids": "GET", "exists": "EXISTS"}


def _evaluate_commands(
    steps: Sequence[BitOpStep], queries: Sequence[Query], ttl: int
) -> list[tuple[str | int, ...]]:
    """The commands of one evaluation: each step's BITOP and EXPIRE, then each query."""
    commands: list[tuple[str | int, ...]] = []
    for step in steps:
        commands.append(("BITOP", step.op, step.dest, *step.sources))
        commands.append(("EXPIRE", step.dest, ttl))
    for query in queries:
        if query.kind == "getbit":
            commands.append(("GETBIT", query.key, query.offset))
        else:
            commands.append((_QUERY_COMMANDS[query.kind], query.key))
    return commands


def _get_connection_args(pool: Any) -> tuple[str, ...]:
    """What ``pool.get_connection`` needs: nothing since redis-py 5.3 (which warns about a
    command name), a command name before."""
    try:
        parameter = inspect.signature(pool.get_connection).parameters.get("command_name")
    except (TypeError, ValueError):  # pragma: no cover - not introspectable
        return ()
    if parameter is not None and parameter.default is inspect.Parameter.empty:
        return ("SETBIT",)  # pragma: no cover - redis-py < 5.3
    return ()
