# This file is generated from bitmapist_async/_async/keyscan.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Listing keys by a Redis glob on Redis and on bitmapist-server.

Redis: ``SCAN cursor MATCH pattern COUNT n``, following the cursor. bitmapist-server answers
every match at once (cursor ``0``) but matches with Go's ``filepath.Match``, where ``*`` and
``?`` never match ``/`` and ``[`` may be a syntax error: there, the scan walks the key space by
the number of ``/`` in a key (``*``, ``*/*``, ``*/*/*``, ...; each level one round trip that
also reads ``INFO keys``) until it has seen as many keys as the server holds, and filters them
with Redis's own matcher (``_core/keyglob.py``). Which server it is, ``INFO keys`` tells once
per scanner (Redis answers it with an empty section, or refuses it to an ACL user without
``INFO``: both mean Redis).

Invariant: the patterns sent to bitmapist-server contain only ``*`` and ``/``, so no key name
can make them invalid there.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from .._core.keyglob import glob_match, key_bytes

__all__ = ("KeyScanner", "MAX_SLASH_LEVELS")

_SCAN_COUNT = 1000
#: Levels a walk goes through at most (only reached while other clients delete keys under it).
MAX_SLASH_LEVELS = 1024


class KeyScanner:
    """Lists the keys matching a Redis glob on one ``redis.Redis`` client."""

    def __init__(self) -> None:
        self._server: bool | None = None

    def is_bitmapist_server(self, client: Any) -> bool:
        """Whether *client* talks to bitmapist-server (asked once, then remembered)."""
        if self._server is None:
            try:
                info = client.info("keys")
            except ResponseError:  # a Redis ACL user without INFO: bitmapist-server allows it
                info = {}
            self._server = "keys_total" in info
        return self._server

    def scan(self, client: Any, pattern: str) -> set[bytes]:
        """Every key matching the Redis glob *pattern*, as bytes."""
        if not self.is_bitmapist_server(client):
            found: set[bytes] = set()
            for key in client.scan_iter(match=pattern, count=_SCAN_COUNT):
                found.add(key if isinstance(key, bytes) else key_bytes(key))
            return found
        wanted = key_bytes(pattern)
        return {key for key in walk_keys(client) if glob_match(wanted, key)}


def walk_keys(client: Any) -> set[bytes]:
    """Every key of a bitmapist-server: ``*``, ``*/*``, ... until ``INFO keys`` is reached."""
    seen: set[bytes] = set()
    level = "*"
    for _ in range(MAX_SLASH_LEVELS):
        with client.pipeline(transaction=False) as pipe:
            pipe.scan(0, match=level, count=_SCAN_COUNT)
            pipe.info("keys")
            (_, keys), info = pipe.execute()
        seen.update(k if isinstance(k, bytes) else key_bytes(k) for k in keys)
        if len(seen) >= int(info.get("keys_total", 0)):
            break
        level += "/*"
    return seen
