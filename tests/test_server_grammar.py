"""The command grammar of ``tests/grammar.py`` is bitmapist-server's: every example is replayed
against the real server (and the accepted ones against Redis)."""

from __future__ import annotations

import redis

from .grammar import EXAMPLES, go_pattern_ok, violation


def _reply(node: redis.Redis, command: tuple[str, ...]) -> object:
    try:
        return node.execute_command(*command)  # type: ignore[no-untyped-call]
    except redis.ResponseError as exc:
        return exc


def test_grammar_examples_agree_with_the_rules() -> None:
    for command, accepted in EXAMPLES:
        assert (violation(command, redis_only=False) is None) == accepted, command


def test_bitmapist_server_accepts_exactly_the_grammar(
    server_url: str, server_admin: redis.Redis
) -> None:
    for command, accepted in EXAMPLES:
        reply = _reply(server_admin, command)
        assert isinstance(reply, redis.ResponseError) != accepted, (command, reply)


def test_redis_accepts_the_grammar(redis_url: str, admin: redis.Redis) -> None:
    for command, accepted in EXAMPLES:
        # Redis has no INFO keys section (it answers empty); an offset near 2**32 would make it
        # allocate 512 MiB.
        if accepted and command[0] != "INFO" and "4294967295" not in command:
            reply = _reply(admin, command)
            assert not isinstance(reply, redis.ResponseError), (command, reply)


def test_go_patterns(server_url: str, server_admin: redis.Redis) -> None:
    server_admin.setbit("g:a", 1, 1)
    patterns = [
        "*",
        "a[",
        "a[]",
        "a[]]",
        "a[^]",
        "a[^]]",
        "[a-]",
        "[a-b]",
        "[-a]",
        "[\\-]",
        "\\",
        "a\\",
        "\\*",
        "[\\]]",
        "[a-\\]]",
        "é[é]",
        "[!a]",
        "[^",
        "?",
        "[a]b[c",
    ]
    for pattern in patterns:
        reply = _reply(server_admin, ("KEYS", pattern))
        assert isinstance(reply, redis.ResponseError) != go_pattern_ok(pattern), pattern
