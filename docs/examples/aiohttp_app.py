"""An aiohttp application whose marks go out in one flush per request.

``aiohttp_middleware`` opens a batch around every request: the handler's marks return at once
and travel to Redis together when the handler has returned, before the response is sent. Run it
with::

    BITMAPIST_URL=redis://127.0.0.1:6379/0 python aiohttp_app.py
"""

from __future__ import annotations

import os

from aiohttp import web

from bitmapist_async import Bitmapist
from bitmapist_async.middleware import aiohttp_middleware


def create_app(bm: Bitmapist | None = None) -> web.Application:
    """The application, marking through *bm* (default: a client of ``$BITMAPIST_URL``)."""
    client = bm if bm is not None else Bitmapist(os.environ.get("BITMAPIST_URL"))

    async def play(request: web.Request) -> web.Response:
        song_id = int(request.match_info["song_id"])
        user_id = int(request.query["user_id"])
        # Four marks, one flush: the middleware sends them when this handler returns.
        await client.mark_event("song:played", user_id, track_hourly=True)
        await client.mark_event(f"song:{song_id}:played", user_id)
        await client.mark_unique("listener", user_id)
        await client.mark_event("active", user_id)
        return web.json_response({"song_id": song_id, "user_id": user_id})

    async def listeners(request: web.Request) -> web.Response:
        return web.json_response({"listeners": await client.UniqueEvents("listener").count()})

    async def close_client(app: web.Application) -> None:
        await client.aclose()  # stores every pending mark before the process exits

    app = web.Application(middlewares=[aiohttp_middleware(client)])
    app.router.add_post("/songs/{song_id}/plays", play)
    app.router.add_get("/listeners", listeners)
    app.on_cleanup.append(close_client)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
