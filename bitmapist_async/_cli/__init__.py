"""The ``bitmapist-async`` console script.

Each subcommand lives in its own module with ``register(subparsers)``; :data:`COMMANDS` lists
them, so adding a command is one new module and one line here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from .common import EXIT_STATUS_TEXT, add_debug_option, run_command

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
        description="Real-time 'who did what, when' analytics on Redis bitmaps.\n\n"
        "Every command takes --debug (print the traceback of an error) and --help.\n"
        "Results go to standard output; errors, warnings and progress to standard error.\n"
        + EXIT_STATUS_TEXT
        + ", 3 too many bad rows (import).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bitmapist-async {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name, __name__).register(subparsers)
    for sub in subparsers.choices.values():
        add_debug_option(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[command]
            return sub
    raise AssertionError("no subcommands")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse *argv* and run the chosen subcommand; return the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the subcommand's parser, with its usage line
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    return run_command(args.run, args, f"bitmapist-async {args.command}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
