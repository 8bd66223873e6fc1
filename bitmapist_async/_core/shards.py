"""The ``sharded`` key layout: id ranges, physical key names and glob translation (no I/O).

Bit *n* of the logical key ``{prefix}{rest}`` (for example ``trackist_active_2026-11``) lives in
the physical key ``{prefix}{s}{rest}`` with the shard number ``s = n >> shard_bits`` written in
braces, at bit offset ``n & (2**shard_bits - 1)``::

    trackist_{2861}active_2026-11      ids [2861 * 2**20, 2862 * 2**20) of trackist_active_2026-11

The braces are a Redis Cluster hash tag: every event, period and temporary bit-operation key of
one id range hashes to the same slot, so ``BITOP`` runs there; different ranges spread over the
nodes. The prefix comes first, so ``{prefix}*`` still covers every key of a client (ACL key
patterns, ``SCAN``, ``delete_all_events``). A key prefix may therefore not contain braces.

Two metadata keys per prefix (hash tag ``{shards}``) are never deleted by the library:

* ``{prefix}{shards}``: a bitmap with bit *s* set once shard *s* has been written (the shard
  index: queries read it to know which shards exist, so they never ``SCAN``);
* ``{prefix}{shards}layout``: ``shard_bits`` as decimal text, checked before the first write, so
  clients with different ``shard_bits`` cannot corrupt each other's data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .keys import escape_glob

__all__ = (
    "DEFAULT_SHARD_BITS",
    "LAYOUTS",
    "MAX_SHARD_BITS",
    "MIN_SHARD_BITS",
    "Layout",
    "ShardLayout",
    "check_layout",
    "check_shard_bits",
)

Layout: TypeAlias = Literal["classic", "sharded"]
LAYOUTS: tuple[Layout, ...] = ("classic", "sharded")

#: 2**20 = 1,048,576 ids (128 KiB of bitmap) per shard.
DEFAULT_SHARD_BITS = 20
#: Smallest shard: 256 ids (32 bytes). Smaller shards only multiply commands.
MIN_SHARD_BITS = 8
#: One shard holds every id in [0, 2**32): the classic bitmap under a hash tag.
MAX_SHARD_BITS = 32

_SHARD_TAG = re.compile(r"\{(0|[1-9][0-9]{0,9})\}")


def check_layout(layout: object) -> Layout:
    """Return *layout* if it names a key layout.

    :raises TypeError: *layout* is not a ``str``.
    :raises ValueError: *layout* is not ``"classic"`` or ``"sharded"``.
    """
    if not isinstance(layout, str):
        raise TypeError(f"layout must be a str, got {layout!r}")
    if layout == "classic":
        return "classic"
    if layout == "sharded":
        return "sharded"
    raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")


def check_shard_bits(bits: object) -> int:
    """Return *bits* if it is a valid ``shard_bits``.

    :raises TypeError: *bits* is not an ``int``.
    :raises ValueError: *bits* is outside ``[8, 32]``.
    """
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise TypeError(f"shard_bits must be an int, got {bits!r}")
    if not MIN_SHARD_BITS <= bits <= MAX_SHARD_BITS:
        raise ValueError(
            f"shard_bits must be in [{MIN_SHARD_BITS}, {MAX_SHARD_BITS}], got {bits!r}"
        )
    return bits


@dataclass(frozen=True, slots=True)
class ShardLayout:
    """Key names and id arithmetic of the sharded layout for one key prefix.

    :raises ValueError: the prefix contains ``{`` or ``}`` (it would move the hash tag).
    """

    prefix: str
    shard_bits: int = DEFAULT_SHARD_BITS

    def __post_init__(self) -> None:
        check_shard_bits(self.shard_bits)
        if "{" in self.prefix or "}" in self.prefix:
            raise ValueError(
                f"key_prefix must not contain '{{' or '}}' with layout='sharded' (the shard "
                f"number is the key's hash tag), got {self.prefix!r}"
            )

    # -- sizes -----------------------------------------------------------------------------

    @property
    def shard_ids(self) -> int:
        """Ids (bits) per shard."""
        return 1 << self.shard_bits

    @property
    def shard_bytes(self) -> int:
        """Bytes of a full shard bitmap."""
        return 1 << (self.shard_bits - 3)

    @property
    def shard_count(self) -> int:
        """Number of possible shards for ids in ``[0, 2**32)``."""
        return 1 << (32 - self.shard_bits)

    def locate(self, uid: int) -> tuple[int, int]:
        """``(shard, bit offset inside the shard)`` of *uid*."""
        return uid >> self.shard_bits, uid & (self.shard_ids - 1)

    # -- key names -------------------------------------------------------------------------

    @property
    def index_key(self) -> str:
        """The shard index: bit *s* is set once shard *s* has been written."""
        return f"{self.prefix}{{shards}}"

    @property
    def layout_key(self) -> str:
        """Holds ``shard_bits`` as decimal text."""
        return f"{self.prefix}{{shards}}layout"

    def key(self, logical: str, shard: int) -> str:
        """The physical key of *logical* in *shard*.

        :raises ValueError: *logical* is not under the key prefix.
        """
        if not logical.startswith(self.prefix):
            raise ValueError(f"key {logical!r} is not under the key prefix {self.prefix!r}")
        return f"{self.prefix}{{{shard}}}{logical[len(self.prefix) :]}"

    def parse(self, physical: str) -> tuple[int, str] | None:
        """``(shard, logical key)`` of a physical key, or ``None`` for any other key."""
        if not physical.startswith(self.prefix):
            return None
        match = _SHARD_TAG.match(physical, len(self.prefix))
        if match is None:
            return None
        shard = int(match.group(1))
        if shard >= self.shard_count:
            return None
        return shard, self.prefix + physical[match.end() :]

    def scan_pattern(self, logical_pattern: str) -> str:
        """A ``SCAN MATCH`` pattern for the physical keys of the logical keys matching
        *logical_pattern* (a superset: filter with :meth:`parse` and ``keyglob.glob_match``).

        :raises ValueError: the pattern does not start with the escaped key prefix.
        """
        head = escape_glob(self.prefix)
        if not logical_pattern.startswith(head):
            raise ValueError(
                f"pattern {logical_pattern!r} is not under the key prefix {self.prefix!r}"
            )
        return f"{head}{{[0-9]*}}{logical_pattern[len(head) :]}"

    # -- bitmaps ---------------------------------------------------------------------------

    def split(self, data: bytes) -> list[tuple[int, bytes]]:
        """Cut a logical bitmap into ``(shard, bytes)`` slices of at most a shard each, in
        order (the last slice keeps its exact length: it defines the logical length)."""
        size = self.shard_bytes
        view = memoryview(data)
        starts = range(0, len(data), size)
        return [(start // size, bytes(view[start : start + size])) for start in starts]

    def assemble(self, parts: Iterable[tuple[int, bytes]]) -> bytes:
        """The logical bitmap from ``(shard, bytes)`` parts: each placed at its shard's offset,
        zeros between them; as long as the classic layout's bitmap would be."""
        placed = [(shard * self.shard_bytes, data) for shard, data in parts if data]
        if not placed:
            return b""
        out = bytearray(max(offset + len(data) for offset, data in placed))
        for offset, data in placed:
            out[offset : offset + len(data)] = data
        return bytes(out)
