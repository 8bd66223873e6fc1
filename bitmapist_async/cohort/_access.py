"""Who may read the dashboard (no I/O): HTTP basic credentials and the bind-address rule.

A dashboard bound to a loopback address is reachable only from this machine. Bound anywhere
else it needs an explicit choice: credentials from the environment variable
:data:`CREDENTIALS_ENV` (``user:password``), or ``public=True`` (the CLI's ``--public``),
which says it is meant to be open.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from collections.abc import Mapping

__all__ = (
    "CREDENTIALS_ENV",
    "AccessError",
    "Credentials",
    "authorized",
    "bind_credentials",
    "is_loopback",
    "parse_credentials",
)

#: The environment variable the CLI reads HTTP basic credentials from.
CREDENTIALS_ENV = "BITMAPIST_DASHBOARD_CREDENTIALS"

Credentials = tuple[str, str]


class AccessError(ValueError):
    """The dashboard may not start with this address and these credentials."""


def is_loopback(host: str) -> bool:
    """Whether *host* is a loopback address (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything


def parse_credentials(value: str) -> Credentials:
    """``user:password`` as a pair; :class:`AccessError` when either part is empty."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise AccessError(f"{CREDENTIALS_ENV} must be 'user:password' with both parts non-empty")
    return user, password


def bind_credentials(host: str, environ: Mapping[str, str], public: bool) -> Credentials | None:
    """The credentials a dashboard bound to *host* requires (``None``: none).

    :raises AccessError: *host* is not loopback, :data:`CREDENTIALS_ENV` is unset and
        *public* is false; or the variable is malformed.
    """
    value = environ.get(CREDENTIALS_ENV)
    if value:
        return parse_credentials(value)
    if is_loopback(host) or public:
        return None
    raise AccessError(
        f"--host {host} is reachable from other machines: set {CREDENTIALS_ENV}=user:password "
        "to require HTTP basic credentials, or pass --public if it is meant to be open"
    )


def authorized(header: bytes | None, credentials: Credentials) -> bool:
    """Whether an ``Authorization`` header carries *credentials* (compared in constant time)."""
    if not header or header[:6].lower() != b"basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, _, password = decoded.partition(b":")
    ok_user = secrets.compare_digest(user, credentials[0].encode("utf-8"))
    ok_password = secrets.compare_digest(password, credentials[1].encode("utf-8"))
    return ok_user and ok_password
