"""The embedded store's file: whose database it is, its format, its state for read-only
opens, and the full check of its rows.

Everything here only reads: :func:`inspect` runs before the store writes anything to a file, so
another application's database is refused untouched. Used by
:mod:`bitmapist_async._sqlite_store`.
"""

from __future__ import annotations

import os
import sqlite3
from itertools import groupby
from typing import Literal, NamedTuple

from ._core.errors import EmbeddedStorageError
from ._core.store_check import StoreDamage, key_problems

__all__ = (
    "APPLICATION_ID",
    "FORMAT_VERSION",
    "SCHEMA",
    "FileState",
    "check_format",
    "check_rows",
    "file_state",
    "inspect",
    "storage_error",
)

#: Version of the table layout; a file with another version is refused, never rewritten.
FORMAT_VERSION = "1"
#: ``PRAGMA application_id`` of a bitmapist-async store (``"bmap"``), stamped when the store is
#: created (and on stores of earlier versions, recognised by their tables). A non-empty
#: database without it is another application's: it is refused before anything is written.
APPLICATION_ID = 0x626D6170

SCHEMA = (
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
#: The columns of each table, which is how a store written before the application id is known.
_COLUMNS = {
    "bitmapist_meta": ["name", "value"],
    "bitmapist_keys": ["id", "name", "nbytes", "expires"],
    "bitmapist_chunks": ["key_id", "hi", "card", "run", "payload"],
}


class FileState(NamedTuple):
    """What a read-only open looks at: the file's identity and last change, and whether a
    write-ahead log exists (then SQLite's locking is needed to read it)."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    wal: bool


def storage_error(where: str, timeout: float, exc: sqlite3.Error) -> EmbeddedStorageError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return EmbeddedStorageError(
            f"{where} is locked by another process's write for more than {timeout:g} s ({text}); "
            "raise ?timeout= in the URL or write from one process"
        )
    if "readonly" in text or "read-only" in text:
        return EmbeddedStorageError(
            f"{where} cannot be written ({text}); to read it, open it read-only: file:...?mode=ro"
        )
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return EmbeddedStorageError(f"{where} is not an SQLite database ({text})")
    return EmbeddedStorageError(f"the embedded store {where} failed: {text}")


def file_state(path: str) -> FileState:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise EmbeddedStorageError(
            f"{path} does not exist (opened read-only, so it is not created)"
        ) from None
    except OSError as exc:
        raise EmbeddedStorageError(f"cannot read {path}: {exc}") from exc
    wal = os.path.exists(path + "-wal")
    return FileState(
        info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, wal
    )


def inspect(conn: sqlite3.Connection, where: str) -> Literal["empty", "store", "legacy"]:
    """Whose database this is, reading only: a bitmapist-async store (``store``), one written
    before stores were stamped with :data:`APPLICATION_ID` (``legacy``), or an empty database.

    :raises EmbeddedStorageError: another application's database.
    """
    (app_id,) = conn.execute("PRAGMA application_id").fetchone()
    if app_id == APPLICATION_ID:
        return "store"
    if app_id != 0:
        raise EmbeddedStorageError(
            f"{where} belongs to another application (SQLite application_id {app_id:#010x}, a "
            f"bitmapist-async store has {APPLICATION_ID:#010x}): refused, nothing was changed"
        )
    objects = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
    if not objects:
        return "empty"
    if _is_earlier_store(conn, objects):
        return "legacy"
    tables = sorted(str(name) for kind, name in objects if kind == "table")
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    raise EmbeddedStorageError(
        f"{where} is another application's SQLite database (tables: {shown or 'none'}), not a "
        "bitmapist-async store: refused, nothing was changed"
    )


def _is_earlier_store(conn: sqlite3.Connection, objects: list[tuple[str, str]]) -> bool:
    """Whether the schema is exactly a store's (tables with their columns, and its index):
    what earlier versions wrote before stamping stores. Another application's tables next to
    them make it that application's file."""
    own = {
        (kind, str(name))
        for kind, name in objects
        if not str(name).startswith("sqlite_autoindex_") and str(name) != "sqlite_stat1"
    }
    expected = {("table", t) for t in _COLUMNS} | {("index", "bitmapist_keys_expires")}
    if not own <= expected or not {("table", t) for t in _COLUMNS} <= own:
        return False
    return all(
        [row[1] for row in conn.execute(f"PRAGMA table_info({table})")] == columns
        for table, columns in _COLUMNS.items()
    )


def check_format(conn: sqlite3.Connection, where: str) -> None:
    version = _format_version(conn)
    if version != FORMAT_VERSION:
        raise EmbeddedStorageError(
            f"{where} holds a bitmapist-async store of format {version!r}; this version "
            f"reads format {FORMAT_VERSION!r} only"
        )


def _format_version(conn: sqlite3.Connection) -> str | None:
    """The store format of the open database, ``None`` when it has no bitmapist tables."""
    table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bitmapist_meta'"
    ).fetchone()
    if table is None:
        return None
    row = conn.execute("SELECT value FROM bitmapist_meta WHERE name = 'format'").fetchone()
    return None if row is None else str(row[0])


def check_rows(conn: sqlite3.Connection, now: float) -> tuple[int, int, list[StoreDamage]]:
    """Every key's problems, then the store's: ``(keys, containers, damage)``."""
    damage: list[StoreDamage] = []
    keys = containers = 0
    rows = conn.execute(
        "SELECT k.id, k.name, k.nbytes, k.expires, c.hi, c.card, c.run, c.payload"
        " FROM bitmapist_keys k LEFT JOIN bitmapist_chunks c ON c.key_id = k.id"
        " ORDER BY k.name, k.id, c.hi"
    )
    for _, group in groupby(rows, key=lambda row: row[0]):
        first, *rest = list(group)
        chunks = [tuple(row[4:]) for row in (first, *rest) if row[4] is not None]
        keys += 1
        containers += len(chunks)
        name = first[1]
        problems = key_problems(first[2], first[3], chunks)
        if isinstance(name, bytes):
            shown = name.decode("utf-8", "surrogateescape")
        else:
            shown = str(name)
            problems.insert(0, f"name stored as {type(name).__name__}, not bytes")
        if problems:
            damage.append(StoreDamage(shown, tuple(problems)))
    store: list[str] = []
    for key_id, count in conn.execute(
        "SELECT key_id, count(*) FROM bitmapist_chunks"
        " WHERE key_id NOT IN (SELECT id FROM bitmapist_keys) GROUP BY key_id"
    ):
        containers += int(count)
        store.append(f"{count} container(s) of key id {key_id}, which is no key")
    integrity = [str(line) for (line,) in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        store.extend(f"SQLite integrity check: {line}" for line in integrity)
    if store:
        damage.append(StoreDamage(None, tuple(store)))
    return keys, containers, damage
