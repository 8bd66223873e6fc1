"""What an embedded-store check finds, and the per-key checks, without I/O.

:mod:`bitmapist_async._sqlite_store` reads the rows (``SqliteBitmapStore.check``); this module
decides what is wrong with them. The reads that answer queries trust two things this checks:
each container row decodes to exactly its stored cardinality (``count()`` sums the stored
cardinalities, ``ids()`` decodes the payloads), and every id fits in the key's byte length.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from .roaring import CONTAINER_BITS, ContainerRow, container_problems, join

_MAX_ARRAY = 4096  # containers with more ids are bitsets

__all__ = ("StoreCheckReport", "StoreDamage", "key_problems")


@dataclass(frozen=True, slots=True)
class StoreDamage:
    """The problems found in one key (``key`` is ``None`` for damage that belongs to no key:
    SQLite's own integrity check, containers of no key, the store's metadata)."""

    key: str | None
    problems: tuple[str, ...]

    def __str__(self) -> str:
        where = "the store" if self.key is None else f"key {self.key!r}"
        return f"{where}: {'; '.join(self.problems)}"


@dataclass(frozen=True, slots=True)
class StoreCheckReport:
    """The result of checking an embedded store (``EmbeddedStorage.check()``)."""

    #: The URL of the store checked.
    url: str
    #: Keys and container rows read.
    keys: int
    containers: int
    #: One entry per damaged key, in key order; empty when the store is sound.
    damage: tuple[StoreDamage, ...]

    @property
    def ok(self) -> bool:
        return not self.damage


def key_problems(
    nbytes: object, expires: object, chunks: Sequence[tuple[object, object, object, object]]
) -> list[str]:
    """What is wrong with one key: its byte length, its expiry, and its container rows
    ``(key, cardinality, run, payload)`` (sorted by container key)."""
    problems: list[str] = []
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
        return [f"byte length {nbytes!r} is not an int >= 0"]
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, (int, float))):
        problems.append(f"expiry {expires!r} is not a Unix time")
    sound: list[ContainerRow] = []
    for chunk in chunks:
        hi = chunk[0]
        found = container_problems(chunk, decode=False)
        if found:
            problems.extend(f"container {hi!r}: {p}" for p in found)
            continue
        assert isinstance(hi, int)
        sound.append(chunk)  # type: ignore[arg-type]
        # The highest id the container can hold must fit in the key's bytes (GET builds them).
        top = hi * CONTAINER_BITS + _highest(chunk)
        if top >= 8 * nbytes:
            problems.append(f"container {hi}: id {top} does not fit in {nbytes} bytes")
    problems.extend(_decode_problems(sound))
    return problems


def _decode_problems(rows: list[ContainerRow]) -> list[str]:
    """Decode the structurally sound rows with pyroaring, all at once (one by one only to find
    which fails)."""
    try:
        if len(join(rows)) == sum(row[1] for row in rows):
            return []
    except ValueError:
        pass
    return [f"container {row[0]}: {problem}" for row in rows for problem in container_problems(row)]


def _highest(chunk: tuple[object, object, object, object]) -> int:
    """The highest low 16 bits in a sound container row (read from its payload)."""
    _, card, run, payload = chunk
    assert isinstance(card, int)
    assert isinstance(payload, bytes)
    if run:
        start, length = struct.unpack_from("<HH", payload, len(payload) - 4)
        return int(start + length)
    if card > _MAX_ARRAY:
        return int.from_bytes(payload, "little").bit_length() - 1
    (last,) = struct.unpack_from("<H", payload, len(payload) - 2)
    return int(last)
