"""Key naming, byte-compatible with bitmapist 3.x.

=========  ======================================  =====================
period     key                                      example
=========  ======================================  =====================
hour       ``{prefix}{name}_{Y}-{M}-{D}-{H}``       ``trackist_active_2026-11-3-7``
day        ``{prefix}{name}_{Y}-{M}-{D}``           ``trackist_active_2026-11-3``
ISO week   ``{prefix}{name}_W{isoY}-{isoW}``        ``trackist_active_W2026-45``
month      ``{prefix}{name}_{Y}-{M}``               ``trackist_active_2026-11``
unique     ``{prefix}{name}_u``                     ``trackist_premium_u``
bit-op     ``{prefix}bitop_{OP}_{k1}-{k2}-...``     ``trackist_bitop_AND_trackist_a_2026-1-...``
=========  ======================================  =====================

A year is the OR of its twelve month keys, named like bitmapist names it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ("MAX_BITOP_KEY_LENGTH", "KeyScheme", "escape_glob")

#: Bit-operation keys longer than this are named by a digest of their bitmapist-style name.
MAX_BITOP_KEY_LENGTH = 512

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_EVENT_SUFFIX = re.compile(r"_(?:u|W\d+-\d+|\d+-\d+(?:-\d+){0,2})\Z")


def escape_glob(text: str) -> str:
    """Escape the Redis glob metacharacters ``* ? [ ] \\`` in *text*."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


@dataclass(frozen=True, slots=True)
class KeyScheme:
    """Names every key the library reads or writes, for one key prefix."""

    prefix: str = "trackist_"

    def event_key(self, name: str, suffix: str) -> str:
        return f"{self.prefix}{name}_{suffix}"

    def unique_key(self, name: str) -> str:
        return f"{self.prefix}{name}_u"

    @property
    def bitop_prefix(self) -> str:
        return f"{self.prefix}bitop_"

    def bitop_key(self, op: str, operand_keys: Sequence[str]) -> str:
        key = f"{self.bitop_prefix}{op}_{'-'.join(operand_keys)}"
        if len(key) <= MAX_BITOP_KEY_LENGTH:
            return key
        digest = hashlib.sha256("\0".join(operand_keys).encode()).hexdigest()
        return f"{self.bitop_prefix}{op}_sha256:{digest}"

    def events_pattern(self, name_prefix: str = "") -> str:
        """SCAN pattern for every key under this prefix whose event name starts with
        *name_prefix* (bit-operation keys included: filter them with :meth:`event_name`)."""
        return f"{escape_glob(self.prefix)}{escape_glob(name_prefix)}*"

    def bitop_pattern(self) -> str:
        return f"{escape_glob(self.bitop_prefix)}*"

    def event_name(self, key: str) -> str | None:
        """The event name of an event *key*, or ``None`` for bit-op and foreign keys."""
        if not key.startswith(self.prefix):
            return None
        rest = key[len(self.prefix) :]
        if rest.startswith("bitop_"):
            return None
        match = _EVENT_SUFFIX.search(rest)
        if match is None or match.start() == 0:
            return None
        return rest[: match.start()]

    def is_bitop_key(self, key: str) -> bool:
        return key.startswith(self.bitop_prefix)
