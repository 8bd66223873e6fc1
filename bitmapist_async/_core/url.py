"""Connection URLs: scheme checks and password redaction.

Passwords never appear in ``repr``, logs or error messages: everything that shows a URL shows
:func:`redact_url`'s form of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

__all__ = (
    "CLUSTER_SCHEMES",
    "DEFAULT_EMBEDDED_URL",
    "EMBEDDED_SCHEMES",
    "REDIS_SCHEMES",
    "EmbeddedTarget",
    "check_redis_url",
    "cluster_node_url",
    "is_embedded_url",
    "parse_embedded_url",
    "read_only_url",
    "redact_url",
)

REDIS_SCHEMES = ("redis", "rediss", "unix")
#: ``file:`` (an SQLite file) and ``memory://`` (a private in-memory store) select the embedded
#: backend.
EMBEDDED_SCHEMES = ("file", "memory")
#: The embedded store ``Bitmapist()`` will open once it defaults to the embedded backend: a file
#: in the working directory.
DEFAULT_EMBEDDED_URL = "file:bitmapist.db"
_DEFAULT_TIMEOUT = 10.0
_ALL_SCHEMES = ", ".join(f"{s}://" for s in (*REDIS_SCHEMES, *EMBEDDED_SCHEMES))

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
    :raises ValueError: the scheme is not one of ``redis://``, ``rediss://`` (TLS), ``unix://``
        (the message also lists the embedded schemes, which :func:`is_embedded_url` picks out
        first).
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
            f"unknown URL scheme {scheme!r} in {redact_url(url)!r}: expected one of {_ALL_SCHEMES}"
        )
    return url


def is_embedded_url(url: object) -> bool:
    """Whether *url* names the embedded backend (``file:`` or ``memory:`` scheme); no checks."""
    if not isinstance(url, str):
        return False
    try:
        return urlsplit(url).scheme.lower() in EMBEDDED_SCHEMES
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class EmbeddedTarget:
    """Where and how the embedded backend stores its bitmaps."""

    #: The SQLite file, or ``None`` for a private in-memory store.
    path: str | None
    #: SQLite's ``synchronous`` setting: ``normal`` survives a killed process (every write is in
    #: the write-ahead log when it returns), ``full`` also survives a power cut.
    synchronous: Literal["normal", "full"] = "normal"
    #: Seconds a write waits for another process's write to finish before failing.
    timeout: float = _DEFAULT_TIMEOUT
    #: ``?mode=ro``: open the file read-only; nothing is ever written or created.
    read_only: bool = False

    @property
    def url(self) -> str:
        """The URL of this target (``file:`` with the path quoted, or ``memory://``)."""
        if self.path is None:
            return "memory://"
        url = ("file://" if self.path.startswith("/") else "file:") + quote(self.path)
        return url + "?mode=ro" if self.read_only else url


def _embedded_options(url: str, query: str) -> tuple[Literal["normal", "full"], float, bool]:
    synchronous: Literal["normal", "full"] = "normal"
    timeout = _DEFAULT_TIMEOUT
    read_only = False
    try:
        fields = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ValueError(f"cannot parse the options of {url!r}: {exc}") from exc
    for name, value in fields:
        if name == "synchronous":
            if value.lower() not in ("normal", "full"):
                raise ValueError(
                    f"synchronous must be 'normal' or 'full', got {value!r} in {url!r}"
                )
            synchronous = "full" if value.lower() == "full" else "normal"
        elif name == "timeout":
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if not seconds >= 0:
                raise ValueError(f"timeout must be a number of seconds >= 0, got {value!r}")
            timeout = seconds
        elif name == "mode":
            if value.lower() not in ("ro", "rw"):
                raise ValueError(f"mode must be 'ro' or 'rw', got {value!r} in {url!r}")
            read_only = value.lower() == "ro"
        else:
            raise ValueError(
                f"unknown option {name!r} in {url!r}: the embedded store takes "
                "synchronous=normal|full, timeout=SECONDS and mode=ro|rw"
            )
    return synchronous, timeout, read_only


def parse_embedded_url(url: object) -> EmbeddedTarget:
    """Parse an embedded-store URL.

    ``file:///abs/path/events.db``, ``file:relative/events.db`` (relative to the working
    directory), ``file://localhost/abs/path.db``, each optionally with
    ``?synchronous=normal|full&timeout=SECONDS`` and ``mode=ro`` (read-only: never writes,
    never creates the file); ``memory://`` for a private in-memory store.

    :raises TypeError: *url* is not a ``str``.
    :raises ValueError: another scheme, a remote host, an empty path, or an unknown option.
    """
    if not isinstance(url, str):
        raise TypeError(f"URL must be a str, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"cannot parse URL {redact_url(url)!r}") from exc
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if parts.netloc or parts.path or parts.query or parts.fragment:
            raise ValueError(f"memory:// takes no host, path or options, got {url!r}")
        return EmbeddedTarget(None)
    if scheme != "file":
        raise ValueError(
            f"not an embedded-store URL: {redact_url(url)!r} (expected file: or memory://)"
        )
    if parts.netloc not in ("", "localhost"):
        raise ValueError(
            f"file URL {url!r} names host {parts.netloc!r}: use file:///absolute/path or "
            "file:relative/path"
        )
    if parts.fragment:
        raise ValueError(f"file URL {url!r} has a fragment")
    path = unquote(parts.path)
    if not path or path.endswith("/"):
        raise ValueError(f"file URL {url!r} names no file")
    if "\0" in path:
        raise ValueError(f"file URL {url!r} contains a NUL byte")
    synchronous, timeout, read_only = _embedded_options(url, parts.query)
    return EmbeddedTarget(path, synchronous, timeout, read_only)


def read_only_url(url: str) -> str:
    """*url* with ``mode=ro`` added when it names an embedded-store file and sets no ``mode``
    (what the read-only CLI commands open); any other URL unchanged.

    :raises ValueError: a malformed embedded-store URL.
    """
    if not is_embedded_url(url) or urlsplit(url).scheme.lower() != "file":
        return url
    target = parse_embedded_url(url)
    if target.read_only or any(name == "mode" for name, _ in parse_qsl(urlsplit(url).query)):
        return url
    return url + ("&" if urlsplit(url).query else "?") + "mode=ro"


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
