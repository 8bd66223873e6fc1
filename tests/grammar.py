"""The subset of Redis that bitmapist-server understands, with its argument shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ("violation",)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _bitop(args: list[str]) -> bool:
    op = args[0].upper() if args else ""
    return (op in ("AND", "OR", "XOR") and len(args) >= 3) or (op == "NOT" and len(args) == 3)


def _scan(args: list[str]) -> bool:
    return (
        len(args) == 5
        and _is_int(args[0])
        and args[1].upper() == "MATCH"
        and args[3].upper() == "COUNT"
        and _is_int(args[4])
    )


_RULES: dict[str, Callable[[list[str]], bool]] = {
    "SETBIT": lambda a: len(a) == 3 and _is_int(a[1]) and a[2] in ("0", "1"),
    "GETBIT": lambda a: len(a) == 2 and _is_int(a[1]),
    "BITCOUNT": lambda a: len(a) == 1,
    "BITOP": _bitop,
    "EXISTS": lambda a: len(a) == 1,
    "DEL": lambda a: len(a) >= 1,
    "GET": lambda a: len(a) == 1,
    "SET": lambda a: len(a) == 2,
    "SCAN": _scan,
    "KEYS": lambda a: len(a) == 1,
    "EXPIRE": lambda a: len(a) == 2 and _is_int(a[1]),
    "TTL": lambda a: len(a) == 1,
    "PTTL": lambda a: len(a) == 1,
    "RENAME": lambda a: len(a) == 2,
    "PING": lambda a: len(a) <= 1,
    "SELECT": lambda a: a == ["0"],
    "INFO": lambda a: len(a) <= 1,
    # Only sent when the user configures credentials.
    "AUTH": lambda a: len(a) in (1, 2),
}


def violation(command: Sequence[str]) -> str | None:
    """Why *command* (name and arguments) is outside the grammar, or ``None`` if it is fine."""
    if not command:
        return "empty command"
    name, args = command[0].upper(), list(command[1:])
    rule = _RULES.get(name)
    if rule is None:
        return f"command {name} is not in bitmapist-server's grammar: {list(command)!r}"
    if not rule(args):
        return f"{name} with arguments outside the grammar: {list(command)!r}"
    return None
