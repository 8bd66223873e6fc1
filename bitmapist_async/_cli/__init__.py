"""The ``bitmapist-async`` console script.

Each subcommand lives in its own module with ``register(subparsers)``; :data:`COMMANDS` lists
them, so adding a command is one new module and one line here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ("COMMANDS", "main")

#: Modules (relative to this package) that each register one subcommand.
COMMANDS: tuple[str, ...] = (
    ".demo",
    ".dashboard",
    ".migrate",
    ".export",
    ".import_store",
    ".importer",
    ".check",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bitmapist-async",
        description="Real-time 'who did what, when' analytics on Redis bitmaps.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name, __name__).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse *argv* and run the chosen subcommand; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
