"""A FastAPI application whose marks go out in one flush per request.

``BitmapistMiddleware`` opens a batch around every HTTP request: the handler's marks return at
once and travel to Redis together after the response is sent. Run it with::

    BITMAPIST_URL=redis://127.0.0.1:6379/0 uvicorn --factory fastapi_app:create_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bitmapist_async import Bitmapist
from bitmapist_async.middleware import BitmapistMiddleware


def create_app(bm: Bitmapist | None = None) -> FastAPI:
    """The application, marking through *bm* (default: a client of ``$BITMAPIST_URL``)."""
    client = bm if bm is not None else Bitmapist(os.environ.get("BITMAPIST_URL"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()  # stores every pending mark before the process exits

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(BitmapistMiddleware, bitmapist=client)

    @app.post("/songs/{song_id}/plays")
    async def play(song_id: int, user_id: int) -> dict[str, int]:
        # Four marks, one flush: the middleware sends them when the response is done.
        await client.mark_event("song:played", user_id, track_hourly=True)
        await client.mark_event(f"song:{song_id}:played", user_id)
        await client.mark_unique("listener", user_id)
        await client.mark_event("active", user_id)
        return {"song_id": song_id, "user_id": user_id}

    @app.get("/listeners")
    async def listeners() -> dict[str, int]:
        return {"listeners": await client.UniqueEvents("listener").count()}

    return app
