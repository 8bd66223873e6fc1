"""bitmapist-server's commands and argument shapes, as the server itself accepts them.

Derived from the server's behaviour (Doist/bitmapist-server at 23c640f, the binary in
``../shared/bin``) and checked against it: ``tests/test_server_grammar.py`` replays every
example of :data:`EXAMPLES` against a real bitmapist-server (accepted ones must get a reply
that is not an error, rejected ones an error) and the accepted ones against Redis too. Where
Redis is stricter (``SCAN``'s ``COUNT`` must be a number there), the grammar is the
intersection: a command in the grammar works on both.

Since the library sends Redis only what this grammar allows (the session's MONITOR check in
``tests/conftest.py``), a command bitmapist-server would refuse fails the Redis run too.

Two things are allowed for Redis's sake. ``SCAN`` with a cursor other than ``0``: the server
refuses it, but it also answers every match at once with cursor ``0``, so a client that follows
cursors never sends it one; only Redis hands out other cursors. And, with
``violation(..., redis_only=True)`` (the MONITOR check on Redis): ``AUTH``, sent only when the
user configures a password, which on bitmapist-server fails at once with
``ServerCapabilityError``; and ``SCAN`` with any Redis glob, since only Redis is sent the
caller's pattern (bitmapist-server gets ``*``, ``*/*``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ("EXAMPLES", "go_pattern_ok", "violation")

_MAX_OFFSET = 2**32 - 1


def _offset(text: str) -> bool:
    """Go's ``strconv.ParseUint(text, 10, 32)``: digits only, at most ``2**32 - 1``."""
    return text.isascii() and text.isdigit() and int(text) <= _MAX_OFFSET


def _int64(text: str) -> bool:
    """Go's ``strconv.ParseInt(text, 10, 64)``: an optional sign, then digits."""
    body = text[1:] if text[:1] in ("+", "-") else text
    return body.isascii() and body.isdigit() and -(2**63) <= int(text) < 2**63


def _escaped(pattern: str, i: int) -> int:
    """Go's ``getEsc``: index past the class character at *i*, or -1 (a bare ``-`` or ``]``,
    a trailing ``\\``, or nothing left after it)."""
    if i >= len(pattern) or pattern[i] in "-]":
        return -1
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return -1
    i += 1
    return i if i < len(pattern) else -1


def _class_end(pattern: str, i: int) -> int:
    """Index past the ``]`` closing the class whose body starts at *i*, or -1 when Go calls
    the class malformed (empty, unclosed, a bad range)."""
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    ranges = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges > 0:
            return i + 1
        i = _escaped(pattern, i)
        if i < 0:
            return -1
        if pattern[i] == "-":
            i = _escaped(pattern, i + 1)
            if i < 0:
                return -1
        ranges += 1


def go_pattern_ok(pattern: str) -> bool:
    """Whether Go's ``filepath.Match`` (Unix) accepts *pattern* (the server's SCAN and KEYS
    answer "syntax error in pattern" otherwise)."""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                return False
            i += 2
        elif char == "[":
            i = _class_end(pattern, i + 1)
            if i < 0:
                return False
        else:
            i += 1
    return True


def _bitop(args: list[str]) -> bool:
    op = args[0].upper() if args else ""
    return (op in ("AND", "OR", "XOR") and len(args) >= 4) or (op == "NOT" and len(args) == 3)


def _scan_shape(args: list[str]) -> bool:
    return (
        len(args) == 5
        and _offset(args[0])
        and args[1].upper() == "MATCH"
        and args[3].upper() == "COUNT"
        and args[4].isdigit()
    )


def _scan(args: list[str]) -> bool:
    return _scan_shape(args) and go_pattern_ok(args[2])


_RULES: dict[str, Callable[[list[str]], bool]] = {
    "SETBIT": lambda a: len(a) == 3 and _offset(a[1]) and a[2] in ("0", "1"),
    "GETBIT": lambda a: len(a) == 2 and _offset(a[1]),
    "BITCOUNT": lambda a: len(a) == 1,
    "BITOP": _bitop,
    "EXISTS": lambda a: len(a) == 1,
    "DEL": lambda a: len(a) >= 1,
    "GET": lambda a: len(a) == 1,
    "SET": lambda a: len(a) == 2,
    "SCAN": _scan,
    "KEYS": lambda a: len(a) == 1 and go_pattern_ok(a[0]),
    "EXPIRE": lambda a: len(a) == 2 and _int64(a[1]),
    "TTL": lambda a: len(a) == 1,
    "PTTL": lambda a: len(a) == 1,
    "RENAME": lambda a: len(a) == 2,
    "PING": lambda a: len(a) <= 1,
    "SELECT": lambda a: a == ["0"],
    "INFO": lambda a: len(a) == 1 and a[0].lower() in ("keys", "commands"),
}

#: ``(command, accepted)`` per rule: what the replay test sends to the real server. Rejected
#: commands only need the server to refuse them (Redis may accept some: ``INFO``).
EXAMPLES: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("SETBIT", "g:a", "7", "1"), True),
    (("SETBIT", "g:a", "4294967295", "0"), True),
    (("SETBIT", "g:a", "4294967296", "1"), False),
    (("SETBIT", "g:a", "-1", "1"), False),
    (("SETBIT", "g:a", "7", "2"), False),
    (("SETBIT", "g:a", "7"), False),
    (("GETBIT", "g:a", "7"), True),
    (("GETBIT", "g:a", "4294967296"), False),
    (("GETBIT", "g:a"), False),
    (("BITCOUNT", "g:a"), True),
    (("BITCOUNT", "g:a", "0", "-1"), False),
    (("BITOP", "AND", "g:d", "g:a", "g:b"), True),
    (("BITOP", "or", "g:d", "g:a", "g:b", "g:c"), True),
    (("BITOP", "XOR", "g:d", "g:a", "g:a"), True),
    (("BITOP", "NOT", "g:d", "g:a"), True),
    (("BITOP", "AND", "g:d", "g:a"), False),
    (("BITOP", "OR", "g:d", "g:a"), False),
    (("BITOP", "XOR", "g:d", "g:a"), False),
    (("BITOP", "NOT", "g:d", "g:a", "g:b"), False),
    (("EXISTS", "g:a"), True),
    (("EXISTS", "g:a", "g:b"), False),
    (("DEL", "g:x", "g:y"), True),
    (("DEL",), False),
    (("GET", "g:a"), True),
    (("SET", "g:s", "\x01"), True),
    (("SET", "g:s", "\x01", "EX", "10"), False),
    (("SCAN", "0", "MATCH", "g:*", "COUNT", "1000"), True),
    (("SCAN", "0", "match", "g:\\[x\\]*", "count", "10"), True),
    (("SCAN", "0", "MATCH", "g:[0-9]*", "COUNT", "10"), True),
    (("SCAN", "0", "MATCH", "g:[^a]", "COUNT", "10"), True),
    (("SCAN", "0", "MATCH", "g:[", "COUNT", "10"), False),
    (("SCAN", "0", "MATCH", "g:[]", "COUNT", "10"), False),
    (("SCAN", "0", "MATCH", "g:\\", "COUNT", "10"), False),
    (("SCAN", "0", "MATCH", "g:*"), False),
    (("SCAN", "0"), False),
    (("KEYS", "g:*"), True),
    (("KEYS", "g:[a-"), False),
    (("EXPIRE", "g:a", "60"), True),
    (("EXPIRE", "g:a", "60", "NX"), False),
    (("EXPIRE", "g:a", "soon"), False),
    (("TTL", "g:a"), True),
    (("PTTL", "g:a"), True),
    (("RENAME", "g:a", "g:b"), True),
    (("PING",), True),
    (("PING", "hello"), True),
    (("PING", "a", "b"), False),
    (("SELECT", "0"), True),
    (("SELECT", "1"), False),
    (("INFO", "keys"), True),
    (("INFO",), False),
    (("INFO", "server"), False),
    (("AUTH", "secret"), False),
    (("AUTH", "user", "secret"), False),
    (("MSET", "g:a", "1", "g:b", "2"), False),
    (("RPUSH", "g:l", "x"), False),
    (("FLUSHDB",), False),
    (("CLIENT", "SETINFO", "LIB-NAME", "x"), False),
    (("HELLO", "3"), False),
    (("STRLEN", "g:a"), False),
    (("BITPOS", "g:a", "1"), False),
)


#: Commands the library sends to Redis only, for a configuration bitmapist-server refuses.
#: On Redis, ``SCAN`` carries the caller's Redis glob as it is (any pattern); on
#: bitmapist-server the library only ever sends ``*``, ``*/*``, ... (see ``_async/keyscan.py``).
_REDIS_ONLY: dict[str, Callable[[list[str]], bool]] = {
    "AUTH": lambda a: len(a) in (1, 2),
    "STRLEN": lambda a: len(a) == 1,  # compute="auto"'s size probe (not on bitmapist-server)
    "SCAN": _scan_shape,
}


def violation(command: Sequence[str], *, redis_only: bool = True) -> str | None:
    """Why *command* (name and arguments) is outside the grammar, or ``None`` if it is fine.

    :param redis_only: also accept what is sent to Redis only (``AUTH``).
    """
    if not command:
        return "empty command"
    name, args = command[0].upper(), list(command[1:])
    rule = _RULES.get(name)
    loose = _REDIS_ONLY.get(name) if redis_only else None
    if rule is None and loose is None:
        return f"command {name} is not in bitmapist-server's grammar: {list(command)!r}"
    if not ((rule is not None and rule(args)) or (loose is not None and loose(args))):
        return f"{name} with arguments outside the grammar: {list(command)!r}"
    return None
