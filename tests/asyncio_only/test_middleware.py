"""The ASGI and aiohttp middleware, through the real FastAPI and aiohttp examples of
docs/examples: one flush per request, seen on the wire, and the right bits on the server."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

import bitmapist_async.sync
from bitmapist_async import Bitmapist
from bitmapist_async.middleware import BitmapistMiddleware, aiohttp_middleware

from .proxy import RedisProxy, Turn

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
#: What one play request marks, by key prefix: song:played with its hour, the song's own
#: event, the unique listener flag, and active.
PER_REQUEST = {
    "trackist_song:played_": 4,
    "trackist_song:7:played_": 3,
    "trackist_listener_u": 1,
    "trackist_active_": 3,
}


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_request_writes(turn: Turn, user_id: int, admin: redis.Redis) -> None:
    """The turn holds exactly one play request's writes for *user_id*, all stored."""
    writes = [w for w in turn.setbits() if w[1] == user_id]
    counts = {
        prefix: sum(1 for key, _, _ in writes if key.startswith(prefix)) for prefix in PER_REQUEST
    }
    assert counts == PER_REQUEST
    assert len(writes) == sum(PER_REQUEST.values())
    for key, offset, value in writes:
        assert value == 1
        assert admin.getbit(key, offset) == 1


async def check_concurrent_requests(
    post: Callable[[int], Awaitable[int]], proxy: RedisProxy, admin: redis.Redis
) -> None:
    before = len(proxy.setbit_turns())
    users = list(range(100, 120))
    statuses = await asyncio.gather(*(post(uid) for uid in users))
    assert statuses == [200] * len(users)
    turns = proxy.setbit_turns()[before:]
    assert 1 <= len(turns) <= len(users)  # requests may share a flush, never split one
    for uid in users:
        holding = [t for t in turns if any(w[1] == uid for w in t.setbits())]
        assert len(holding) == 1
        check_request_writes(holding[0], uid, admin)


async def test_fastapi_example_one_flush_per_request(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    example = load_example("fastapi_app")
    async with Bitmapist(proxy.url) as bm:
        app = example.create_app(bm)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            for uid in (1, 2, 3):
                before = len(proxy.setbit_turns())
                response = await http.post("/songs/7/plays", params={"user_id": uid})
                assert response.status_code == 200
                assert response.json() == {"song_id": 7, "user_id": uid}
                turns = proxy.setbit_turns()[before:]
                assert len(turns) == 1  # the request's eleven SETBITs went out together
                check_request_writes(turns[0], uid, private_admin)

            async def post(uid: int) -> int:
                response = await http.post("/songs/7/plays", params={"user_id": uid})
                return response.status_code

            await check_concurrent_requests(post, proxy, private_admin)
            response = await http.get("/listeners")
            assert response.json() == {"listeners": 23}


async def test_aiohttp_example_one_flush_per_request(
    proxy: RedisProxy, private_admin: redis.Redis
) -> None:
    example = load_example("aiohttp_app")
    async with Bitmapist(proxy.url) as bm:
        app = example.create_app(bm)
        async with TestClient(TestServer(app, host="127.0.0.1")) as http:
            for uid in (1, 2, 3):
                before = len(proxy.setbit_turns())
                response = await http.post("/songs/7/plays", params={"user_id": uid})
                assert response.status == 200
                assert await response.json() == {"song_id": 7, "user_id": uid}
                turns = proxy.setbit_turns()[before:]
                assert len(turns) == 1
                check_request_writes(turns[0], uid, private_admin)

            async def post(uid: int) -> int:
                response = await http.post("/songs/7/plays", params={"user_id": uid})
                status: int = response.status
                return status

            await check_concurrent_requests(post, proxy, private_admin)
            response = await http.get("/listeners")
            assert await response.json() == {"listeners": 23}
        assert bm.closed  # the example's cleanup closed the client, after draining it


Scope = MutableMapping[str, Any]


async def _call(app: Any, scope: Scope) -> list[MutableMapping[str, Any]]:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_asgi_middleware_batches_http_only(bm: Bitmapist, admin: redis.Redis) -> None:
    seen_inside: list[int] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await bm.mark_unique(scope["type"], 1)
        seen_inside.append(admin.getbit(f"trackist_{scope['type']}_u", 1))
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    wrapped = BitmapistMiddleware(app, bm)
    sent = await _call(wrapped, {"type": "http"})
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    await _call(wrapped, {"type": "lifespan"})
    assert seen_inside == [0, 1]  # the HTTP mark waited for the response; lifespan's did not
    assert admin.getbit("trackist_http_u", 1) == 1


async def test_asgi_middleware_sends_the_marks_of_a_failing_request(
    bm: Bitmapist, admin: redis.Redis
) -> None:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        await bm.mark_unique("failing", 5)
        raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError, match="handler bug"):
        await _call(BitmapistMiddleware(app, bm), {"type": "http"})
    await bm.flush()
    assert admin.getbit("trackist_failing_u", 5) == 1


def test_middleware_wants_the_async_client() -> None:
    sync_client = bitmapist_async.sync.Bitmapist("redis://127.0.0.1:1/0")

    async def app(scope: Scope, receive: Any, send: Any) -> None: ...

    with pytest.raises(TypeError, match=r"bitmapist_async\.Bitmapist"):
        BitmapistMiddleware(app, sync_client)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"bitmapist_async\.Bitmapist"):
        aiohttp_middleware(sync_client)  # type: ignore[arg-type]
    sync_client.close()
