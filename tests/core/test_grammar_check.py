"""The test harness's own MONITOR parsing and grammar check."""

from __future__ import annotations

from ..conftest import parse_monitor_line
from ..grammar import violation


def test_monitor_lines_keep_exact_arguments() -> None:
    line = '1.5 [0 127.0.0.1:5555] "SETBIT" "trackist_<img src=x onerror=\\"a(1)\\">_u" "1" "1"'
    assert parse_monitor_line(line) == (
        "127.0.0.1:5555",
        ["SETBIT", 'trackist_<img src=x onerror="a(1)">_u', "1", "1"],
    )
    binary = '1.5 [0 [::1]:7] "SET" "k" "\\x80\\x00a\\\\b\\n"'
    assert parse_monitor_line(binary) == ("[::1]:7", ["SET", "k", "\x80\x00a\\b\n"])
    assert parse_monitor_line("OK") is None


def test_grammar() -> None:
    assert violation(["SETBIT", "k", "7", "1"]) is None
    assert violation(["SETBIT", "k", "7", "2"]) is not None
    assert violation(["BITCOUNT", "k", "0", "-1"]) is not None
    assert violation(["BITOP", "NOT", "d", "a"]) is None
    assert violation(["BITOP", "NOT", "d", "a", "b"]) is not None
    assert violation(["SCAN", "0", "MATCH", "x*", "COUNT", "10"]) is None
    assert violation(["SCAN", "0"]) is not None
    assert violation(["EXISTS", "a", "b"]) is not None
    assert violation(["SELECT", "1"]) is not None
    assert violation(["MULTI"]) is not None
    assert violation(["FLUSHDB"]) is not None
