"""A private 3-master Redis Cluster on free loopback ports, for the tests and benchmarks.

Three ``redis-server --cluster-enabled yes`` processes (each in its own temporary directory, each
observed until it logs "Ready to accept connections"), joined by ``redis-cli --cluster create``;
then every node's ``CLUSTER INFO`` reply is polled until it reports ``cluster_state:ok``.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

import redis

from .servers import RedisProcess, redis_server_binary

__all__ = ("RedisClusterProcess", "free_cluster_port", "redis_cli_binary", "start_cluster")

_CLUSTER_ARGS = (
    "--cluster-enabled", "yes",
    "--cluster-config-file", "nodes.conf",
    "--cluster-node-timeout", "5000",
)  # fmt: skip


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_port() -> int:
    """A free loopback port whose cluster bus port (port + 10000) is free too; cluster nodes
    need ports up to 55535."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 55536)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def redis_cli_binary() -> str | None:
    """``redis-cli`` next to the configured ``redis-server``, else on ``PATH``."""
    server = redis_server_binary()
    if server is not None and "/" in server:
        sibling = server.rsplit("/", 1)[0] + "/redis-cli"
        if shutil.which(sibling):
            return sibling
    return shutil.which("redis-cli")


@dataclass
class RedisClusterProcess:
    """A Redis Cluster of *masters* private ``redis-server`` processes, no replicas."""

    binary: str
    cli: str
    masters: int = 3
    nodes: list[RedisProcess] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    @property
    def url(self) -> str:
        """The library's URL for the cluster (any node works as the seed)."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self, timeout: float = 60.0) -> RedisClusterProcess:
        try:
            for _ in range(self.masters):
                node = RedisProcess(self.binary, port=free_cluster_port(), extra_args=_CLUSTER_ARGS)
                self.nodes.append(node.start())
            addresses = [f"127.0.0.1:{port}" for port in self.ports]
            options = ["--cluster-replicas", "0", "--cluster-yes"]
            created = subprocess.run(
                [self.cli, "--cluster", "create", *addresses, *options],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            if created.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}")
            self.wait_until_ok(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def cluster_states(self) -> list[str]:
        """Every node's ``cluster_state`` from its ``CLUSTER INFO`` reply."""
        states = []
        for port in self.ports:
            with redis.Redis(port=port, protocol=2, decode_responses=True) as client:
                info = client.execute_command("CLUSTER", "INFO")
                text = info if isinstance(info, str) else ""
                fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
                states.append(fields.get("cluster_state", "?"))
        return states

    def wait_until_ok(self, timeout: float) -> None:
        """Poll every node's ``CLUSTER INFO`` until all say ``cluster_state:ok``."""
        deadline = time.monotonic() + timeout
        while (states := self.cluster_states()) != ["ok"] * self.masters:
            if time.monotonic() > deadline:
                raise TimeoutError(f"cluster never became ok: {states}")
            time.sleep(0.02)  # pace the polling; the loop ends on the replies, not on time

    def flush(self) -> None:
        """Empty every node (test-side administration, not library traffic)."""
        for port in self.ports:
            with redis.Redis(port=port, protocol=2) as client:
                client.flushall()

    def used_memory(self) -> int:
        """Sum of the nodes' ``INFO memory`` ``used_memory``."""
        total = 0
        for port in self.ports:
            with redis.Redis(port=port, protocol=2) as client:
                total += int(client.info("memory")["used_memory"])
        return total

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes.clear()


def start_cluster(masters: int = 3) -> RedisClusterProcess:
    """Start a private cluster; raise ``RuntimeError`` when the binaries are missing."""
    binary, cli = redis_server_binary(), redis_cli_binary()
    if binary is None or cli is None:
        raise RuntimeError("a Redis Cluster needs redis-server and redis-cli")
    return RedisClusterProcess(binary, cli, masters).start()
