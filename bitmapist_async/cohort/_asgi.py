"""The cohort dashboard as a small, dependency-free ASGI application.

``CohortApp(bm)`` serves, relative to where it is mounted:

- ``GET /``: the query form; with a query string, the form plus the result table.
- ``GET /cohort.csv?...``: the same table as CSV.

Event names come from the store (:meth:`~bitmapist_async.Bitmapist.get_event_names`, cached
for *names_ttl* seconds) plus the custom handlers' names. A bad query parameter (unknown event,
malformed number or date, unknown parameter, a table over *max_cells*) gets a 400 with a
message. Every HTML response carries a Content-Security-Policy that allows only the page's own
inline style and script (by nonce).

Mount it in Starlette or FastAPI::

    from starlette.routing import Mount
    app = Starlette(routes=[Mount("/cohorts", app=CohortApp(bm))])

or serve it alone: ``bitmapist-async dashboard --redis-url redis://...``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import redis.exceptions

from .._async.client import Bitmapist
from .._async.cohort import Compute, Handler, cohort_table
from .._core.cohort import PARAMS, CohortQuery, CohortTable
from ._render import render_csv, render_page

__all__ = ("CohortApp",)  # re-exported by bitmapist_async.cohort.asgi

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_STORAGE_ERRORS = (redis.exceptions.RedisError, OSError)


class _BadRequest(ValueError):
    """A query the dashboard refuses, with the message shown to the user."""


class CohortApp:
    """The cohort dashboard for one client (which stays the caller's to close).

    :param bm: the async client to read from.
    :param handlers: custom selections offered alongside the stored events (see
        :meth:`~bitmapist_async.Bitmapist.cohort`).
    :param title: the page title.
    :param max_cells: refuse (400) tables with more offset cells than this.
    :param names_ttl: seconds the list of event names is cached.
    :param compute: where cells are counted (see :meth:`~bitmapist_async.Bitmapist.cohort`).

    Example::

        app = CohortApp(Bitmapist("redis://127.0.0.1:6379/0"))
        # uvicorn.run(app) or Mount("/cohorts", app=app)
    """

    def __init__(
        self,
        bm: Bitmapist,
        *,
        handlers: Mapping[str, Handler] | None = None,
        title: str = "Cohorts",
        max_cells: int = 20_000,
        names_ttl: float = 30.0,
        compute: Compute = "storage",
    ) -> None:
        if not isinstance(bm, Bitmapist):
            raise TypeError(f"bm must be a bitmapist_async.Bitmapist, got {bm!r}")
        self._bm = bm
        self._handlers = dict(handlers or {})
        self._title = title
        self._max_cells = max_cells
        self._names_ttl = names_ttl
        self._names: list[str] = []
        self._names_at = -float("inf")
        if compute not in ("storage", "local"):
            raise ValueError(f"compute must be 'storage' or 'local', got {compute!r}")
        self._compute: Compute = compute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # pragma: no cover - websockets are not served
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(scope, send, 405, "text/plain", "method not allowed\n",
                           [(b"allow", b"GET, HEAD")])  # fmt: skip
            return
        path = _route_path(scope)
        if path in ("/", ""):
            await self._page(scope, send)
        elif path == "/cohort.csv":
            await self._csv(scope, send)
        else:
            await _respond(scope, send, 404, "text/plain", "not found\n")

    # -- routes ----------------------------------------------------------------------------

    async def _page(self, scope: Scope, send: Send) -> None:
        nonce = secrets.token_urlsafe(16)
        root = scope.get("root_path", "")
        try:
            names = await self._event_names()
        except _STORAGE_ERRORS as exc:
            await _respond(scope, send, 503, "text/plain", f"storage unavailable: {exc}\n")
            return
        selections = self._selections(names)
        query: CohortQuery | None = None
        table: CohortTable | None = None
        error, status = "", 200
        if scope.get("query_string"):
            try:
                query = self._parse(scope, names)
                table = await cohort_table(
                    self._bm, query, handlers=self._handlers, compute=self._compute
                )
            except _BadRequest as exc:
                error, status = str(exc), 400
            except _STORAGE_ERRORS as exc:
                error, status = f"storage unavailable: {exc}", 503
        csv_url = f"{root}/cohort.csv?{urlencode(query.to_params())}" if table and query else ""
        html = render_page(
            selections,
            query=query,
            table=table,
            error=error,
            csv_url=csv_url,
            action_url=f"{root}/",
            title=self._title,
            nonce=nonce,
        )
        await _respond(scope, send, status, "text/html; charset=utf-8", html, _html_headers(nonce))

    async def _csv(self, scope: Scope, send: Send) -> None:
        try:
            query = self._parse(scope, await self._event_names())
            table = await cohort_table(
                self._bm, query, handlers=self._handlers, compute=self._compute
            )
        except _BadRequest as exc:
            await _respond(scope, send, 400, "text/plain; charset=utf-8", f"{exc}\n")
            return
        except _STORAGE_ERRORS as exc:
            await _respond(scope, send, 503, "text/plain", f"storage unavailable: {exc}\n")
            return
        headers = [(b"content-disposition", b'attachment; filename="cohort.csv"')]
        await _respond(scope, send, 200, "text/csv; charset=utf-8", render_csv(table), headers)

    # -- helpers ---------------------------------------------------------------------------

    async def _event_names(self) -> list[str]:
        now = time.monotonic()
        if now - self._names_at > self._names_ttl:
            self._names = await self._bm.get_event_names()
            self._names_at = now
        return self._names

    def _selections(self, names: list[str]) -> list[tuple[str, str]]:
        custom = [(f"{name} (custom)", name) for name in sorted(self._handlers)]
        return custom + [(name, name) for name in names]

    def _parse(self, scope: Scope, names: list[str]) -> CohortQuery:
        params = _query_params(scope)
        try:
            query = CohortQuery.from_params(params)
        except (TypeError, ValueError) as exc:
            raise _BadRequest(str(exc)) from None
        known = set(names) | set(self._handlers)
        for field in ("select1", "select1b", "select2", "select2b"):
            value = getattr(query, field)
            if value is not None and value not in known:
                raise _BadRequest(f"{field}: unknown event {value!r}")
        if query.cells > self._max_cells:
            raise _BadRequest(
                f"the table would have {query.cells:,} cells "
                f"(num_results x (num_of_rows + 1)); the limit is {self._max_cells:,}"
            )
        return query


def _route_path(scope: Scope) -> str:
    """The path below where the app is mounted (Starlette keeps the full path in ``path``
    and the mount point in ``root_path``)."""
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


def _query_params(scope: Scope) -> dict[str, str]:
    raw: bytes = scope.get("query_string", b"")
    try:
        pairs = parse_qsl(
            raw.decode("ascii"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=2 * len(PARAMS),
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadRequest(f"malformed query string: {exc}") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise _BadRequest(f"parameter {key!r} is given more than once")
        params[key] = value
    return params


def _html_headers(nonce: str) -> list[tuple[bytes, bytes]]:
    policy = (
        "default-src 'none'; "
        f"style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
    )
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]


async def _respond(
    scope: Scope,
    send: Send,
    status: int,
    content_type: str,
    text: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = text.encode("utf-8")
    all_headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
