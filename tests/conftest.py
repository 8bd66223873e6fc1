"""Session-wide test fixtures: a private Redis, an admin connection, and the command log.

Where the suite's Redis comes from, in order:

1. ``BITMAPIST_TEST_REDIS_URL``: an external Redis-compatible server. The suite deletes every
   key in that database between tests, so point it at a dedicated, disposable database. Tests
   that need a private redis-server (MONITOR, restarts) skip with a reason. bitmapist-server
   needs no such setup: it is a backend of its own (below).
2. A private ``redis-server`` started on a free loopback port (binary from
   ``BITMAPIST_REDIS_SERVER``, else ``PATH``).
3. Where neither works but a Docker engine does: a testcontainers Redis.

Every command any test sends to the private server is recorded with MONITOR; at the end of the
session, anything outside bitmapist-server's grammar fails the run.

Backends are a test dimension: a test that takes ``layout_target`` (or ``bm``) runs once per
backend of :data:`LAYOUT_TARGETS`, its id naming the backend (``-k bitmapist-server`` selects
the bitmapist-server runs). bitmapist-server comes from ``BITMAPIST_SERVER_PATH``, else
``PATH``; a session starts one on a free port with a fresh database file. A backend whose
binary is missing is skipped with a reason.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from bitmapist_async._async.redis_storage import redis_connect_kwargs
from bitmapist_async._core.keyglob import glob_match, key_bytes

from .cluster import RedisClusterProcess, redis_cli_binary
from .grammar import violation
from .legacy import legacy_python, run_legacy
from .servers import (
    BitmapistServerProcess,
    RedisProcess,
    bitmapist_server_binary,
    redis_server_binary,
)


@dataclass
class RedisTarget:
    url: str
    process: RedisProcess | None = None
    external: bool = False
    cleanup: Any = None

    def require_private(self) -> RedisProcess:
        if self.process is None:
            pytest.skip("needs a private redis-server the suite started itself")
        return self.process


@dataclass
class CommandLog:
    """Commands seen by MONITOR, minus the admin connection's own."""

    admin_addresses: set[str] = field(default_factory=set)
    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.seen = threading.Condition(self.lock)

    def add(self, address: str, command: list[str]) -> None:
        with self.seen:
            self.commands.append((address, command))
            self.seen.notify_all()

    exempt: list[tuple[int, int]] = field(default_factory=list)

    @contextmanager
    def exempted(self, admin: redis.Redis) -> Iterator[None]:
        """Leave the commands sent inside the block out of the grammar check (for a baseline
        such as bitmapist 3.x, which uses MULTI/EXEC); nothing else may run meanwhile."""
        start = self.mark()
        yield
        marker = f"exempt-end-{start}"
        admin.echo(marker)
        self.wait_for(["ECHO", marker], start)
        self.exempt.append((start, self.mark()))

    def mark(self) -> int:
        with self.lock:
            return len(self.commands)

    def since(self, start: int) -> list[list[str]]:
        with self.lock:
            return [c for a, c in self.commands[start:] if a not in self.admin_addresses]

    def wait_for(
        self, command: list[str], start: int = 0, timeout: float = 30.0
    ) -> list[list[str]]:
        """Block until *command* shows up after position *start* (MONITOR lags behind replies);
        return the non-admin commands from *start* up to, not including, it."""
        with self.seen:
            ok = self.seen.wait_for(
                lambda: any(c == command for _, c in self.commands[start:]), timeout
            )
            if not ok:
                raise TimeoutError(f"MONITOR never showed {command!r}")
            upto = next(i for i, (_, c) in enumerate(self.commands) if i >= start and c == command)
            return [c for a, c in self.commands[start:upto] if a not in self.admin_addresses]


def _start_target() -> RedisTarget:
    external = os.environ.get("BITMAPIST_TEST_REDIS_URL")
    if external:
        return RedisTarget(url=external, external=True)
    binary = redis_server_binary()
    if binary is not None:
        proc = RedisProcess(binary).start()
        return RedisTarget(url=proc.url, process=proc, cleanup=proc.stop)
    try:  # pragma: no cover - only where a Docker engine runs
        import docker
        from testcontainers.redis import RedisContainer

        docker.from_env().ping()
    except Exception as exc:  # pragma: no cover
        pytest.exit(
            "no redis-server found (install it or set BITMAPIST_REDIS_SERVER), no "
            f"BITMAPIST_TEST_REDIS_URL, and no Docker engine ({exc})",
            returncode=3,
        )
    container = RedisContainer("redis:7").start()  # pragma: no cover
    host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
    return RedisTarget(url=f"redis://{host}:{port}/0", cleanup=container.stop)  # pragma: no cover


_TARGET: RedisTarget | None = None
_LOG: CommandLog | None = None
_VIOLATIONS: list[str] = []


def _monitor(url: str, log: CommandLog, ready: threading.Event) -> None:
    # No socket timeout: the monitor may sit idle for minutes (redis-py 8 defaults to 5 s).
    client = redis.Redis.from_url(url, protocol=2, socket_timeout=None)
    try:
        with client.monitor() as monitor:  # type: ignore[no-untyped-call]
            ready.set()
            while True:
                # Raw lines, not redis-py's parsed ones: those are re-joined with spaces, which
                # breaks on binary values (a SET of bitmap bytes may hold spaces and quotes).
                raw = monitor.connection.read_response()
                line = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
                parsed = parse_monitor_line(str(line))
                if parsed is not None:
                    log.add(*parsed)
    except (redis.ConnectionError, OSError):
        return
    finally:
        ready.set()


_MONITOR_LINE = re.compile(r'[\d.]+ \[\d+ (?P<client>.*?)\] (?P<args>".*)\Z', re.S)
_MONITOR_ARG = re.compile(r'"((?:[^"\\]+|\\.)*)"', re.S)
_MONITOR_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b"}
#: Longer arguments (bitmap values) keep Redis's escapes: the grammar check only counts them,
#: and unescaping megabytes would slow the MONITOR thread down.
_UNESCAPE_UP_TO = 4096


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 3 and code[0] == "x":
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)


def parse_monitor_line(line: str) -> tuple[str, list[str]] | None:
    """Split a MONITOR line into the client address and its arguments, undoing Redis's quoting
    (``\\"``, ``\\\\``, ``\\n``, ``\\xHH``...) so keys with spaces or quotes survive exactly."""
    match = _MONITOR_LINE.match(line)
    if match is None:
        return None
    args = [
        _MONITOR_ESCAPE.sub(_unescape, a) if "\\" in a and len(a) <= _UNESCAPE_UP_TO else a
        for a in _MONITOR_ARG.findall(match["args"])
    ]
    return match["client"], args


@pytest.fixture(scope="session")
def redis_target() -> Iterator[RedisTarget]:
    global _TARGET, _LOG
    target = _start_target()
    _TARGET = target
    if target.process is not None:
        _LOG = CommandLog()
        ready = threading.Event()
        thread = threading.Thread(target=_monitor, args=(target.url, _LOG, ready), daemon=True)
        thread.start()
        ready.wait(30)
    yield target
    try:
        if _LOG is not None:
            _VIOLATIONS.extend(_grammar_violations(target.url, _LOG))
    finally:  # stop the server even when the grammar check fails
        if target.cleanup is not None:
            target.cleanup()


@pytest.fixture(scope="session")
def admin(redis_target: RedisTarget) -> Iterator[redis.Redis]:
    """A plain connection for test-side inspection; its commands are not grammar-checked."""
    client = redis.Redis.from_url(redis_target.url, protocol=2, single_connection_client=True)
    if _LOG is not None:
        info = client.client_info()
        _LOG.admin_addresses.add(str(info["addr"]))
    yield client
    client.close()


@pytest.fixture(scope="session")
def command_log(redis_target: RedisTarget) -> CommandLog:
    if _LOG is None:
        pytest.skip("MONITOR is only used on the private redis-server")
    return _LOG


@pytest.fixture
def redis_url(redis_target: RedisTarget, admin: redis.Redis) -> str:
    """URL of the suite's server, with an empty keyspace for this test."""
    if redis_target.external and "keys_total" in admin.info("keys"):  # a bitmapist-server
        clear_server(admin)
        return redis_target.url
    keys = list(admin.scan_iter(match="*", count=1000))
    for start in range(0, len(keys), 1000):
        admin.delete(*keys[start : start + 1000])
    return redis_target.url


# -- bitmapist-server ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bitmapist_server() -> Iterator[BitmapistServerProcess]:
    """A private bitmapist-server with a fresh database file, started on first use."""
    binary = bitmapist_server_binary()
    if binary is None:
        where = os.environ.get("BITMAPIST_SERVER_PATH")
        pytest.skip(
            f"bitmapist-server not found at BITMAPIST_SERVER_PATH={where}"
            if where
            else "bitmapist-server not on PATH (set BITMAPIST_SERVER_PATH)"
        )
    server = BitmapistServerProcess(binary).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_admin(bitmapist_server: BitmapistServerProcess) -> Iterator[redis.Redis]:
    """A plain connection to the suite's bitmapist-server (test-side inspection only)."""
    client = redis.Redis(port=bitmapist_server.port, **redis_connect_kwargs())
    yield client
    client.close()


def server_keys(node: redis.Redis, pattern: str = "*") -> set[bytes]:
    """Every key of a bitmapist-server whose name matches the Redis glob *pattern*.

    Its SCAN and KEYS match with Go's ``filepath.Match``, where ``*`` stops at ``/``: this walks
    ``*``, ``*/*``, ... until it has seen as many keys as ``INFO keys`` counts, then filters
    with Redis's matcher.
    """
    total = int(node.info("keys")["keys_total"])
    found: set[bytes] = set()
    level = "*"
    while len(found) < total:
        found.update(k for k in node.keys(level) if isinstance(k, bytes))
        level += "/*"
        if len(level) > 2048:
            raise RuntimeError(f"bitmapist-server counts {total} keys, found {len(found)}")
    raw = key_bytes(pattern)
    return {key for key in found if glob_match(raw, key)}


def clear_server(node: redis.Redis) -> None:
    keys = list(server_keys(node))
    for start in range(0, len(keys), 1000):
        node.delete(*keys[start : start + 1000])


@pytest.fixture
def server_url(bitmapist_server: BitmapistServerProcess, server_admin: redis.Redis) -> str:
    """URL of the suite's bitmapist-server, with an empty keyspace for this test."""
    clear_server(server_admin)
    return bitmapist_server.url


# -- backends and key layouts --------------------------------------------------------------------

#: Where ``bm`` runs: the classic layout on Redis and on bitmapist-server, the embedded store
#: (an SQLite file in the test's tmp_path), the sharded layout on Redis and on
#: bitmapist-server, and on a private 3-master Redis Cluster. The sharded targets use 256-id
#: shards so that ids up to a few thousand already span many shards.
LAYOUT_TARGETS = (
    "redis",
    "bitmapist-server",
    "embedded",
    "sharded-redis",
    "sharded-bitmapist-server",
    "cluster",
)
#: The targets whose storage is bitmapist-server.
SERVER_TARGETS = ("bitmapist-server", "sharded-bitmapist-server")
SHARDED_OPTIONS: dict[str, Any] = {"layout": "sharded", "shard_bits": 8}


@dataclass(frozen=True)
class LayoutTarget:
    """Where a layout-parametrized test runs, and the client options that select the layout."""

    name: str
    url: str
    options: dict[str, Any]
    #: Admin connections to every server behind the target (test-side inspection only).
    nodes: tuple[redis.Redis, ...] = ()

    @property
    def on_server(self) -> bool:
        """Whether the target's storage is bitmapist-server."""
        return self.name in SERVER_TARGETS

    def physical_keys(self, pattern: str = "*") -> set[bytes]:
        """Every physical key matching *pattern* (a Redis glob), over all nodes."""
        if self.on_server:
            return {key for node in self.nodes for key in server_keys(node, pattern)}
        return {key for node in self.nodes for key in node.keys(pattern) if isinstance(key, bytes)}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "layouts(*names): run a test using the layout_target fixture (and so bm) only on these "
        f"of {LAYOUT_TARGETS} (for tests that inspect classic key names)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "layout_target" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("layouts")
        names = marker.args if marker is not None else LAYOUT_TARGETS
        unknown = set(names) - set(LAYOUT_TARGETS)
        if unknown:
            raise ValueError(f"unknown layouts {sorted(unknown)} (known: {LAYOUT_TARGETS})")
        metafunc.parametrize("layout_target", names, indirect=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterProcess]:
    """A private 3-master Redis Cluster, started on first use and stopped at the end."""
    binary, cli = redis_server_binary(), redis_cli_binary()
    if binary is None or cli is None:
        pytest.skip("a Redis Cluster needs redis-server and redis-cli")
    cluster = RedisClusterProcess(binary, cli).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def cluster_nodes(redis_cluster: RedisClusterProcess) -> Iterator[tuple[redis.Redis, ...]]:
    """Admin connections to every node of the suite's cluster."""
    nodes = tuple(redis.Redis(port=port, protocol=2) for port in redis_cluster.ports)
    yield nodes
    for node in nodes:
        node.close()


@pytest.fixture
def cluster_url(redis_cluster: RedisClusterProcess) -> str:
    """``redis+cluster://`` URL of the suite's cluster, with every node emptied for this test."""
    redis_cluster.flush()
    return redis_cluster.url


@pytest.fixture
def layout_target(request: pytest.FixtureRequest) -> LayoutTarget:
    name = request.param
    options = SHARDED_OPTIONS if name.startswith("sharded") else {}
    if name == "cluster":
        url = request.getfixturevalue("cluster_url")
        nodes = request.getfixturevalue("cluster_nodes")
        return LayoutTarget(name, url, SHARDED_OPTIONS, nodes)
    if name == "embedded":
        tmp_path = request.getfixturevalue("tmp_path")
        return LayoutTarget(name, f"file://{tmp_path}/events.db", {}, ())
    if name in SERVER_TARGETS:
        url = request.getfixturevalue("server_url")
        return LayoutTarget(name, url, options, (request.getfixturevalue("server_admin"),))
    url = request.getfixturevalue("redis_url")
    return LayoutTarget(name, url, options, (request.getfixturevalue("admin"),))


def _grammar_violations(url: str, log: CommandLog) -> list[str]:
    marker = "bitmapist-session-end"
    client = redis.Redis.from_url(url, protocol=2, single_connection_client=True)
    log.admin_addresses.add(str(client.client_info()["addr"]))
    client.echo(marker)
    log.wait_for(["ECHO", marker])
    client.close()
    with log.lock:
        commands = list(enumerate(log.commands))
    found = set()
    for index, (address, command) in commands:
        if address in log.admin_addresses or any(a <= index < b for a, b in log.exempt):
            continue
        if (problem := violation(command)) is not None:
            found.add(problem)
    return sorted(found)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any test sent a command outside bitmapist-server's grammar."""
    if _VIOLATIONS:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["commands outside bitmapist-server's grammar were sent:", *_VIOLATIONS[:50]]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- bitmapist 3.119, the baseline ---------------------------------------------------------------

#: Runs a bitmapist 3.119 script against the suite's private Redis and returns its ``result``.
LegacyRunner = Callable[[str], Any]


@pytest.fixture(scope="session")
def legacy_python_path() -> Path:
    """A Python with bitmapist 3.119 (its own venv under ``.bench/``)."""
    python = legacy_python()
    if python is None:
        pytest.skip("bitmapist 3.119 could not be installed in .bench/ (no package registry?)")
    return python


@pytest.fixture
def legacy(
    legacy_python_path: Path,
    command_log: CommandLog,
    admin: redis.Redis,
    redis_target: RedisTarget,
) -> LegacyRunner:
    """Run a bitmapist 3.119 script; its commands (MULTI/EXEC) are left out of the grammar
    check."""
    port = redis_target.require_private().port

    def run(script: str) -> Any:
        with command_log.exempted(admin):
            return run_legacy(legacy_python_path, port, script)

    return run
