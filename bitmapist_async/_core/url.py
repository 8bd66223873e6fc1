"""Connection URLs: scheme checks and password redaction.

Passwords never appear in ``repr``, logs or error messages: everything that shows a URL shows
:func:`redact_url`'s form of it.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ("CLUSTER_SCHEMES", "REDIS_SCHEMES", "check_redis_url", "cluster_node_url", "redact_url")

REDIS_SCHEMES = ("redis", "rediss", "unix")

#: Redis Cluster URLs (``layout="sharded"`` only), mapped to the scheme of one seed node.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def redact_url(url: str) -> str:
    """*url* with any password replaced by ``***`` (the username is kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{user}:***@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_redis_url(url: object) -> str:
    """Return *url* if it is a Redis URL this library can open.

    :raises TypeError: *url* is not a ``str``.
    :raises ValueError: the scheme is not one of ``redis://``, ``rediss://`` (TLS), ``unix://``.
    """
    if not isinstance(url, str):
        raise TypeError(f"URL must be a str, got {type(url).__name__}")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ValueError(f"cannot parse URL {redact_url(url)!r}") from exc
    if scheme in CLUSTER_SCHEMES:
        raise ValueError(
            f"{redact_url(url)!r} is a Redis Cluster URL: it needs layout='sharded' "
            "(bit operations only work on keys of one hash slot)"
        )
    if scheme not in REDIS_SCHEMES:
        raise ValueError(
            f"unknown URL scheme {scheme!r} in {redact_url(url)!r}: expected one of "
            + ", ".join(f"{s}://" for s in REDIS_SCHEMES)
        )
    return url


def cluster_node_url(url: object) -> str | None:
    """For a ``redis+cluster://`` or ``rediss+cluster://`` URL, the ``redis://``/``rediss://``
    URL of its seed node; ``None`` for any other URL.

    :raises TypeError: *url* is not a ``str``.
    :raises ValueError: the URL cannot be parsed.
    """
    if not isinstance(url, str):
        raise TypeError(f"URL must be a str, got {type(url).__name__}")
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ValueError(f"cannot parse URL {redact_url(url)!r}") from exc
    if scheme not in CLUSTER_SCHEMES:
        return None
    return CLUSTER_SCHEMES[scheme] + url[len(scheme) :]
