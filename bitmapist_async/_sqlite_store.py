"""The embedded backend's blocking half: roaring containers in an SQLite file (WAL mode).

Shared by the async and the sync ``EmbeddedStorage`` (the async one runs these methods in a
worker thread). Layout (``PRAGMA application_id`` = ``APPLICATION_ID``; the file's checks live
in :mod:`bitmapist_async._sqlite_file`)::

    bitmapist_meta(name, value)                      -- 'format' = '1'
    bitmapist_keys(id, name BLOB UNIQUE, nbytes, expires)
    bitmapist_chunks(key_id, hi, card, run, payload) -- one roaring container per row

``nbytes`` is the Redis string length of the key (what ``BITOP NOT`` complements, how long
``GET`` answers are); ``expires`` is a Unix time for keys written by ``store()`` (``NULL``:
never). A ``SETBIT`` rewrites one container row, so marks cost the same however big the bitmap.

Concurrency and durability
    Every method is one SQLite transaction; writes take the write lock up front
    (``BEGIN IMMEDIATE``), so writers in several threads or processes queue (up to ``timeout``
    seconds, then :class:`EmbeddedStorageError`) and readers never block. A write returns after
    ``COMMIT``: with WAL and ``synchronous=NORMAL`` the commit is in the log file, so it survives
    the process being killed; ``synchronous=FULL`` also survives a power cut. Nothing is cached
    between transactions, so other processes' writes are always seen.

Invariants
    Nothing is written to a file before :func:`~bitmapist_async._sqlite_file.inspect` has
    found it empty or a bitmapist-async store. A read-only store never writes: every write
    method raises :class:`ReadOnlyStoreError` before touching SQLite. A container that does not
    decode raises :class:`EmbeddedStorageError` naming its key, never pyroaring's error.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from typing import TypeAlias, TypeVar
from urllib.parse import quote

from pyroaring import BitMap

from ._core.bitstrings import BitString, bitop, by_container, group_writes
from ._core.errors import ClientClosedError, EmbeddedStorageError, ReadOnlyStoreError
from ._core.keyglob import glob_literal_prefix, glob_match, key_bytes
from ._core.options import Write
from ._core.plan import BitOpStep, Query
from ._core.roaring import CONTAINER_BITS, Container, ContainerRow, join, split, to_redis_bytes
from ._core.store_check import StoreCheckReport
from ._core.url import EmbeddedTarget
from ._sqlite_file import (
    APPLICATION_ID,
    FORMAT_VERSION,
    SCHEMA,
    FileState,
    check_format,
    check_rows,
    file_state,
    inspect,
    storage_error,
)

__all__ = ("APPLICATION_ID", "FORMAT_VERSION", "SqliteBitmapStore")

_LIVE = "(expires IS NULL OR expires > ?)"
#: SQLite's page cache per connection. Rows are small (a container each), so 1 MiB holds the hot
#: pages of millions of ids; the operating system's file cache serves the rest.
_CACHE_KIB = 1024
#: Read-only reads of a file without a write-ahead log, tried again when the file changed.
_READ_ONLY_ATTEMPTS = 5

Result: TypeAlias = "int | bytes | array[int]"
T = TypeVar("T")
_Body: TypeAlias = Callable[[sqlite3.Connection, float], T]


class _Damaged(Exception):
    """A stored container that does not decode (turned into :class:`EmbeddedStorageError`)."""

    def __init__(self, key: str | bytes, cause: Exception) -> None:
        super().__init__(key, cause)
        self.key = key if isinstance(key, str) else key.decode("utf-8", "surrogateescape")
        self.cause = cause


class SqliteBitmapStore:
    """Bitmaps with Redis string semantics in one SQLite database. Thread-safe; opens lazily.

    :param target: the parsed ``file:``/``memory://`` URL. With ``read_only`` (``?mode=ro``)
        nothing is ever written or created: the file is read through SQLite's ``mode=ro``
        when a write-ahead log exists (a writer is live), else as ``immutable=1`` (no lock
        files are created), and re-read when it changed during a read.
    """

    def __init__(self, target: EmbeddedTarget) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        # A read-write file store reads through a connection of its own, under a lock of its
        # own: in WAL mode a reader never waits for a writer, so a write queued behind another
        # process's lock (up to ``timeout``) does not hold back this client's queries.
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        #: Read-only: the file state the open connection was made for.
        self._conn_state: FileState | None = None
        self._closed = False

    @property
    def target(self) -> EmbeddedTarget:
        return self._target

    @property
    def _where(self) -> str:
        return self._target.path if self._target.path is not None else "memory://"

    # -- connection and transactions ---------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        path = self._target.path
        try:
            conn = sqlite3.connect(
                ":memory:" if path is None else path,
                timeout=self._target.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise EmbeddedStorageError(
                f"cannot open the embedded store {self._where}: {exc}"
            ) from exc
        try:
            self._configure(conn, path)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _configure(self, conn: sqlite3.Connection, path: str | None) -> None:
        where = self._where
        try:
            # Look before writing anything: another application's file is refused untouched.
            kind = "empty" if path is None else inspect(conn, where)
            if path is not None:
                (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
                if str(mode).lower() != "wal":
                    raise EmbeddedStorageError(
                        f"{where}: SQLite refused WAL mode (journal_mode={mode}); the embedded "
                        "store needs a local file system"
                    )
            conn.execute(f"PRAGMA synchronous={self._target.synchronous.upper()}")
            conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            if kind != "store":  # new (create the tables) or of an earlier version (stamp it)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if inspect(conn, where) == "empty":  # still, now that we hold the lock
                        for statement in SCHEMA:
                            conn.execute(statement)
                        conn.execute(
                            "INSERT OR IGNORE INTO bitmapist_meta VALUES ('format', ?)",
                            (FORMAT_VERSION,),
                        )
                    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            check_format(conn, where)
        except sqlite3.Error as exc:
            raise storage_error(where, self._target.timeout, exc) from exc

    def _read_only_connection(self, state: FileState) -> sqlite3.Connection:
        """A read-only connection suited to *state*: the open one when it still is."""
        old = self._conn_state
        if self._conn is not None and old is not None:
            same_file = (old.dev, old.ino) == (state.dev, state.ino)
            if same_file and ((state.wal and old.wal) or old == state):
                return self._conn
            self._conn.close()
            self._conn, self._conn_state = None, None
        path = os.path.abspath(self._target.path or "")
        # immutable=1 creates no -wal/-shm files but ignores a log: only without one.
        flags = "mode=ro" if state.wal else "mode=ro&immutable=1"
        where = self._where
        try:
            conn = sqlite3.connect(
                f"file:{quote(path)}?{flags}",
                uri=True,
                timeout=self._target.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise EmbeddedStorageError(f"cannot open {where} read-only: {exc}") from exc
        try:
            conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            if inspect(conn, where) == "empty":
                raise EmbeddedStorageError(
                    f"{where} is an empty database, not a bitmapist-async store (opened "
                    "read-only, so no store is created)"
                )
            check_format(conn, where)
        except sqlite3.Error as exc:
            conn.close()
            raise storage_error(where, self._target.timeout, exc) from exc
        except BaseException:
            conn.close()
            raise
        self._conn, self._conn_state = conn, state
        return conn

    def _run(self, body: _Body[T], *, write: bool, what: str = "write") -> T:
        """Run *body* in one transaction under the lock and return its result."""
        if write and self._target.read_only:
            raise self._refused(what)
        if not write and not self._target.read_only and self._target.path is not None:
            return self._read(body)
        with self._lock:
            if self._closed:
                raise ClientClosedError(f"the embedded store {self._target.url} is closed")
            if not self._target.read_only:
                return self._in_transaction(self._open(), body, write=write)
            path = os.path.abspath(self._target.path or "")
            for _ in range(_READ_ONLY_ATTEMPTS):
                before = file_state(path)
                result = self._in_transaction(self._read_only_connection(before), body, write=False)
                # An immutable read is only good if no writer touched the file meanwhile.
                if before.wal or file_state(path) == before:
                    return result
            raise EmbeddedStorageError(
                f"{path} changed during each of {_READ_ONLY_ATTEMPTS} read-only reads; try again"
            )

    def _read(self, body: _Body[T]) -> T:
        """Run a read of a read-write file store on the reader connection."""
        if self._reader is None:
            with self._lock:  # the first call opens (and if need be creates) the store
                if self._closed:
                    raise ClientClosedError(f"the embedded store {self._target.url} is closed")
                self._open()
        with self._read_lock:
            if self._closed:
                raise ClientClosedError(f"the embedded store {self._target.url} is closed")
            if self._reader is None:
                self._reader = self._open_reader()
            return self._in_transaction(self._reader, body, write=False)

    def _open_reader(self) -> sqlite3.Connection:
        path = self._target.path
        assert path is not None
        try:
            conn = sqlite3.connect(
                path, timeout=self._target.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA query_only=1")
            conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        except sqlite3.Error as exc:
            raise storage_error(self._where, self._target.timeout, exc) from exc
        return conn

    def _refused(self, what: str) -> ReadOnlyStoreError:
        return ReadOnlyStoreError(
            f"the embedded store {self._target.url} is open read-only (mode=ro): cannot {what}; "
            "nothing was written"
        )

    def _in_transaction(self, conn: sqlite3.Connection, body: _Body[T], *, write: bool) -> T:
        where = self._where
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            now = time.time()
            if write:
                _purge_expired(conn, now)
            result = body(conn, now)
            conn.execute("COMMIT")
            return result
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise storage_error(where, self._target.timeout, exc) from exc
            if isinstance(exc, _Damaged):
                raise EmbeddedStorageError(
                    f"{where}: key {exc.key!r} is damaged ({exc.cause}); "
                    f"`bitmapist-async check {where}` lists every damaged key"
                ) from exc.cause
            raise

    def close(self) -> None:
        """Close the database (idempotent); later calls raise :class:`ClientClosedError`.
        A ``memory://`` store's contents are gone."""
        self._closed = True  # calls not yet under a lock refuse at once
        for conn, lock in ((self._conn, self._lock), (self._reader, self._read_lock)):
            if conn is not None and lock.locked():  # a call in progress: abort its statement
                conn.interrupt()  # (thread-safe; a write waiting for another process's lock)
        with self._lock, self._read_lock:
            # The writer closes last: the last connection out checkpoints the log and removes
            # the -wal and -shm files, which a query_only reader may not do.
            for conn in (self._reader, self._conn):
                if conn is not None:
                    conn.close()
            self._conn = self._reader = None
            self._conn_state = None

    def ping(self) -> None:
        self._run(lambda conn, now: conn.execute("SELECT 1").fetchone(), write=False)

    def check(self) -> StoreCheckReport:
        """Read every row and report each damaged key (see
        :mod:`bitmapist_async._core.store_check`); SQLite's ``integrity_check`` too."""
        keys, containers, damage = self._run(check_rows, write=False)
        return StoreCheckReport(self._target.url, keys, containers, tuple(damage))

    # -- writes ----------------------------------------------------------------------------

    def write_bits(self, writes: Sequence[Write]) -> None:
        """``SETBIT`` every write, in order, in one transaction."""
        grouped = group_writes(writes)

        def body(conn: sqlite3.Connection, now: float) -> None:
            for key, change in grouped.items():
                name = key_bytes(key)
                key_id = _ensure_key(conn, name, change.nbytes)
                for hi, sets, clears in by_container(change.sets, change.clears):
                    _update_chunk(conn, name, key_id, hi, sets, clears)

        self._run(body, write=True, what="set bits")

    def merge(self, merges: Sequence[tuple[str, BitString | None]], *, unmark: bool) -> None:
        """OR each bitmap into its key (or remove it with *unmark*), in one transaction; like
        Redis's ``BITOP``, a merged key is as long as the longer of the two and loses its TTL."""
        self._run(lambda conn, now: _merge(conn, merges, unmark), write=True, what="merge")

    def delete(self, keys: Sequence[str]) -> None:
        """Delete *keys*. Read-only, deleting keys that do not exist succeeds (it writes
        nothing, as Redis's ``DEL`` of missing keys): the dashboard's temporary keys."""
        names = [(key_bytes(k),) for k in keys]
        if self._target.read_only:
            found = self._run(lambda conn, now: _existing(conn, names, now), write=False)
            if not found:
                return
            raise self._refused(f"delete {len(found)} existing key(s), first {found[0]!r}")
        self._run(lambda conn, now: _delete_names(conn, names), write=True, what="delete")

    def replace(self, items: Sequence[tuple[str, BitString | None]]) -> None:
        """Set each key to exactly *value* (``None`` deletes it), without TTL, in one
        transaction (what ``SET key value`` does on Redis)."""

        def body(conn: sqlite3.Connection, now: float) -> None:
            for key, value in items:
                _store(conn, key, value, None)

        self._run(body, write=True, what="replace keys")

    # -- reads -------------------------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> list[BitString | None]:
        """The bits and byte length of each key (``None``: missing), from one snapshot."""
        return self._run(lambda conn, now: [_load(conn, key, now) for key in keys], write=False)

    def sizes(self, keys: Sequence[str]) -> list[int]:
        """Each key's byte length as ``GET`` would return it (0: missing), read from the key
        rows alone (no container is decoded)."""

        def body(conn: sqlite3.Connection, now: float) -> list[int]:
            return [row[1] if (row := _key_row(conn, key, now)) else 0 for key in keys]

        return self._run(body, write=False)

    def scan(self, pattern: str) -> list[str]:
        """Every live key matching the Redis glob *pattern* (``*`` alone matches every key, even
        the empty one, as in Redis's SCAN and KEYS)."""
        raw = key_bytes(pattern)
        prefix = glob_literal_prefix(raw)
        upper = _prefix_upper_bound(prefix)
        sql = f"SELECT name FROM bitmapist_keys WHERE name >= ? AND {_LIVE}"
        if upper is not None:
            sql += " AND name < ?"

        def body(conn: sqlite3.Connection, now: float) -> list[bytes]:
            params: tuple[object, ...] = (prefix, now) if upper is None else (prefix, now, upper)
            return [bytes(n) for (n,) in conn.execute(sql, params)]

        names = self._run(body, write=False)
        everything = raw == b"*"
        return [
            n.decode("utf-8", "surrogateescape") for n in names if everything or glob_match(raw, n)
        ]

    def evaluate(
        self,
        steps: Sequence[BitOpStep],
        queries: Sequence[Query],
        *,
        persist_ttl: int | None = None,
    ) -> list[Result]:
        """Run the ``BITOP`` steps in memory, then answer *queries*.

        :param persist_ttl: also store every step's result at its key with this TTL (what
            ``Expression.store()`` asks for); by default the results live only during the call.
        """

        def body(conn: sqlite3.Connection, now: float) -> list[Result]:
            values: dict[str, BitString | None] = {}
            computed: set[str] = set()

            def value(key: str) -> BitString | None:
                if key not in values:
                    values[key] = _load(conn, key, now)
                return values[key]

            for step in steps:
                values[step.dest] = bitop(step.op, [value(s) for s in step.sources])
                computed.add(step.dest)
            results = [
                _answer(q, values[q.key]) if q.key in values else _answer_stored(conn, q, now)
                for q in queries
            ]
            if persist_ttl is not None:
                for dest in computed:
                    _store(conn, dest, values[dest], now + persist_ttl)
            return results

        return self._run(body, write=persist_ttl is not None, what="store a bit-operation result")


# -- helpers (all run inside a transaction) ----------------------------------------------------


def _purge_expired(conn: sqlite3.Connection, now: float) -> None:
    expired = "SELECT id FROM bitmapist_keys WHERE expires IS NOT NULL AND expires <= ?"
    conn.execute(f"DELETE FROM bitmapist_chunks WHERE key_id IN ({expired})", (now,))
    conn.execute("DELETE FROM bitmapist_keys WHERE expires IS NOT NULL AND expires <= ?", (now,))


def _ensure_key(conn: sqlite3.Connection, name: bytes, nbytes: int) -> int:
    """The id of key *name*, created (or lengthened) to at least *nbytes* bytes."""
    row = conn.execute("SELECT id, nbytes FROM bitmapist_keys WHERE name = ?", (name,)).fetchone()
    if row is None:
        cursor = conn.execute(
            "INSERT INTO bitmapist_keys(name, nbytes, expires) VALUES (?, ?, NULL)", (name, nbytes)
        )
        return int(cursor.lastrowid or 0)
    if nbytes > row[1]:
        conn.execute("UPDATE bitmapist_keys SET nbytes = ? WHERE id = ?", (nbytes, row[0]))
    return int(row[0])


def _join(containers: Sequence[ContainerRow], key: str | bytes) -> BitMap:
    """:func:`join`, with a payload that does not decode reported as damage to *key*."""
    try:
        return join(containers)
    except (ValueError, TypeError, OverflowError) as exc:  # overflow: a container key >= 2**16
        raise _Damaged(key, exc) from exc


def _read_chunk(conn: sqlite3.Connection, name: bytes, key_id: int, hi: int) -> BitMap | None:
    row = conn.execute(
        "SELECT card, run, payload FROM bitmapist_chunks WHERE key_id = ? AND hi = ?",
        (key_id, hi),
    ).fetchone()
    if row is None:
        return None
    return _join([Container(hi, row[0], bool(row[1]), row[2])], name)


def _write_chunk(
    conn: sqlite3.Connection, key_id: int, hi: int, bits: BitMap, *, existed: bool
) -> None:
    bits.run_optimize()
    containers = split(bits)
    if containers:
        (c,) = containers
        conn.execute(
            "INSERT OR REPLACE INTO bitmapist_chunks VALUES (?, ?, ?, ?, ?)",
            (key_id, hi, c.cardinality, int(c.run), c.payload),
        )
    elif existed:
        conn.execute("DELETE FROM bitmapist_chunks WHERE key_id = ? AND hi = ?", (key_id, hi))


def _update_chunk(
    conn: sqlite3.Connection,
    name: bytes,
    key_id: int,
    hi: int,
    sets: array[int],
    clears: array[int],
) -> None:
    old = _read_chunk(conn, name, key_id, hi)
    if old is None:
        if sets:
            _write_chunk(conn, key_id, hi, BitMap(sets), existed=False)
        return
    if all(o in old for o in sets) and not any(o in old for o in clears):
        return  # already in that state: nothing to rewrite
    if sets:
        old |= BitMap(sets)
    if clears:
        old -= BitMap(clears)
    _write_chunk(conn, key_id, hi, old, existed=True)


def _merge(
    conn: sqlite3.Connection, merges: Sequence[tuple[str, BitString | None]], unmark: bool
) -> None:
    for key, data in merges:
        name = key_bytes(key)
        row = conn.execute(
            "SELECT id, nbytes FROM bitmapist_keys WHERE name = ?", (name,)
        ).fetchone()
        if data is None:
            if row is not None:
                conn.execute("UPDATE bitmapist_keys SET expires = NULL WHERE id = ?", (row[0],))
            continue
        if row is None:
            cursor = conn.execute(
                "INSERT INTO bitmapist_keys(name, nbytes, expires) VALUES (?, ?, NULL)",
                (name, data.nbytes),
            )
            key_id = int(cursor.lastrowid or 0)
        else:
            key_id = int(row[0])
            conn.execute(
                "UPDATE bitmapist_keys SET nbytes = max(nbytes, ?), expires = NULL WHERE id = ?",
                (data.nbytes, key_id),
            )
        for container in split(data.bits):
            old = _read_chunk(conn, name, key_id, container.key)
            part = join([container])
            if old is None:
                if not unmark:
                    _write_chunk(conn, key_id, container.key, part, existed=False)
                continue
            new = old - part if unmark else old | part
            _write_chunk(conn, key_id, container.key, new, existed=True)


def _existing(conn: sqlite3.Connection, names: Sequence[tuple[bytes]], now: float) -> list[str]:
    """Which of *names* are live keys."""
    found = []
    for (name,) in names:
        row = conn.execute(
            f"SELECT 1 FROM bitmapist_keys WHERE name = ? AND {_LIVE}", (name, now)
        ).fetchone()
        if row is not None:
            found.append(name.decode("utf-8", "surrogateescape"))
    return found


def _delete_names(conn: sqlite3.Connection, names: Sequence[tuple[bytes]]) -> None:
    conn.executemany(
        "DELETE FROM bitmapist_chunks WHERE key_id = "
        "(SELECT id FROM bitmapist_keys WHERE name = ?)",
        names,
    )
    conn.executemany("DELETE FROM bitmapist_keys WHERE name = ?", names)


def _key_row(conn: sqlite3.Connection, key: str, now: float) -> tuple[int, int] | None:
    row = conn.execute(
        f"SELECT id, nbytes FROM bitmapist_keys WHERE name = ? AND {_LIVE}", (key_bytes(key), now)
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def _load(conn: sqlite3.Connection, key: str, now: float) -> BitString | None:
    row = _key_row(conn, key, now)
    if row is None:
        return None
    key_id, nbytes = row
    chunks = conn.execute(
        "SELECT hi, card, run, payload FROM bitmapist_chunks WHERE key_id = ? ORDER BY hi",
        (key_id,),
    ).fetchall()
    return BitString(_join(chunks, key), nbytes)


def _store(
    conn: sqlite3.Connection, key: str, value: BitString | None, expires: float | None
) -> None:
    name = key_bytes(key)
    _delete_names(conn, [(name,)])
    if value is None:
        return
    cursor = conn.execute(
        "INSERT INTO bitmapist_keys(name, nbytes, expires) VALUES (?, ?, ?)",
        (name, value.nbytes, expires),
    )
    key_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT INTO bitmapist_chunks VALUES (?, ?, ?, ?, ?)",
        ((key_id, c.key, c.cardinality, int(c.run), c.payload) for c in split(value.bits)),
    )


def _answer(query: Query, value: BitString | None) -> Result:
    kind = query.kind
    if kind == "count":
        return 0 if value is None else len(value.bits)
    if kind == "getbit":
        return int(value is not None and query.offset in value.bits)
    if kind == "exists":
        return int(value is not None)
    if kind == "ids":
        return array("I") if value is None else value.bits.to_array()
    if value is None:
        return b""
    try:
        return to_redis_bytes(value.bits, value.nbytes)
    except ValueError as exc:  # an id beyond the stored byte length
        raise _Damaged(query.key, exc) from exc


def _answer_stored(conn: sqlite3.Connection, query: Query, now: float) -> Result:
    """Answer *query* about a stored key, reading only what it needs."""
    if query.kind in ("get", "ids"):
        return _answer(query, _load(conn, query.key, now))
    row = _key_row(conn, query.key, now)
    if row is None or query.kind == "exists":
        return int(row is not None)
    key_id = row[0]
    if query.kind == "count":
        (total,) = conn.execute(
            "SELECT coalesce(sum(card), 0) FROM bitmapist_chunks WHERE key_id = ?", (key_id,)
        ).fetchone()
        return int(total)
    chunk = _read_chunk(conn, key_bytes(query.key), key_id, query.offset // CONTAINER_BITS)
    return int(chunk is not None and query.offset in chunk)


def _prefix_upper_bound(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with *prefix*."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
