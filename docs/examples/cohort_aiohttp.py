"""The cohort dashboard in an aiohttp application, built from the public render functions.

aiohttp does not speak ASGI, so instead of mounting ``CohortApp`` this example renders the
same page itself: ``render_page`` for the form and the heatmap table, ``render_csv`` for the
download. Run it with::

    pip install 'bitmapist-async' aiohttp
    python docs/examples/cohort_aiohttp.py redis://127.0.0.1:6379/0   # then open :8080
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from aiohttp import web

from bitmapist_async import Bitmapist, CohortQuery
from bitmapist_async.cohort import render_csv, render_page

CLIENT = web.AppKey("client", Bitmapist)


async def _query(request: web.Request) -> tuple[list[str], CohortQuery]:
    """The event names in the store and the request's query; ValueError if it is bad."""
    names = await request.app[CLIENT].get_event_names()
    query = CohortQuery.from_params(dict(request.query))
    for name in (query.select1, query.select1b, query.select2, query.select2b):
        if name is not None and name not in names:
            raise ValueError(f"unknown event {name!r}")
    return names, query


async def page(request: web.Request) -> web.Response:
    bm = request.app[CLIENT]
    nonce = secrets.token_urlsafe(16)
    names = await bm.get_event_names()
    query, table, error, status = None, None, "", 200
    if request.query:
        try:
            names, query = await _query(request)
            table = await bm.cohort(**query.as_kwargs())
        except (TypeError, ValueError) as exc:
            error, status = str(exc), 400
    html = render_page(
        names,
        query=query,
        table=table,
        error=error,
        csv_url=f"/cohort.csv?{urlencode(query.to_params())}" if query else "",
        nonce=nonce,
    )
    policy = f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'"
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={"Content-Security-Policy": policy},
    )


async def csv_download(request: web.Request) -> web.Response:
    try:
        _, query = await _query(request)
    except (TypeError, ValueError) as exc:
        return web.Response(text=f"{exc}\n", status=400)
    table = await request.app[CLIENT].cohort(**query.as_kwargs())
    return web.Response(
        text=render_csv(table),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cohort.csv"'},
    )


def make_app(redis_url: str) -> web.Application:
    """The application; its client opens with it and closes with it."""

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with Bitmapist(redis_url) as bm:
            app[CLIENT] = bm
            yield

    app = web.Application()
    app.cleanup_ctx.append(client)
    app.router.add_get("/", page)
    app.router.add_get("/cohort.csv", csv_download)
    return app


if __name__ == "__main__":
    web.run_app(make_app(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"))
