"""Request-scoped batches for web applications: one flush of marks per HTTP request.

Each middleware opens :meth:`Bitmapist.batch() <bitmapist_async.Bitmapist.batch>` around a
request, so every mark a handler makes returns at once and the request's marks travel to storage
together, in one flush, when the request is done.

- :class:`BitmapistMiddleware` is plain ASGI (no framework dependency): FastAPI, Starlette,
  Quart, Litestar... The flush happens after the application has sent the response, so it adds
  no latency; if it fails, :class:`~bitmapist_async.WriteFailedError` propagates to the ASGI
  server (which logs it; the response is already sent).
- :func:`aiohttp_middleware` for aiohttp: the flush happens when the handler has returned its
  response, before aiohttp sends it, so a response means its marks are stored; a failure becomes
  aiohttp's error response.

Marks made in a request's handler are not visible to queries in the same request.

Example (FastAPI)::

    bm = Bitmapist("redis://127.0.0.1:6379/0")
    app = FastAPI()
    app.add_middleware(BitmapistMiddleware, bitmapist=bm)

Example (aiohttp)::

    app = web.Application(middlewares=[aiohttp_middleware(bm)])
"""

from __future__ import annotations

import typing

from ._async import client as _client

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, MutableMapping
    from typing import Any

    from aiohttp import web
    from aiohttp.typedefs import Middleware

    from ._async.client import Bitmapist

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = ("BitmapistMiddleware", "aiohttp_middleware")


def _check_client(bitmapist: object) -> None:
    if not isinstance(bitmapist, _client.Bitmapist):
        raise TypeError(
            f"bitmapist must be a bitmapist_async.Bitmapist, got {type(bitmapist).__name__}"
        )


class BitmapistMiddleware:
    """ASGI middleware: the marks of each HTTP request go out in one flush once the
    application has finished the response.

    :param app: the ASGI application to wrap.
    :param bitmapist: the async client the handlers mark with.
    :param scope_types: ASGI scope types that get a batch. WebSocket connections are left out
        by default: a batch would hold their marks for the connection's whole life.
    :raises TypeError: *bitmapist* is not an async :class:`~bitmapist_async.Bitmapist`.

    Example::

        app.add_middleware(BitmapistMiddleware, bitmapist=bm)  # FastAPI / Starlette
        app = BitmapistMiddleware(app, bm)  # any ASGI application
    """

    def __init__(
        self, app: ASGIApp, bitmapist: Bitmapist, *, scope_types: Collection[str] = ("http",)
    ) -> None:
        _check_client(bitmapist)
        self.app = app
        self.bitmapist = bitmapist
        self.scope_types = frozenset(scope_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in self.scope_types:
            await self.app(scope, receive, send)
            return
        async with self.bitmapist.batch():
            await self.app(scope, receive, send)


def aiohttp_middleware(bitmapist: Bitmapist) -> Middleware:
    """An aiohttp middleware: the marks of each request go out in one flush when its handler
    has returned, before the response is sent.

    :param bitmapist: the async client the handlers mark with.
    :raises TypeError: *bitmapist* is not an async :class:`~bitmapist_async.Bitmapist`.
    :raises ImportError: aiohttp is not installed.

    Example::

        app = web.Application(middlewares=[aiohttp_middleware(bm)])
    """
    _check_client(bitmapist)
    from aiohttp import web

    @web.middleware
    async def bitmapist_batch(request: web.Request, handler: Handler) -> web.StreamResponse:
        async with bitmapist.batch():
            return await handler(request)

    return bitmapist_batch
