# This file is generated from tests/_async/test_server_wire.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""What reaches bitmapist-server, from its own ``-debug`` command log: only its commands, and
``SCAN`` only with the walk's ``*``, ``*/*``, ... patterns (valid for Go's matcher whatever
the names)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bitmapist_async.sync import Bitmapist

from ..conftest import SHARDED_OPTIONS
from ..servers import BitmapistServerProcess, bitmapist_server_binary
from .workload import exercise_public_api

_LOGGED = re.compile(r"conn:\d+\t\[(\w+) ?(.*)\]$")
_WALK = re.compile(r"0 match \*(/\*)* count \d+", re.IGNORECASE)
_SERVER_COMMANDS = {"setbit", "getbit", "bitcount", "bitop", "exists", "del", "get", "set",
                    "scan", "expire", "ping", "info"}  # fmt: skip


@pytest.fixture
def debug_server() -> Iterator[BitmapistServerProcess]:
    binary = bitmapist_server_binary()
    if binary is None:
        pytest.skip("bitmapist-server not found (set BITMAPIST_SERVER_PATH)")
    server = BitmapistServerProcess(binary, debug=True).start()
    yield server
    server.stop()


@pytest.mark.parametrize("layout", ["classic", "sharded"])
def test_only_server_commands_and_walk_patterns(
    debug_server: BitmapistServerProcess, layout: str
) -> None:
    options = SHARDED_OPTIONS if layout == "sharded" else {}
    with Bitmapist(debug_server.url, **options) as bm:
        exercise_public_api(bm)
        bm.ping()
    # The server logs a command before it answers it: the PING's reply means it is logged.
    logged = [
        m.groups() for line in debug_server.output if (m := _LOGGED.search(line.rstrip("\n")))
    ]
    names = {name.lower() for name, _ in logged}
    assert {"setbit", "bitop", "scan", "info", "get"} <= names
    assert names <= _SERVER_COMMANDS
    scans = [args for name, args in logged if name.lower() == "scan"]
    assert scans
    assert all(_WALK.fullmatch(args) for args in scans), scans
