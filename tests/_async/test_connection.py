"""URLs, credentials, TLS and client instances."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as redis_api

from bitmapist_async import (
    Bitmapist,
    ServerCapabilityError,
    StorageUnavailableError,
    WriteFailedError,
)

from ..causes import caused_by
from ..conftest import RedisTarget
from ..servers import RedisProcess, redis_server_binary


async def test_client_instance_stays_open(redis_url: str) -> None:
    client = redis_api.Redis.from_url(redis_url, protocol=2)
    async with Bitmapist(client) as bm:
        await bm.mark_unique("x", 1)
    assert await client.getbit("trackist_x_u", 1) == 1
    await client.aclose()


@pytest.mark.parametrize("userinfo", [":hunter2@", "analytics:hunter2@"])
@pytest.mark.parametrize("layout", ["classic", "sharded"])
async def test_a_password_on_bitmapist_server(server_url: str, userinfo: str, layout: str) -> None:
    """bitmapist-server has no AUTH: a password gets an error that says so, at once."""
    url = server_url.replace("redis://", f"redis://{userinfo}")
    async with Bitmapist(url, layout=layout) as bm:  # type: ignore[arg-type]
        with pytest.raises(ServerCapabilityError, match="has no AUTH") as info:
            await bm.UniqueEvents("x").count()
        assert "hunter2" not in str(info.value)
        assert "***" in str(info.value)
        with pytest.raises(WriteFailedError) as failed:
            await bm.mark_unique("x", 1)
        assert isinstance(failed.value.__cause__, ServerCapabilityError)


async def test_decode_responses_client_is_rejected(redis_url: str) -> None:
    client = redis_api.Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        Bitmapist(client)
    await client.aclose()


async def test_unknown_scheme_and_bad_target() -> None:
    with pytest.raises(ValueError, match="'http'"):
        Bitmapist("http://user:hunter2@example.com/")
    with pytest.raises(ValueError, match="mongodb") as info:
        Bitmapist("mongodb://user:hunter2@example.com/")
    assert "hunter2" not in str(info.value)
    with pytest.raises(TypeError, match="int"):
        Bitmapist(6379)  # type: ignore[arg-type]


async def test_password_never_shown(
    redis_target: RedisTarget, admin: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    process = redis_target.require_private()
    admin.execute_command("ACL", "SETUSER", "alice", "on", ">s3cret-pw", "~*", "+@all")  # type: ignore[no-untyped-call]
    try:
        url = f"redis://alice:s3cret-pw@127.0.0.1:{process.port}/0"
        caplog.set_level(logging.DEBUG)
        async with Bitmapist(url) as bm:
            assert "s3cret-pw" not in repr(bm)
            assert "alice:***@" in repr(bm)
            await bm.mark_unique("acl", 5)
            assert await bm.UniqueEvents("acl").ids() == [5]
        wrong = f"redis://alice:wrong-pw@127.0.0.1:{process.port}/0"
        async with Bitmapist(wrong) as bm:
            with pytest.raises(StorageUnavailableError) as info:
                await bm.ping()
            assert caused_by(info.value, redis.AuthenticationError)
            assert "wrong-pw" not in str(info.value)
            assert "wrong-pw" not in str(info.value.__cause__)
            assert "wrong-pw" not in repr(bm)
        assert "s3cret-pw" not in caplog.text
    finally:
        admin.execute_command("ACL", "DELUSER", "alice")  # type: ignore[no-untyped-call]


async def test_acl_user_without_info_lists_events(
    redis_target: RedisTarget, admin: redis.Redis, redis_url: str
) -> None:
    """Listing asks ``INFO keys`` whether the server is bitmapist-server; a Redis user who may
    not run INFO is simply on Redis."""
    process = redis_target.require_private()
    admin.execute_command("ACL", "SETUSER", "bob", "on", ">pw-b", "~*", "+@all", "-info")  # type: ignore[no-untyped-call]
    try:
        async with Bitmapist(f"redis://bob:pw-b@127.0.0.1:{process.port}/0") as bm:
            await bm.mark_unique("acl/x", 5)
            assert await bm.get_event_names() == ["acl/x"]
            await bm.delete_all_events()
            assert await bm.get_event_names() == []
    finally:
        admin.execute_command("ACL", "DELUSER", "bob")  # type: ignore[no-untyped-call]


def _make_certs(directory: Path) -> None:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    ca = ["-keyout", "ca.key", "-out", "ca.crt"]
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ca", *ca)
    san = "subjectAltName=IP:127.0.0.1"
    key = ["-keyout", "server.key", "-out", "server.csr"]
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-addext", san, *key)
    sign = ["-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-copy_extensions", "copy"]
    run("x509", "-req", "-in", "server.csr", *sign, "-days", "2", "-out", "server.crt")


@pytest.fixture(params=["TLSv1.2", "TLSv1.3"])
def tls_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[RedisProcess, Path]]:
    if "_sync" in Bitmapist.__module__ and request.param == "TLSv1.3":
        pytest.skip(
            "redis-py's sync connection pool reports 'Connection not ready' when a TLS 1.3 "
            "server sends session tickets (see docs/connecting.md)"
        )
    binary = redis_server_binary()
    if binary is None or shutil.which("openssl") is None:
        pytest.skip("needs redis-server and openssl")
    _make_certs(tmp_path)
    server = RedisProcess(binary)
    server.extra_args = [
        "--port", "0", "--tls-port", str(server.port),
        "--tls-cert-file", str(tmp_path / "server.crt"),
        "--tls-key-file", str(tmp_path / "server.key"),
        "--tls-ca-cert-file", str(tmp_path / "ca.crt"),
        "--tls-auth-clients", "no",
        "--tls-protocols", request.param,
    ]  # fmt: skip
    try:
        server.start()
    except RuntimeError as exc:
        if "TLS" in str(exc) or "tls" in str(exc):
            pytest.skip(f"this redis-server has no TLS support: {exc}")
        raise
    yield server, tmp_path / "ca.crt"
    server.stop()


async def test_rediss_tls(tls_server: tuple[RedisProcess, Path]) -> None:
    server, ca = tls_server
    async with Bitmapist(f"rediss://127.0.0.1:{server.port}/0", ssl_ca_certs=str(ca)) as bm:
        await bm.mark_unique("tls", 3)
        assert await bm.UniqueEvents("tls").ids() == [3]
