"""Moving bitmaps between stores, directly or through a dump file (``export``/``import-store``).

A *dump* is JSON Lines: a header ``{"format": "bitmapist-async-dump", "version": 1}``, one line
per key ``{"key": ..., "nbytes": ..., "roaring": base64}`` (the ids in the portable roaring
format that CRoaring, Java and Go roaring read; ``nbytes`` is the Redis string length, which
``BITOP NOT`` depends on), and a trailer ``{"end": true, "keys": N}`` so a truncated dump is
refused. Keys are copied exactly: same ids, same byte length, no TTL.

Every copy is verified: after writing a key, the tool reads it back from the target and compares
ids and byte length with what it wrote (on bitmapist-server, which keeps no byte lengths, ids
only).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from pyroaring import BitMap

from .._async.client import open_storage
from .._async.embedded_storage import EmbeddedStorage
from .._async.redis_storage import RedisStorage
from .._async.storage import AsyncStorage
from .._core.bitstrings import BitString
from .._core.errors import BitmapistError
from .._core.failures import storage_failure, timed_out
from .._core.plan import Query
from .._core.roaring import from_redis_bytes, to_redis_bytes
from .._core.url import EMBEDDED_SCHEMES, REDIS_SCHEMES
from .._deadline import AsyncDeadline

__all__ = (
    "DUMP_FORMAT",
    "CopyStats",
    "DumpError",
    "Entry",
    "ROUND_TRIP_SECONDS",
    "add_timeout_option",
    "guarded",
    "round_trip_seconds",
    "OnCopied",
    "VerificationError",
    "copy_entries",
    "is_store_url",
    "list_keys",
    "open_store",
    "read_dump",
    "read_store",
    "write_dump",
)

_T = TypeVar("_T")

#: Seconds one storage round trip of a CLI command may take by default (one bitmap can be
#: 375 MiB); ``--timeout`` sets :data:`round_trip_seconds` for the command's run.
ROUND_TRIP_SECONDS = 120.0
round_trip_seconds: ContextVar[float] = ContextVar("round_trip_seconds", default=ROUND_TRIP_SECONDS)

DUMP_FORMAT = "bitmapist-async-dump"
_DUMP_VERSION = 1
#: Temporary bit-operation keys (``{prefix}bitop_{OP}_...``) are skipped unless asked for.
_BITOP_KEY = re.compile(r"bitop_(?:AND|OR|XOR|NOT)_")
_TEMP_PREFIX = "bitmapist-import-tmp:"


class DumpError(ValueError):
    """A dump file that is not one, is of an unknown version, or is truncated."""


class VerificationError(RuntimeError):
    """A key read back from the target differs from what was written."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One key: its ids and its Redis byte length."""

    key: str
    value: BitString


@dataclass
class CopyStats:
    keys: int = 0
    ids: int = 0
    verified: int = 0
    #: Redis bytes of the keys copied.
    nbytes: int = 0


async def guarded(storage: AsyncStorage, call: Coroutine[Any, Any, _T]) -> _T:
    """Await *call* on *storage* within :data:`round_trip_seconds`, any failure of the layer
    below raised as the library's :class:`~bitmapist_async.StorageError` naming *storage*."""
    seconds = round_trip_seconds.get()
    try:
        return await AsyncDeadline.run(seconds, call)
    except Exception as exc:
        target = storage.describe()
        if isinstance(exc, TimeoutError) and not isinstance(exc, BitmapistError):
            raise timed_out(target, seconds) from exc
        failure = storage_failure(exc, target)
        if failure is None:
            raise
        raise failure from exc


def add_timeout_option(parser: Any) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=ROUND_TRIP_SECONDS,
        metavar="SECONDS",
        help=f"how long one storage round trip may take (default {ROUND_TRIP_SECONDS:g})",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def is_store_url(text: str) -> bool:
    """Whether *text* names a store (``redis://``, ``file:``, ...) rather than a dump file."""
    scheme, sep, _ = text.partition(":")
    return bool(sep) and scheme.lower() in (*REDIS_SCHEMES, *EMBEDDED_SCHEMES)


def open_store(url: str) -> AsyncStorage:
    """The storage behind *url* (lazy: no I/O yet)."""
    return open_storage(url, 60, {})


async def _read_value(storage: AsyncStorage, key: str) -> BitString | None:
    if isinstance(storage, EmbeddedStorage):
        (value,) = await guarded(storage, storage.read_bitstrings([key]))
        return value
    (data,) = await guarded(storage, storage.evaluate([], [Query("get", key)]))
    assert isinstance(data, bytes)
    return BitString(from_redis_bytes(data), len(data)) if data else None


async def _write_value(storage: AsyncStorage, key: str, value: BitString) -> None:
    if isinstance(storage, EmbeddedStorage):
        await guarded(storage, storage.replace_bitstrings([(key, value)]))
        return
    # DEL, then an OR into the missing key: exactly the dumped bytes (seam operations only).
    await guarded(storage, storage.delete([key]))
    data = to_redis_bytes(value.bits, value.nbytes)
    await guarded(storage, storage.merge_bitmaps([(key, data)], temp_prefix=_TEMP_PREFIX))


async def list_keys(
    storage: AsyncStorage, pattern: str = "*", *, include_bitop_keys: bool = False
) -> list[str]:
    """The keys matching *pattern*, in key order (temporary bit-op keys left out unless asked)."""
    keys = sorted(await guarded(storage, storage.scan(pattern)))
    return [k for k in keys if include_bitop_keys or not _BITOP_KEY.search(k)]


async def read_store(storage: AsyncStorage, keys: list[str]) -> AsyncIterator[Entry]:
    """The entries of *keys* (from :func:`list_keys`), one at a time."""
    for key in keys:
        value = await _read_value(storage, key)
        if value is not None:  # deleted since the scan
            yield Entry(key, value)


#: Called after each key is written and verified, with the running totals.
OnCopied = Callable[["CopyStats"], None]


async def copy_entries(
    entries: AsyncIterator[Entry] | Iterator[Entry],
    target: AsyncStorage,
    on_copied: OnCopied | None = None,
) -> CopyStats:
    """Write every entry into *target*, reading each back to verify it.

    :raises VerificationError: a key read back differs from what was written.
    """
    stats = CopyStats()
    # bitmapist-server keeps ids, not byte lengths (GET stops at the largest id; a key without
    # ids reads as empty): there only the ids are compared.
    lengths = not (isinstance(target, RedisStorage) and await target.is_bitmapist_server())
    async for entry in _aiter(entries):
        await _write_value(target, entry.key, entry.value)
        stats.keys += 1
        stats.ids += len(entry.value.bits)
        back = await _read_value(target, entry.key)
        if lengths:
            same = back is not None and back == entry.value
        else:
            same = (BitMap() if back is None else back.bits) == entry.value.bits
        if not same:
            raise VerificationError(f"verification failed: {entry.key!r} differs after writing it")
        stats.verified += 1
        stats.nbytes += entry.value.nbytes
        if on_copied is not None:
            on_copied(stats)
    return stats


async def _aiter(entries: AsyncIterator[Entry] | Iterator[Entry]) -> AsyncIterator[Entry]:
    if isinstance(entries, Iterator):
        for entry in entries:
            yield entry
    else:
        async for entry in entries:
            yield entry


async def write_dump(
    entries: AsyncIterator[Entry], out: IO[str], on_copied: OnCopied | None = None
) -> CopyStats:
    """Write *entries* as a dump to *out*; every line is checked by decoding it again."""
    stats = CopyStats()
    out.write(json.dumps({"format": DUMP_FORMAT, "version": _DUMP_VERSION}) + "\n")
    async for entry in entries:
        line = json.dumps(
            {
                "key": entry.key,
                "nbytes": entry.value.nbytes,
                "roaring": base64.b64encode(entry.value.bits.serialize()).decode("ascii"),
            },
            ensure_ascii=True,
        )
        back = _decode_entry(json.loads(line), stats.keys + 2)
        if back.key != entry.key or back.value != entry.value:
            raise VerificationError(f"verification failed: {entry.key!r} does not round-trip")
        out.write(line + "\n")
        stats.keys += 1
        stats.ids += len(entry.value.bits)
        stats.verified += 1
        stats.nbytes += entry.value.nbytes
        if on_copied is not None:
            on_copied(stats)
    out.write(json.dumps({"end": True, "keys": stats.keys}) + "\n")
    return stats


def _decode_entry(record: Any, line_number: int) -> Entry:
    try:
        key, nbytes, blob = record["key"], record["nbytes"], record["roaring"]
        bits = BitMap.deserialize(base64.b64decode(blob, validate=True))
    except (KeyError, TypeError, ValueError) as exc:
        raise DumpError(f"line {line_number}: not a dump entry ({exc})") from exc
    if not isinstance(key, str) or not isinstance(nbytes, int) or nbytes < 1:
        raise DumpError(f"line {line_number}: bad key or nbytes")
    if bits and bits.max() >= 8 * nbytes:
        raise DumpError(f"line {line_number}: id {bits.max()} beyond {nbytes} bytes")
    return Entry(key, BitString(bits, nbytes))


def read_dump(lines: IO[str]) -> Iterator[Entry]:
    """The entries of a dump, checked line by line.

    :raises DumpError: not a dump, an unknown version, a bad line, or no trailer (truncated).
    """
    header = lines.readline()
    try:
        head = json.loads(header)
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != DUMP_FORMAT:
        raise DumpError("not a bitmapist-async dump (no header line)")
    if head.get("version") != _DUMP_VERSION:
        raise DumpError(f"dump version {head.get('version')!r} is not supported")
    count = 0
    for number, line in enumerate(lines, start=2):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DumpError(f"line {number}: not JSON ({exc})") from exc
        if isinstance(record, dict) and record.get("end") is True:
            if record.get("keys") != count:
                raise DumpError(f"trailer says {record.get('keys')} keys, the dump has {count}")
            return
        yield _decode_entry(record, number)
        count += 1
    raise DumpError(f"truncated dump: no trailer after {count} keys")
