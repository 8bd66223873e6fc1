"""The embedded backend's blocking half: roaring containers in an SQLite file (WAL mode).

Shared by the async and the sync ``EmbeddedStorage`` (the async one runs these methods in a
worker thread). Layout::

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
"""

from __future__ import annotations

import sqlite3
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeAlias

from pyroaring import BitMap

from ._core.bitstrings import BitString, bitop, by_container, group_writes
from ._core.errors import ClientClosedError, EmbeddedStorageError
from ._core.keyglob import glob_literal_prefix, glob_match, key_bytes
from ._core.options import Write
from ._core.plan import BitOpStep, Query
from ._core.roaring import CONTAINER_BITS, Container, join, split, to_redis_bytes
from ._core.url import EmbeddedTarget

__all__ = ("FORMAT_VERSION", "SqliteBitmapStore")

#: Version of the table layout; a file with another version is refused, never rewritten.
FORMAT_VERSION = "1"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bitmapist_meta("
    " name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS bitmapist_keys("
    " id INTEGER PRIMARY KEY, name BLOB NOT NULL UNIQUE, nbytes INTEGER NOT NULL, expires REAL)",
    "CREATE INDEX IF NOT EXISTS bitmapist_keys_expires"
    " ON bitmapist_keys(expires) WHERE expires IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS bitmapist_chunks("
    " key_id INTEGER NOT NULL, hi INTEGER NOT NULL, card INTEGER NOT NULL,"
    " run INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (key_id, hi)) WITHOUT ROWID",
)
_LIVE = "(expires IS NULL OR expires > ?)"
#: SQLite's page cache per connection. Rows are small (a container each), so 1 MiB holds the hot
#: pages of millions of ids; the operating system's file cache serves the rest.
_CACHE_KIB = 1024

Result: TypeAlias = "int | bytes | array[int]"


class SqliteBitmapStore:
    """Bitmaps with Redis string semantics in one SQLite database. Thread-safe; opens lazily.

    :param target: the parsed ``file:``/``memory://`` URL.
    """

    def __init__(self, target: EmbeddedTarget) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    @property
    def target(self) -> EmbeddedTarget:
        return self._target

    # -- connection and transactions ---------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise ClientClosedError(f"the embedded store {self._target.url} is closed")
        if self._conn is not None:
            return self._conn
        path = self._target.path
        where = path if path is not None else "memory://"
        try:
            conn = sqlite3.connect(
                ":memory:" if path is None else path,
                timeout=self._target.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise EmbeddedStorageError(f"cannot open the embedded store {where}: {exc}") from exc
        try:
            self._configure(conn, path)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _configure(self, conn: sqlite3.Connection, path: str | None) -> None:
        where = path if path is not None else "memory://"
        try:
            if path is not None:
                (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
                if str(mode).lower() != "wal":
                    raise EmbeddedStorageError(
                        f"{where}: SQLite refused WAL mode (journal_mode={mode}); the embedded "
                        "store needs a local file system"
                    )
            conn.execute(f"PRAGMA synchronous={self._target.synchronous.upper()}")
            conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            version = _format_version(conn)
            if version is None:  # a new store: create the tables (takes the write lock)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    conn.execute(
                        "INSERT OR IGNORE INTO bitmapist_meta VALUES ('format', ?)",
                        (FORMAT_VERSION,),
                    )
                    version = _format_version(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _storage_error(where, self._target.timeout, exc) from exc
        if version != FORMAT_VERSION:
            raise EmbeddedStorageError(
                f"{where} holds a bitmapist-async store of format {version!r}; this version "
                f"reads format {FORMAT_VERSION!r} only"
            )

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[tuple[sqlite3.Connection, float]]:
        """One transaction under the lock; yields the connection and its clock."""
        with self._lock:
            conn = self._open()
            where = self._target.path or "memory://"
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                now = time.time()
                if write:
                    _purge_expired(conn, now)
                yield conn, now
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _storage_error(where, self._target.timeout, exc) from exc
                raise

    def close(self) -> None:
        """Close the database (idempotent); later calls raise :class:`ClientClosedError`.
        A ``memory://`` store's contents are gone."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def ping(self) -> None:
        with self._transaction(write=False) as (conn, _):
            conn.execute("SELECT 1").fetchone()

    # -- writes ------------------------------------------------------------------------------

    def write_bits(self, writes: Sequence[Write]) -> None:
        """``SETBIT`` every write, in order, in one transaction."""
        grouped = group_writes(writes)
        with self._transaction(write=True) as (conn, _):
            for key, change in grouped.items():
                key_id = _ensure_key(conn, key_bytes(key), change.nbytes)
                for hi, sets, clears in by_container(change.sets, change.clears):
                    _update_chunk(conn, key_id, hi, sets, clears)

    def merge(self, merges: Sequence[tuple[str, BitString | None]], *, unmark: bool) -> None:
        """OR each bitmap into its key (or remove it with *unmark*), in one transaction; like
        Redis's ``BITOP``, a merged key is as long as the longer of the two and loses its TTL."""
        with self._transaction(write=True) as (conn, _):
            for key, data in merges:
                name = key_bytes(key)
                row = conn.execute(
                    "SELECT id, nbytes FROM bitmapist_keys WHERE name = ?", (name,)
                ).fetchone()
                if data is None:
                    if row is not None:
                        conn.execute(
                            "UPDATE bitmapist_keys SET expires = NULL WHERE id = ?", (row[0],)
                        )
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
                        "UPDATE bitmapist_keys SET nbytes = max(nbytes, ?), expires = NULL"
                        " WHERE id = ?",
                        (data.nbytes, key_id),
                    )
                for container in split(data.bits):
                    old = _read_chunk(conn, key_id, container.key)
                    part = join([container])
                    if old is None:
                        if not unmark:
                            _write_chunk(conn, key_id, container.key, part, existed=False)
                        continue
                    new = old - part if unmark else old | part
                    _write_chunk(conn, key_id, container.key, new, existed=True)

    def delete(self, keys: Sequence[str]) -> None:
        names = [(key_bytes(k),) for k in keys]
        with self._transaction(write=True) as (conn, _):
            _delete_names(conn, names)

    def replace(self, items: Sequence[tuple[str, BitString | None]]) -> None:
        """Set each key to exactly *value* (``None`` deletes it), without TTL, in one
        transaction (what ``SET key value`` does on Redis)."""
        with self._transaction(write=True) as (conn, _):
            for key, value in items:
                _store(conn, key, value, None)

    # -- reads -------------------------------------------------------------------------------

    def read(self, keys: Sequence[str]) -> list[BitString | None]:
        """The bits and byte length of each key (``None``: missing), from one snapshot."""
        with self._transaction(write=False) as (conn, now):
            return [_load(conn, key, now) for key in keys]

    def scan(self, pattern: str) -> list[str]:
        """Every live key matching the Redis glob *pattern* (``*`` alone matches every key, even
        the empty one, as in Redis's SCAN and KEYS)."""
        raw = key_bytes(pattern)
        prefix = glob_literal_prefix(raw)
        upper = _prefix_upper_bound(prefix)
        sql = f"SELECT name FROM bitmapist_keys WHERE name >= ? AND {_LIVE}"
        with self._transaction(write=False) as (conn, now):
            params: tuple[object, ...] = (prefix, now)
            if upper is not None:
                sql += " AND name < ?"
                params += (upper,)
            names = [bytes(n) for (n,) in conn.execute(sql, params)]
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
        with self._transaction(write=persist_ttl is not None) as (conn, now):
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


# -- helpers (all run inside a transaction) ----------------------------------------------------


def _storage_error(where: str, timeout: float, exc: sqlite3.Error) -> EmbeddedStorageError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return EmbeddedStorageError(
            f"{where} is locked by another process's write for more than {timeout:g} s ({text}); "
            "raise ?timeout= in the URL or write from one process"
        )
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return EmbeddedStorageError(f"{where} is not an SQLite database ({text})")
    return EmbeddedStorageError(f"the embedded store {where} failed: {text}")


def _format_version(conn: sqlite3.Connection) -> str | None:
    """The store format of the open database, ``None`` when it has no bitmapist tables."""
    table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bitmapist_meta'"
    ).fetchone()
    if table is None:
        return None
    row = conn.execute("SELECT value FROM bitmapist_meta WHERE name = 'format'").fetchone()
    return None if row is None else str(row[0])


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


def _read_chunk(conn: sqlite3.Connection, key_id: int, hi: int) -> BitMap | None:
    row = conn.execute(
        "SELECT card, run, payload FROM bitmapist_chunks WHERE key_id = ? AND hi = ?",
        (key_id, hi),
    ).fetchone()
    if row is None:
        return None
    return join([Container(hi, row[0], bool(row[1]), row[2])])


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
    conn: sqlite3.Connection, key_id: int, hi: int, sets: array[int], clears: array[int]
) -> None:
    old = _read_chunk(conn, key_id, hi)
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
    return BitString(join(chunks), nbytes)


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
    return b"" if value is None else to_redis_bytes(value.bits, value.nbytes)


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
    chunk = _read_chunk(conn, key_id, query.offset // CONTAINER_BITS)
    return int(chunk is not None and query.offset in chunk)


def _prefix_upper_bound(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with *prefix*."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
