"""The MONITOR line parser behind the grammar check copes with binary values."""

from __future__ import annotations

from ..conftest import parse_monitor_line
from ..grammar import violation


def test_binary_values_stay_one_argument() -> None:
    line = (
        '1764300000.123456 [0 127.0.0.1:50000] "SET" "trackist_bitop_merge_ab_0" '
        '"\\x00 \\"q\\" \\\\\\" ,x"'
    )
    parsed = parse_monitor_line(line)
    assert parsed is not None
    client, args = parsed
    assert client == "127.0.0.1:50000"
    assert args[:2] == ["SET", "trackist_bitop_merge_ab_0"]
    assert len(args) == 3
    assert violation(args) is None


def test_commands_keep_their_arguments() -> None:
    parsed = parse_monitor_line('1.5 [0 unix:/tmp/r.sock] "SETBIT" "k" "7" "1"')
    assert parsed == ("unix:/tmp/r.sock", ["SETBIT", "k", "7", "1"])
    assert parse_monitor_line("OK") is None
