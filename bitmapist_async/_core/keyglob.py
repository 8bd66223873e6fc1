"""Redis glob patterns (``SCAN ... MATCH``, ``KEYS``), matched exactly the way Redis matches them.

Storage backends that are not Redis use :func:`glob_match` so that ``scan`` finds the same keys
on every backend. The rules, including the corner cases, are those of Redis 7's
``stringmatchlen`` (case-sensitive), on the UTF-8 bytes of key and pattern:

* ``*`` any run of bytes, ``?`` one byte, any other byte itself; ``\\x`` is ``x`` literally
  (a trailing lone ``\\`` is a literal backslash).
* ``[...]`` one byte of a class; ``[^...]`` one byte not in it. Inside a class ``\\x`` is ``x``,
  ``a-z`` a range (reversed bounds are swapped; bounds compare as *signed* chars, as on x86-64),
  and ``]`` closes it. An unclosed class runs to the end of the pattern. ``-`` right before the
  closing ``]`` is a range bound too: ``[a-]`` is the range from ``]`` to ``a``, and the class
  then continues to the next ``]``.
* After the string is exhausted, trailing ``*`` still match the empty rest.
* A pattern that needs more than 1000 nested ``*`` never matches (Redis's recursion limit).

Matching runs in ``O(len(pattern) * len(key))`` like Redis's (it only ever backtracks to the
latest ``*``, which is what Redis's ``skipLongerMatches`` amounts to).
"""

from __future__ import annotations

__all__ = ("glob_literal_prefix", "glob_match", "key_bytes")

_STAR = ord("*")
_QUESTION = ord("?")
_OPEN = ord("[")
_CLOSE = ord("]")
_CARET = ord("^")
_DASH = ord("-")
_BACKSLASH = ord("\\")
_MAX_NESTING = 1000


def key_bytes(text: str) -> bytes:
    """The bytes Redis sees for *text* (UTF-8; lone surrogates from undecodable keys kept)."""
    return text.encode("utf-8", "surrogateescape")


def _signed(byte: int) -> int:
    return byte - 256 if byte >= 128 else byte


def _match_class(pattern: bytes, pi: int, byte: int) -> tuple[int, bool]:
    """Match *byte* against the class whose body starts at *pi* (just after ``[``).

    :return: the index of the class's last pattern byte (its ``]``, or the pattern's last byte
        when unclosed) and whether *byte* matched.
    """
    end = len(pattern)
    negate = pi < end and pattern[pi] == _CARET
    if negate:
        pi += 1
    matched = False
    while True:
        if pi < end and pattern[pi] == _BACKSLASH and end - pi >= 2:
            pi += 1
            matched = matched or pattern[pi] == byte
        elif pi < end and pattern[pi] == _CLOSE:
            break
        elif pi >= end:
            pi -= 1
            break
        elif end - pi >= 3 and pattern[pi + 1] == _DASH:
            low, high = _signed(pattern[pi]), _signed(pattern[pi + 2])
            if low > high:
                low, high = high, low
            matched = matched or low <= _signed(byte) <= high
            pi += 2
        else:
            matched = matched or pattern[pi] == byte
        pi += 1
    return pi, matched != negate


def _step(pattern: bytes, pi: int, key: bytes, ki: int) -> tuple[int, int] | None:
    """Match the single-byte element (not ``*``) at ``pattern[pi]`` against ``key[ki]``.

    :return: the next ``(pi, ki)``, or ``None`` on a mismatch.
    """
    byte = pattern[pi]
    if byte == _OPEN:
        pi, matched = _match_class(pattern, pi + 1, key[ki])
        if not matched:
            return None
    elif byte != _QUESTION:
        if byte == _BACKSLASH and len(pattern) - pi >= 2:
            pi += 1
        if pattern[pi] != key[ki]:
            return None
    return pi + 1, ki + 1


def glob_match(pattern: bytes, key: bytes) -> bool:
    """Whether *key* matches the Redis glob *pattern* (both as bytes, see :func:`key_bytes`)."""
    plen, klen = len(pattern), len(key)
    pi = ki = 0
    star_pi = -1  # pattern index just after the latest '*', or -1
    star_ki = 0  # key index the latest '*' is currently trying
    nesting = 0
    while True:
        ok = True
        while pi < plen and ki < klen:
            if pattern[pi] == _STAR:
                while pi + 1 < plen and pattern[pi + 1] == _STAR:
                    pi += 1
                if pi + 1 == plen:
                    return True
                nesting += 1
                if nesting > _MAX_NESTING:
                    return False
                pi += 1
                star_pi, star_ki = pi, ki
                continue
            following = _step(pattern, pi, key, ki)
            if following is None:
                ok = False
                break
            pi, ki = following
            if ki == klen:
                while pi < plen and pattern[pi] == _STAR:
                    pi += 1
        if ok and pi == plen and ki == klen:
            return True
        # The attempt after the latest '*' failed: let that '*' swallow one more byte.
        star_ki += 1
        if star_pi < 0 or star_ki >= klen:
            return False
        pi, ki = star_pi, star_ki


def glob_literal_prefix(pattern: bytes) -> bytes:
    """The bytes every match of *pattern* starts with (for an index range scan)."""
    out = bytearray()
    pi = 0
    while pi < len(pattern):
        byte = pattern[pi]
        if byte in (_STAR, _QUESTION, _OPEN):
            break
        if byte == _BACKSLASH:
            if pi + 1 >= len(pattern):
                out.append(byte)
                break
            pi += 1
        out.append(pattern[pi])
        pi += 1
    return bytes(out)
