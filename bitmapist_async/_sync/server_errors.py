# This file is generated from bitmapist_async/_async/server_errors.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Clear errors for what a Redis-compatible server lacks.

bitmapist-server has no ``AUTH``: redis-py's connection handshake sends one whenever the URL or
options carry a password, and the server's "unknown command 'auth'" would reach the caller as a
bare ``ResponseError`` from inside the handshake. :func:`no_auth_aware` wraps a pool's connection
class so that the handshake raises :class:`~bitmapist_async.ServerCapabilityError` instead,
naming the (redacted) target and what to do. It overrides redis-py's
``Connection.on_connect_check_health`` (redis-py >= 6); where that hook is missing the bare
error stays (``tests/_async/test_connection.py::test_a_password_on_bitmapist_server`` covers it).
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from .._core.errors import ServerCapabilityError

__all__ = ("no_auth_aware",)

_NO_AUTH = "unknown command 'auth'"


def no_auth_aware(connection_class: type[Any], target: str) -> type[Any]:
    """A subclass of *connection_class* whose handshake explains a server without ``AUTH``."""

    class NoAuthAware(connection_class):  # type: ignore[misc]
        def on_connect_check_health(self, *args: Any, **kwargs: Any) -> None:
            try:
                super().on_connect_check_health(*args, **kwargs)
            except ResponseError as exc:
                if _NO_AUTH not in str(exc).lower():
                    raise
                # Not a RedisError: redis-py would keep the socket as if the handshake passed.
                self.disconnect()
                raise ServerCapabilityError(
                    f"{target} has no AUTH command (bitmapist-server has none), so it cannot "
                    "check a password: remove the password from the URL and options, and "
                    "restrict who can reach the server instead"
                ) from exc

    NoAuthAware.__name__ = NoAuthAware.__qualname__ = f"NoAuthAware{connection_class.__name__}"
    return NoAuthAware
