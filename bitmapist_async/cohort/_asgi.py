"""The dashboard as a small, dependency-free ASGI application.

``CohortApp(bm)`` serves, relative to where it is mounted:

- ``GET /``: the overview (the most active events with DAU, WAU, MAU and DAU/MAU);
- ``GET /trends``: a line chart of an event (or two in the same period), with rolling WAU/MAU;
- ``GET /retention``: the cohort form, table and retention curve (``GET /`` with a cohort
  query string shows it too, as it did before the other pages);
- ``GET /funnel``: a funnel's bars with the drop-off between steps;
- ``GET /overview.csv``, ``/trends.csv``, ``/cohort.csv``, ``/funnel.csv``: each page's CSV;
- ``GET /api/trend``, ``/api/rolling``, ``/api/funnel``, ``/api/cohort``: the same numbers as
  JSON (for notebooks and Grafana's JSON data source).

Every bad parameter gets a 400 whose message names the field as the form labels it; a request
whose estimated cost is over *max_cells* or *max_bytes* gets a 413 naming the limit, before
anything is sent to the store. Each request's temporary keys are deleted when it ends (their
TTL stays the fallback). Every HTML response carries a Content-Security-Policy that allows
only the page's own inline style and script (by nonce).

Mount it in Starlette or FastAPI::

    from starlette.routing import Mount
    app = Starlette(routes=[Mount("/dashboard", app=CohortApp(bm))])

or serve it alone: ``bitmapist-async dashboard --store redis://...``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import redis.exceptions

from .._async.client import Bitmapist
from .._async.cohort import Compute, Handler, cohort_table
from .._core.cohort import CohortQuery, CohortTable
from .._core.errors import StorageError
from . import _cost, _params
from ._access import Credentials, authorized, parse_credentials
from ._params import BadRequest
from ._views import Views

__all__ = ("CohortApp",)  # re-exported by bitmapist_async.cohort.asgi

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_STORAGE_ERRORS = (redis.exceptions.RedisError, OSError, StorageError)
#: Events whose year keys are measured when a custom handler's size is unknown.
_SAMPLE_EVENTS = 20


class CohortApp:
    """The dashboard for one client (which stays the caller's to close).

    :param bm: the async client to read from.
    :param handlers: custom selections offered alongside the stored events (see
        :meth:`~bitmapist_async.Bitmapist.cohort`).
    :param title: the site's title.
    :param max_cells: refuse (413) cohort tables with more offset cells than this.
    :param max_bytes: refuse (413) a request estimated to make the store read or create more
        bytes of bitmaps than this (see :mod:`bitmapist_async.cohort._cost`).
    :param names_ttl: seconds the list of event names (and the measured bitmap sizes) is
        cached.
    :param compute: where cohort cells are counted (see
        :meth:`~bitmapist_async.Bitmapist.cohort`).
    :param credentials: ``(user, password)``: every request needs them (HTTP basic), else
        401.

    Example::

        app = CohortApp(Bitmapist("redis://127.0.0.1:6379/0"))
        # uvicorn.run(app) or Mount("/dashboard", app=app)
    """

    def __init__(
        self,
        bm: Bitmapist,
        *,
        handlers: Mapping[str, Handler] | None = None,
        title: str = "Cohorts",
        max_cells: int = 20_000,
        max_bytes: int = 512 * 1024 * 1024,
        names_ttl: float = 30.0,
        compute: Compute = "auto",
        credentials: Credentials | None = None,
    ) -> None:
        if not isinstance(bm, Bitmapist):
            raise TypeError(f"bm must be a bitmapist_async.Bitmapist, got {bm!r}")
        for name, limit in (("max_cells", max_cells), ("max_bytes", max_bytes)):
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError(f"{name} must be a positive int, got {limit!r}")
        if compute not in ("auto", "storage", "local"):
            raise ValueError(f"compute must be 'auto', 'storage' or 'local', got {compute!r}")
        self._bm = bm
        self._handlers = dict(handlers or {})
        self._title = title
        self._max_cells = max_cells
        self._max_bytes = max_bytes
        self._names_ttl = names_ttl
        self._names: list[str] = []
        self._names_at = -float("inf")
        self._sizes: dict[tuple[str, int, int], tuple[int, float]] = {}
        self._compute: Compute = compute
        self._views = Views(title)
        if credentials is not None:
            parse_credentials(":".join(credentials))  # both parts non-empty
        self._credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # pragma: no cover - websockets are not served
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(
                scope, send, 405, "text/plain", "method not allowed\n", [(b"allow", b"GET, HEAD")]
            )
            return
        if self._credentials is not None and not authorized(
            dict(scope.get("headers", [])).get(b"authorization"), self._credentials
        ):
            challenge = b'Basic realm="bitmapist dashboard", charset="UTF-8"'
            await _respond(scope, send, 401, "text/plain", "credentials required\n",
                           [(b"www-authenticate", challenge)])  # fmt: skip
            return
        path = _route_path(scope)
        if path in ("", "/") and b"select1" in scope.get("query_string", b""):
            path = "/retention"
        route = self._routes().get(path or "/")
        if route is None:
            await _respond(scope, send, 404, "text/plain", "not found\n")
            return
        kind, handler = route
        try:
            names = await self._event_names()
            body = await handler(scope, names)
        except BadRequest as exc:
            await self._error(scope, send, kind, exc.status, str(exc))
        except ValueError as exc:  # a limit the queries check themselves (e.g. MAX_PERIODS)
            await self._error(scope, send, kind, 400, f"This request cannot be answered: {exc}")
        except _STORAGE_ERRORS as exc:
            await self._error(scope, send, kind, 503, f"The store is unavailable: {exc}")
        else:
            await self._ok(scope, send, kind, path, body)

    def _routes(
        self,
    ) -> dict[str, tuple[str, Callable[[Scope, list[str]], Awaitable[Any]]]]:
        return {
            "/": ("html", self._overview_page),
            "/trends": ("html", self._trends_page),
            "/retention": ("html", self._retention_page),
            "/funnel": ("html", self._funnel_page),
            "/overview.csv": ("csv", self._overview_csv),
            "/trends.csv": ("csv", self._trends_csv),
            "/cohort.csv": ("csv", self._cohort_csv),
            "/funnel.csv": ("csv", self._funnel_csv),
            "/api/trend": ("json", self._api_trend),
            "/api/rolling": ("json", self._api_rolling),
            "/api/funnel": ("json", self._api_funnel),
            "/api/cohort": ("json", self._api_cohort),
        }

    # -- responses -------------------------------------------------------------------------

    async def _ok(self, scope: Scope, send: Send, kind: str, path: str, body: Any) -> None:
        if kind == "html":
            html, nonce = body
            await _respond(scope, send, 200, "text/html; charset=utf-8", html, _html_headers(nonce))
        elif kind == "csv":
            name = path.rsplit("/", 1)[-1]
            headers = [(b"content-disposition", f'attachment; filename="{name}"'.encode())]
            await _respond(scope, send, 200, "text/csv; charset=utf-8", body, headers)
        else:
            await _respond(scope, send, 200, "application/json", _json(body))

    async def _error(self, scope: Scope, send: Send, kind: str, status: int, message: str) -> None:
        if kind == "html":
            nonce = secrets.token_urlsafe(16)
            path = _route_path(scope) or "/"
            page = {"/trends": "trends", "/funnel": "funnel"}.get(path, "overview")
            if path == "/retention" or (
                path == "/" and b"select1" in scope.get("query_string", b"")
            ):
                page = "retention"
            values = _lenient_values(scope.get("query_string", b""))
            html = self._views.error_page(
                page,
                message,
                root=scope.get("root_path", ""),
                nonce=nonce,
                selections=self._selections(self._names),
                values=values,
            )
            await _respond(
                scope, send, status, "text/html; charset=utf-8", html, _html_headers(nonce)
            )
        elif kind == "json":
            await _respond(
                scope,
                send,
                status,
                "application/json",
                _json({"error": message, "status": status}),
            )
        else:
            await _respond(scope, send, status, "text/plain; charset=utf-8", f"{message}\n")

    # -- pages -----------------------------------------------------------------------------

    def _today(self) -> date:
        return self._bm.options.now_local().date()

    def _known(self, names: list[str]) -> set[str]:
        return set(names) | set(self._handlers)

    async def _overview(self, scope: Scope, names: list[str]) -> tuple[Any, list[Any]]:
        params = _params.query_params(scope.get("query_string", b""), _params.OVERVIEW_PARAMS)
        request = _params.parse_overview(params, self._today())
        stored = [n for n in names]
        top = min(request.top, len(stored))
        b = await self._bitmap_bytes(
            stored[:_SAMPLE_EVENTS], ((request.end.year, request.end.month),)
        )
        _cost.check_cost(_cost.overview_bitmaps(len(stored), top), b, self._max_bytes)
        bm, end = self._bm, request.end
        months = await bm.counts([bm.MonthEvents(n, end.year, end.month) for n in stored])
        ranked = sorted(zip(stored, months, strict=True), key=lambda item: (-item[1], item[0]))
        rows = []
        for name, _ in ranked[:top]:
            ((_, dau),) = await bm.trend(name, "days", end, end)
            ((_, wau),) = await bm.rolling(name, 7, "days", end, end, compute="local")
            ((_, mau),) = await bm.rolling(name, 30, "days", end, end, compute="local")
            rows.append((name, dau, wau, mau))
        return request, rows

    async def _overview_page(self, scope: Scope, names: list[str]) -> tuple[str, str]:
        request, rows = await self._overview(scope, names)
        nonce = secrets.token_urlsafe(16)
        root = scope.get("root_path", "")
        return self._views.overview(request, rows, root=root, nonce=nonce), nonce

    async def _overview_csv(self, scope: Scope, names: list[str]) -> str:
        request, rows = await self._overview(scope, names)
        return self._views.overview_csv(request, rows)

    async def _trend(
        self, scope: Scope, names: list[str], allowed: Sequence[str], window: bool
    ) -> tuple[_params.TrendRequest, list[tuple[datetime, int]]]:
        params = _params.query_params(scope.get("query_string", b""), allowed)
        request = _params.parse_trend(params, self._known(names), self._today(), window=window)
        b = await self._bitmap_bytes(
            _names_of(request.event, request.also), _years(request.start, request.end)
        )
        extra = request.also is not None or request.event in self._handlers
        if window:
            bitmaps = _cost.rolling_bitmaps(request.periods, request.window, extra, "storage")
        else:
            bitmaps = _cost.trend_bitmaps(request.periods, extra)
        _cost.check_cost(bitmaps, b, self._max_bytes)
        spec = self._spec(request.event, request.also)
        if window:
            points = await self._bm.rolling(
                spec, request.window, request.unit, request.start, request.end
            )
        else:
            points = await self._bm.trend(spec, request.unit, request.start, request.end)
        return request, points

    async def _trends_data(self, scope: Scope, names: list[str]) -> tuple[Any, Any]:
        params = _params.query_params(scope.get("query_string", b""), _params.TREND_PARAMS)
        if not params:
            return None, None
        request = _params.parse_trend(params, self._known(names), self._today(), reach_back=29)
        b = await self._bitmap_bytes(
            _names_of(request.event, request.also), _years(request.start, request.end)
        )
        extra = request.also is not None or request.event in self._handlers
        bitmaps = _cost.trend_bitmaps(request.periods, extra)
        lines = request.unit == "days"
        if lines:
            bitmaps += _cost.rolling_bitmaps(request.periods, 7, extra, "storage")
            bitmaps += _cost.rolling_bitmaps(request.periods, 30, extra, "storage")
        _cost.check_cost(bitmaps, b, self._max_bytes)
        spec = self._spec(request.event, request.also)
        series: dict[str, list[tuple[datetime, int]]] = {
            "daily" if lines else request.unit: await self._bm.trend(
                spec, request.unit, request.start, request.end
            )
        }
        if lines:
            series["WAU (7 days)"] = await self._bm.rolling(
                spec, 7, "days", request.start, request.end
            )
            series["MAU (30 days)"] = await self._bm.rolling(
                spec, 30, "days", request.start, request.end
            )
        return request, series

    async def _trends_page(self, scope: Scope, names: list[str]) -> tuple[str, str]:
        request, series = await self._trends_data(scope, names)
        nonce = secrets.token_urlsafe(16)
        return self._views.trends(
            request, series, self._selections(names), root=scope.get("root_path", ""), nonce=nonce
        ), nonce

    async def _trends_csv(self, scope: Scope, names: list[str]) -> str:
        request, series = await self._trends_data(scope, names)
        if request is None:
            raise BadRequest("Choose an event for “Event”.")
        return self._views.trends_csv(request, series)

    async def _api_trend(self, scope: Scope, names: list[str]) -> dict[str, Any]:
        request, points = await self._trend(scope, names, _params.TREND_PARAMS, False)
        return {**request.to_params(), "points": _points(points)}

    async def _api_rolling(self, scope: Scope, names: list[str]) -> dict[str, Any]:
        request, points = await self._trend(scope, names, _params.ROLLING_PARAMS, True)
        return {**request.to_params(), "window": request.window, "points": _points(points)}

    async def _cohort(
        self, scope: Scope, names: list[str]
    ) -> tuple[CohortQuery | None, CohortTable | None]:
        params = _params.query_params(scope.get("query_string", b""), _params.COHORT_PARAMS)
        if not params:
            return None, None
        query, layout = _params.parse_cohort(
            params,
            self._known(names),
            max_cells=self._max_cells,
            now=self._bm.options.now_local(),
            tz=self._bm.options.tz,
        )
        events = _names_of(query.select1, query.select1b, query.select2, query.select2b)
        periods = layout.periods(query.num_of_rows)
        years = _years(periods[0].start().date(), periods[-1].start().date())
        b = await self._bitmap_bytes(events, years)
        _cost.check_cost(_cost.cohort_bitmaps(query, self._compute), b, self._max_bytes)
        table = await cohort_table(
            self._bm, query, handlers=self._handlers, layout=layout, compute=self._compute
        )
        return query, table

    async def _retention_page(self, scope: Scope, names: list[str]) -> tuple[str, str]:
        query, table = await self._cohort(scope, names)
        nonce = secrets.token_urlsafe(16)
        root = scope.get("root_path", "")
        csv_url = f"{root}/cohort.csv?{urlencode(query.to_params())}" if query else ""
        return self._views.retention(
            query, table, self._selections(names), root=root, nonce=nonce, csv_url=csv_url
        ), nonce

    async def _cohort_csv(self, scope: Scope, names: list[str]) -> str:
        _, table = _required(await self._cohort(scope, names), _NO_COHORT_EVENT)
        return self._views.cohort_csv(table)

    async def _api_cohort(self, scope: Scope, names: list[str]) -> dict[str, Any]:
        _, table = _required(await self._cohort(scope, names), _NO_COHORT_EVENT)
        return self._views.cohort_json(table)

    async def _funnel(self, scope: Scope, names: list[str]) -> tuple[Any, Any]:
        params = _params.query_params(scope.get("query_string", b""), _params.FUNNEL_PARAMS)
        if not params:
            return None, None
        request = _params.parse_funnel(params, self._known(names), self._today())
        b = await self._bitmap_bytes(request.steps, _years(request.start, request.end))
        cohorts = request.periods - request.within
        _cost.check_cost(
            _cost.funnel_bitmaps(cohorts, len(request.steps), request.within), b, self._max_bytes
        )
        specs = [self._spec(step, None) for step in request.steps]
        result = await self._bm.funnel(
            specs, request.unit, request.start, request.end, request.within
        )
        return request, result

    async def _funnel_page(self, scope: Scope, names: list[str]) -> tuple[str, str]:
        request, result = await self._funnel(scope, names)
        nonce = secrets.token_urlsafe(16)
        return self._views.funnel(
            request, result, self._selections(names), root=scope.get("root_path", ""), nonce=nonce
        ), nonce

    async def _funnel_csv(self, scope: Scope, names: list[str]) -> str:
        request, result = _required(await self._funnel(scope, names), _NO_FUNNEL_STEPS)
        return self._views.funnel_csv(request, result)

    async def _api_funnel(self, scope: Scope, names: list[str]) -> dict[str, Any]:
        request, result = _required(await self._funnel(scope, names), _NO_FUNNEL_STEPS)
        return self._views.funnel_json(request, result)

    # -- helpers ---------------------------------------------------------------------------

    def _spec(self, event: str, also: str | None) -> Any:
        """What the analytics calls take for *event* (a custom handler or a name), ANDed with
        *also* in the same period."""
        handler = self._handlers.get(event)
        if handler is None and also is None:
            return event

        def select(cls: Any, *args: Any) -> Any:
            first = handler(event, cls, args) if handler is not None else cls(event, *args)
            if also is None:
                return first
            other = self._handlers.get(also)
            return first & (other(also, cls, args) if other is not None else cls(also, *args))

        return select

    async def _event_names(self) -> list[str]:
        now = time.monotonic()
        if now - self._names_at > self._names_ttl:
            self._names = await self._bm.get_event_names()
            self._names_at = now
            self._sizes.clear()
        return self._names

    async def _bitmap_bytes(self, events: Sequence[str], months: Sequence[tuple[int, int]]) -> int:
        """The largest bitmap of *events* in *months*: the size of their month keys (which hold
        every id their days hold), measured once per *names_ttl* (a ``GET`` each: no key is
        created). A custom handler is sized by the largest of the first stored events."""
        names = [e for e in events if e not in self._handlers]
        if len(names) < len(events):
            names += self._names[:_SAMPLE_EVENTS]
        largest = 0
        now = time.monotonic()
        for name in dict.fromkeys(names):
            for year, month in months:
                cached = self._sizes.get((name, year, month))
                if cached is None or now - cached[1] > self._names_ttl:
                    size = len(await self._bm.MonthEvents(name, year, month).bitmap())
                    cached = (size, now)
                    self._sizes[(name, year, month)] = cached
                largest = max(largest, cached[0])
        return largest

    def _selections(self, names: list[str]) -> list[tuple[str, str]]:
        custom = [(f"{name} (custom)", name) for name in sorted(self._handlers)]
        return custom + [(name, name) for name in names]


def _json(body: object) -> str:
    """JSON with ``<``, ``>`` and ``&`` escaped, so no name can read as markup even where a
    client ignores the content type."""
    text = json.dumps(body, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def _lenient_values(raw: bytes) -> dict[str, str]:
    """The query string's values to refill a form that showed an error ({} if unreadable)."""
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=100))
    except ValueError:
        return {}


def _names_of(*names: str | None) -> list[str]:
    return [n for n in names if n is not None]


def _years(start: date, end: date) -> tuple[tuple[int, int], ...]:
    """The months a range's sizes are measured in: its first and last (a bitmap grows with the
    ids, so the newest month is the largest in practice; the first guards a shrinking store)."""
    return tuple(dict.fromkeys(((start.year, start.month), (end.year, end.month))))


def _points(points: Sequence[tuple[datetime, int]]) -> list[dict[str, Any]]:
    return [{"period": p.date().isoformat(), "count": c} for p, c in points]


def _route_path(scope: Scope) -> str:
    """The path below where the app is mounted (Starlette keeps the full path in ``path``
    and the mount point in ``root_path``)."""
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


def _html_headers(nonce: str) -> list[tuple[bytes, bytes]]:
    policy = (
        "default-src 'none'; "
        f"style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
    )
    return [
        (b"content-security-policy", policy.encode()),
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
        (b"x-content-type-options", b"nosniff"),
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


_NO_COHORT_EVENT = "Choose an event for “People who did”."
_NO_FUNNEL_STEPS = "Choose at least two steps (“Step 1” and “Step 2”)."


def _required(found: tuple[Any, Any], message: str) -> tuple[Any, Any]:
    """*found* (a parsed request and its answer) when the request asked for something, else a
    400 with *message* (a download or an API call needs what a bare page may leave empty)."""
    if found[0] is None or found[1] is None:
        raise BadRequest(message)
    return found
