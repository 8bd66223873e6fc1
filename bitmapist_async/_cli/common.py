"""What every subcommand shares: exit codes, the store options, and turning errors into one line.

Streams: results go to standard output, diagnostics (errors, warnings, progress, rejected rows)
to standard error. A command reports a failure by raising; :func:`run_command` prints one line
naming it (``bitmapist-async COMMAND: error: ...``) and returns its exit code, or prints the
traceback too under ``--debug``. Storage errors already name the storage by its redacted URL.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import redis

from .._core.errors import BitmapistError, ImportAbortedError

__all__ = (
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TOO_MANY_BAD_ROWS",
    "EXIT_USAGE",
    "EXIT_STATUS_TEXT",
    "CommandError",
    "add_debug_option",
    "add_store_option",
    "run_command",
)

EXIT_OK = 0
#: Anything that went wrong while running: storage unreachable or refusing, a missing or bad
#: input file, a damaged store, a verification that failed.
EXIT_FAILED = 1
#: The command line itself is wrong: an unknown option, a bad value, a malformed URL.
EXIT_USAGE = 2
#: ``import`` met more bad rows than ``--max-errors``.
EXIT_TOO_MANY_BAD_ROWS = 3
#: Stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

EXIT_STATUS_TEXT = (
    "exit status: 0 success, 1 failure (storage unreachable or refusing, missing or bad "
    "input, verification failed), 2 usage (bad option or URL)"
)


class CommandError(Exception):
    """A failure a command reports itself: *message* on standard error, exit *code*."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


class _Deprecated(argparse.Action):
    """An old spelling of an option: works, warns once on standard error, hidden from help."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        self.new = kwargs.pop("new")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{parser.prog}: warning: {option_string} is deprecated, use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def add_store_option(
    parser: argparse.ArgumentParser,
    flag: str,
    *,
    dest: str,
    default: str | None,
    help: str,
    old: Sequence[str] = (),
) -> None:
    """Add the store option *flag* (``--store``, ``--from``, ``--to``) and its *old* spellings,
    which still work for a release (hidden from help, with a warning)."""
    parser.add_argument(flag, dest=dest, default=default, metavar="URL", help=help)
    for spelling in old:
        parser.add_argument(
            spelling,
            dest=dest,
            default=argparse.SUPPRESS,
            metavar="URL",
            help=argparse.SUPPRESS,
            action=_Deprecated,
            new=flag,
        )


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug", action="store_true", help="on an error, print the full traceback too"
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text += f": {exc.filename}"
    return text


def run_command(
    run: Callable[[argparse.Namespace], int], args: argparse.Namespace, prog: str
) -> int:
    """Run *run*, turning the errors a user can meet into one line on standard error."""
    error: Exception
    try:
        return run(args)
    except KeyboardInterrupt:  # Ctrl-C: no traceback (import reports how far it got itself)
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CommandError as exc:
        code, message, error = exc.code, str(exc), exc
    except (BitmapistError, redis.RedisError, OSError) as exc:
        code, message, error = EXIT_FAILED, _one_line(exc), exc
        if isinstance(exc, ImportAbortedError):
            code = EXIT_TOO_MANY_BAD_ROWS
    except (ValueError, TypeError) as exc:  # a bad option value found once parsed (a URL, ...)
        code, message, error = EXIT_USAGE, _one_line(exc), exc
    if getattr(args, "debug", False):
        traceback.print_exception(error, file=sys.stderr)
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code
