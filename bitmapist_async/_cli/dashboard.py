"""``bitmapist-async dashboard``: serve the cohort dashboard (form, heatmap table, CSV).

Reads the events stored under ``--key-prefix`` on ``--redis-url`` and serves
:class:`bitmapist_async.cohort.asgi.CohortApp` with uvicorn (``pip install
'bitmapist-async[dashboard]'``) on ``--host``/``--port`` (``--port 0``: any free port; the
address is logged). It only reads: the temporary keys of each table are deleted once it is
computed, and an embedded store (file:) is opened read-only (?mode=ro). Stop it with Ctrl+C
(or SIGTERM).

With no --redis-url it shows what ``bitmapist-async demo`` wrote (./bitmapist-demo.db, prefix
demo:); with one, the prefix defaults to bitmapist's trackist_.
Bound to an address other than loopback it needs HTTP basic credentials in
BITMAPIST_DASHBOARD_CREDENTIALS (user:password), or --public to serve it open on purpose.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import redis.exceptions

from .._async.client import Bitmapist
from .._async.cohort import Compute
from .._core.errors import BitmapistError
from .._core.url import read_only_url
from ..cohort._access import AccessError, Credentials, bind_credentials
from .demo import DEMO_PREFIX, DEMO_STORE

__all__ = ("register", "serve")


async def serve(
    url: str,
    host: str,
    port: int,
    key_prefix: str,
    log_level: str,
    compute: Compute = "storage",
    credentials: Credentials | None = None,
) -> None:
    """Serve the dashboard for the store at *url* until the process is told to stop (an
    embedded store is opened read-only, ``?mode=ro``)."""
    import uvicorn

    from ..cohort.asgi import CohortApp

    async with Bitmapist(read_only_url(url), key_prefix=key_prefix) as bm:
        await bm.ping()  # fail now, with the server's error, rather than on the first request
        config = uvicorn.Config(
            CohortApp(bm, compute=compute, credentials=credentials),
            host=host,
            port=port,
            log_level=log_level,
            lifespan="off",
        )
        await uvicorn.Server(config).serve()


def _run(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        print(
            "the dashboard needs uvicorn: pip install 'bitmapist-async[dashboard]'",
            file=sys.stderr,
        )
        return 2
    url, prefix = args.redis_url or DEMO_STORE, args.key_prefix
    if prefix is None:
        prefix = "trackist_" if args.redis_url else DEMO_PREFIX
    if args.redis_url is None and not Path(DEMO_STORE.removeprefix("file:")).exists():
        print(
            f"bitmapist-async dashboard: no {DEMO_STORE.removeprefix('file:')} here: run "
            "'bitmapist-async demo' first, or pass --redis-url (a Redis or file: URL)",
            file=sys.stderr,
        )
        return 1
    try:
        credentials = bind_credentials(args.host, os.environ, args.public)
    except AccessError as exc:
        print(f"bitmapist-async dashboard: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(
            serve(
                url, args.host, args.port, prefix, args.log_level, args.compute, credentials,
            )
        )  # fmt: skip
    except (OSError, ValueError, redis.exceptions.RedisError, BitmapistError) as exc:
        print(f"bitmapist-async dashboard: {exc}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the cohort dashboard (form, heatmap table, CSV) over HTTP",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--redis-url", default=None, help=f"default {DEMO_STORE} (the demo's store)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="default 8000; 0: any free port")
    parser.add_argument(
        "--key-prefix",
        default=None,
        help=f"default trackist_ (bitmapist's); {DEMO_PREFIX} without --redis-url",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="serve a non-loopback --host without credentials, on purpose",
    )
    parser.add_argument(
        "--compute",
        default="storage",
        choices=["storage", "local"],
        help="count cells in storage (default) or here, fetching each bitmap once",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.set_defaults(run=_run)
