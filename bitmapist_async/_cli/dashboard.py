"""``bitmapist-async dashboard``: serve the cohort dashboard (form, heatmap table, CSV), that is
:class:`bitmapist_async.cohort.asgi.CohortApp` under uvicorn (see :data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from .._async.client import DEFAULT_URL, Bitmapist
from .._async.cohort import Compute
from .._core.url import read_only_url
from .common import EXIT_STATUS_TEXT, EXIT_USAGE, CommandError, add_store_option

__all__ = ("DESCRIPTION", "register", "serve")

DESCRIPTION = f"""\
Serve the cohort dashboard (form, heatmap table, CSV) over HTTP.

  bitmapist-async dashboard --store redis://127.0.0.1:6379/0 --port 8000

Reads the events stored under --key-prefix in --store and serves them with uvicorn
(pip install 'bitmapist-async[dashboard]') on --host/--port (--port 0: any free port; the
address is logged on standard error). It only reads: the temporary keys of each table are
deleted once it is computed, and an embedded store (file:) is opened read-only, so a
missing file is an error, never created. Stop it with Ctrl+C (or SIGTERM).

{EXIT_STATUS_TEXT}; 2 also when uvicorn is not installed.
"""


async def serve(
    url: str, host: str, port: int, key_prefix: str, log_level: str, compute: Compute = "storage"
) -> None:
    """Serve the dashboard for the store at *url* until the process is told to stop (an
    embedded store is opened read-only, ``?mode=ro``)."""
    import uvicorn

    from ..cohort.asgi import CohortApp

    async with Bitmapist(read_only_url(url), key_prefix=key_prefix) as bm:
        await bm.ping()  # fail now, with the server's error, rather than on the first request
        config = uvicorn.Config(
            CohortApp(bm, compute=compute),
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
        raise CommandError(
            "the dashboard needs uvicorn: pip install 'bitmapist-async[dashboard]'", EXIT_USAGE
        ) from None
    asyncio.run(
        serve(args.store, args.host, args.port, args.key_prefix, args.log_level, args.compute)
    )
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the cohort dashboard (form, heatmap table, CSV) over HTTP",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(
        parser,
        "--store",
        dest="store",
        default=DEFAULT_URL,
        help=f"the store to read (default {DEFAULT_URL})",
        old=("--redis-url",),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)"
    )
    parser.add_argument(
        "--key-prefix",
        default="trackist_",
        metavar="PREFIX",
        help="prefix of the keys to read (default trackist_)",
    )
    parser.add_argument(
        "--compute",
        default="storage",
        choices=["storage", "local"],
        help="count cells in storage (default) or here, fetching each bitmap once",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default info)",
    )
    parser.set_defaults(run=_run)
