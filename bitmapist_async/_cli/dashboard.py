"""``bitmapist-async dashboard``: serve the dashboard (overview, trends, retention, funnels,
their CSV and JSON API), that is :class:`bitmapist_async.cohort.asgi.CohortApp` under uvicorn
(see :data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from .._async.client import Bitmapist
from .._async.cohort import Compute
from .._core.url import read_only_url
from ..cohort._access import AccessError, Credentials, bind_credentials
from .common import EXIT_STATUS_TEXT, EXIT_USAGE, CommandError, add_store_option
from .demo import DEMO_PREFIX, DEMO_STORE

__all__ = ("DESCRIPTION", "register", "serve")

_DEMO_FILE = DEMO_STORE.removeprefix("file:")

DESCRIPTION = f"""\
Serve the dashboard over HTTP: an overview (DAU, WAU, MAU), trends, retention and funnels,
each with its CSV download, and a JSON API (/api/trend, /api/rolling, /api/funnel,
/api/cohort).

  bitmapist-async dashboard                                   # what 'demo' wrote
  bitmapist-async dashboard --store redis://127.0.0.1:6379/0 --port 8000

With no --store it shows what 'bitmapist-async demo' wrote ({_DEMO_FILE}, prefix
{DEMO_PREFIX}); with one, the prefix defaults to bitmapist's trackist_. It serves with uvicorn
(pip install 'bitmapist-async[dashboard]') on --host/--port (--port 0: any free port; the
address is logged on standard error). It only reads: the temporary keys of each request are
deleted once it is answered, and an embedded store (file:) is opened read-only, so a missing
file is an error, never created. Bound to an address other than loopback it needs HTTP basic
credentials in BITMAPIST_DASHBOARD_CREDENTIALS (user:password), or --public to serve it open
on purpose. Stop it with Ctrl+C (or SIGTERM).

{EXIT_STATUS_TEXT}; 2 also when uvicorn is not installed or a public address has no
credentials.
"""


async def serve(
    url: str,
    host: str,
    port: int,
    key_prefix: str,
    log_level: str,
    compute: Compute = "auto",
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
        raise CommandError(
            "the dashboard needs uvicorn: pip install 'bitmapist-async[dashboard]'", EXIT_USAGE
        ) from None
    url, prefix = args.store or DEMO_STORE, args.key_prefix
    if prefix is None:
        prefix = "trackist_" if args.store else DEMO_PREFIX
    if args.store is None and not Path(_DEMO_FILE).exists():
        raise CommandError(
            f"no {_DEMO_FILE} here: run 'bitmapist-async demo' first, or pass --store "
            "(a Redis or file: URL)"
        )
    try:
        credentials = bind_credentials(args.host, os.environ, args.public)
    except AccessError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    asyncio.run(serve(url, args.host, args.port, prefix, args.log_level, args.compute, credentials))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the dashboard (overview, trends, retention, funnels) over HTTP",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_option(
        parser,
        "--store",
        dest="store",
        default=None,
        help=f"the store to read (default {DEMO_STORE}, the demo's, with prefix {DEMO_PREFIX})",
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
        default=None,
        metavar="PREFIX",
        help=f"prefix of the keys to read (default trackist_; {DEMO_PREFIX} without --store)",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="serve a non-loopback --host without credentials, on purpose",
    )
    parser.add_argument(
        "--compute",
        default="auto",
        choices=["auto", "storage", "local"],
        help="where cohort cells are counted: auto (default: here while the bitmaps are small), "
        "storage, or local",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default info)",
    )
    parser.set_defaults(run=_run)
