"""``bitmapist-async check``: verify every row of an embedded store, reading only (see
:data:`DESCRIPTION`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .._core.errors import EmbeddedStorageError
from .._core.url import EmbeddedTarget, is_embedded_url, parse_embedded_url, read_only_url
from .._sync.embedded_storage import EmbeddedStorage
from .common import EXIT_FAILED, EXIT_USAGE, CommandError

__all__ = ("DESCRIPTION", "register", "store_url")

DESCRIPTION = """\
Verify every row of an embedded store (an SQLite file written by bitmapist-async).

  bitmapist-async check events.db
  bitmapist-async check file:///var/lib/app/events.db

The store is opened read-only: nothing is written or created, so a backup on a
read-only mount can be checked. Every container is decoded and compared with its
stored cardinality (what count() answers), every id with its key's byte length, and
SQLite's integrity check runs over the file.

The summary goes to standard output; the damaged keys and errors to standard error.

exit status: 0 no damage, 1 damage found (one line per damaged key on standard
error), no such file, or the file is not a bitmapist-async store, 2 usage (not an
embedded-store path or URL).
"""

EXIT_DAMAGED = EXIT_FAILED


def store_url(text: str) -> str:
    """The read-only URL of the store *text* names (a path or a ``file:`` URL).

    :raises ValueError: *text* is another kind of URL, or a malformed one.
    """
    if not is_embedded_url(text):
        if "://" in text:
            raise ValueError(f"{text!r} is not an embedded-store file (a path or a file: URL)")
        return EmbeddedTarget(os.path.abspath(text), read_only=True).url
    if parse_embedded_url(text).path is None:
        raise ValueError("memory:// has nothing to check: give a file")
    return read_only_url(text)


def _run(args: argparse.Namespace) -> int:
    try:
        url = store_url(args.store)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    storage = EmbeddedStorage(url)
    path = storage.path
    if path is None or not os.path.isfile(path):
        raise CommandError(f"no such file: {path}", EXIT_FAILED)
    try:
        report = storage.check()
    except EmbeddedStorageError as exc:
        raise CommandError(str(exc), EXIT_DAMAGED) from exc
    finally:
        storage.close()
    for damage in report.damage:
        print(f"{path}: {damage}", file=sys.stderr)
    verdict = "no damage" if report.ok else f"{len(report.damage)} damaged"
    print(f"{path}: {report.keys:,} keys, {report.containers:,} containers: {verdict}")
    return 0 if report.ok else EXIT_DAMAGED


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="verify every row of an embedded store (read-only)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("store", metavar="FILE", help="the store: a path or a file: URL")
    parser.set_defaults(run=_run)
