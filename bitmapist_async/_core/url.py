"""Connection URLs: scheme checks and password redaction.

Passwords never appear in ``repr``, logs or error messages: everything that shows a URL shows
:func:`redact_url`'s form of it.
"""

from __future__ import annotations

import codecs
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Literal
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


def _secret_option(name: str) -> bool:
    return "password" in name.lower()


def _redact_query(query: str) -> str:
    if "password" not in query.lower():
        return query
    fields = parse_qsl(query, keep_blank_values=True)
    return "&".join(
        f"{quote(name, safe='')}=" + ("***" if _secret_option(name) else quote(value, safe=""))
        for name, value in fields
    )


def redact_url(url: str) -> str:
    """*url* with any password replaced by ``***``: the userinfo one (the username is kept; a
    userinfo without a colon is hidden whole, as it may be a password) and every query option
    whose name contains ``password`` (``?password=``, ``ssl_password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    query = _redact_query(parts.query)
    if parts.password is None and parts.username is None:
        if query == parts.query:
            return url
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    # A lone "user@" may be a password written without its colon (redis://s3cret@host is a
    # common mistake): it is hidden too.
    user = parts.username or "" if parts.password is not None else "***"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    secret = ":***" if parts.password is not None else ""
    netloc = f"{user}{secret}@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def check_redis_url(url: object) -> str:
    """Return *url* if it is a Redis URL this library can open, exactly as written.

    Nothing is re-routed: redis-py would connect a URL with port 0 to 6379 and a URL whose
    database is not a number to database 0; both are refused here, as are an out-of-range port,
    a missing host, and query options that redis-py does not know or cannot parse. A URL
    without a port means 6379 and one without a database means 0 (the Redis URL scheme).

    :raises TypeError: *url* is not a ``str``.
    :raises ValueError: the scheme is not one of ``redis://``, ``rediss://`` (TLS), ``unix://``
        (the message also lists the embedded schemes, which :func:`is_embedded_url` picks out
        first), or the URL is malformed as above (the message names the bad part).
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
    if scheme in EMBEDDED_SCHEMES:
        raise ValueError(
            f"{redact_url(url)!r} names the embedded store, which keeps one bitmap per key: "
            "the sharded layout (and RedisStorage) need Redis or Redis Cluster; open the "
            "embedded store with Bitmapist(url) and layout='classic'"
        )
    if scheme not in REDIS_SCHEMES:
        raise ValueError(
            f"unknown URL scheme {scheme!r} in {redact_url(url)!r}: expected one of {_ALL_SCHEMES}"
        )
    _check_redis_parts(url, scheme)
    return url


def _check_redis_parts(url: str, scheme: str, *, cluster: bool = False) -> None:
    shown = redact_url(url)
    parts = urlsplit(url)
    if parts.fragment:
        raise ValueError(f"Redis URL {shown!r} has a fragment ({parts.fragment!r})")
    options = _redis_options(shown, parts.query, scheme)
    if scheme == "unix":
        if not parts.path or parts.path.endswith("/"):
            raise ValueError(f"unix URL {shown!r} names no socket file")
        if "db" in options:
            _database(shown, options["db"], "?db=")
        return
    if not parts.hostname:
        raise ValueError(f"Redis URL {shown!r} names no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(
            f"Redis URL {shown!r} has an invalid port {parts.netloc.rpartition(':')[2]!r}: "
            "expected a number from 1 to 65535"
        ) from exc
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"Redis URL {shown!r} has port {port}: expected a number from 1 to 65535")
    path = unquote(parts.path)
    db = None
    if path not in ("", "/"):
        db = _database(shown, path[1:], "path")
    if "db" in options:
        in_query = _database(shown, options["db"], "?db=")
        if db is not None and in_query != db:
            raise ValueError(
                f"Redis URL {shown!r} selects two databases: {db} in its path, {in_query} in "
                "?db= (give one)"
            )
        db = in_query
    if cluster and db not in (None, 0):
        raise ValueError(f"Redis Cluster URL {shown!r} selects database {db}: a cluster has only 0")


def _database(shown: str, text: str, where: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) >= 2**31:
        raise ValueError(
            f"Redis URL {shown!r} has database {text!r} ({where}): expected a number such as /0"
        )
    return int(text)


def _positive(value: str) -> bool:
    return float(value) > 0


def _not_negative(value: str) -> bool:
    return float(value) >= 0


#: What each option's value must be, beyond what redis-py's parser accepts (a check that
#: redis-py would otherwise fail at the first connection, or misread: a negative timeout).
_VALUE_RULES: dict[str, tuple[Any, str]] = {
    "socket_timeout": (_positive, "a number of seconds > 0"),
    "socket_connect_timeout": (_positive, "a number of seconds > 0"),
    "health_check_interval": (_not_negative, "a number of seconds >= 0"),
    "max_connections": (lambda v: int(v) >= 1, "a whole number >= 1"),
    "socket_read_size": (lambda v: int(v) >= 1, "a whole number >= 1"),
    "protocol": (lambda v: int(v) in (2, 3), "2 or 3"),
    "encoding": (lambda v: bool(codecs.lookup(v)), "a Python codec name such as utf-8"),
    "encoding_errors": (lambda v: bool(codecs.lookup_error(v)), "strict, replace, ..."),
}


def _redis_options(shown: str, query: str, scheme: str) -> dict[str, str]:
    """The query options of a Redis URL, each checked as redis-py will read it."""
    if not query:
        return {}
    try:
        fields = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise ValueError(f"cannot parse the options of {shown!r}: {exc}") from exc
    parsers, known = _redis_option_names(scheme)
    options: dict[str, str] = {}
    for name, value in fields:
        if name not in known:
            raise ValueError(
                f"unknown option {name!r} in Redis URL {shown!r}: redis-py knows "
                + ", ".join(sorted(known))
            )
        if name in options:
            raise ValueError(f"option {name!r} is given twice in Redis URL {shown!r}")
        parser = parsers.get(name)
        rule, expected = _VALUE_RULES.get(name, (None, ""))
        cause: Exception | None = None
        try:
            if parser is not None:
                parser(value)
            valid = rule is None or rule(value)
        except (TypeError, ValueError, LookupError) as exc:
            valid, cause = False, exc
        if not valid:
            shown_value = "***" if _secret_option(name) else repr(value)
            raise ValueError(
                f"option {name}={shown_value} in Redis URL {shown!r} is not valid"
                + (f": expected {expected}" if expected else "")
            ) from cause
        options[name] = value
    return options


#: Options a Redis URL may carry beside redis-py's parsed ones: text that redis-py passes to the
#: connection as is (``rediss://`` also takes every ``ssl_*`` option of its connection class).
_TEXT_OPTIONS = ("username", "password", "client_name", "encoding", "encoding_errors")


@functools.cache
def _redis_option_names(scheme: str) -> tuple[dict[str, Any], frozenset[str]]:
    """redis-py's parsers of URL options, and every option name a URL of *scheme* may carry."""
    from redis.asyncio import connection

    parsers = dict(getattr(connection, "URL_QUERY_ARGUMENT_PARSERS", {}))
    parsers.setdefault("db", int)
    # "timeout" is only BlockingConnectionPool's: the connection redis-py makes refuses it.
    parsers.pop("timeout", None)
    known = {*parsers, *_TEXT_OPTIONS}
    if scheme == "rediss":
        for cls in connection.SSLConnection.__mro__:
            init = cls.__dict__.get("__init__")
            try:
                parameters = inspect.signature(init).parameters if init else {}
            except (TypeError, ValueError):  # pragma: no cover - not introspectable
                continue
            known.update(name for name in parameters if name.startswith("ssl_"))
    else:
        known -= {name for name in parsers if name.startswith("ssl_")}
    return parsers, frozenset(known)


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
        raise ValueError(f"cannot parse the options of {redact_url(url)!r}: {exc}") from exc
    seen: set[str] = set()
    for name, value in fields:
        if name in seen:
            raise ValueError(f"option {name!r} is given twice in {redact_url(url)!r}")
        seen.add(name)
        if name == "synchronous":
            if value.lower() not in ("normal", "full"):
                raise ValueError(
                    f"synchronous must be 'normal' or 'full', got {value!r} in {redact_url(url)!r}"
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
                raise ValueError(f"mode must be 'ro' or 'rw', got {value!r} in {redact_url(url)!r}")
            read_only = value.lower() == "ro"
        else:
            raise ValueError(
                f"unknown option {name!r} in {redact_url(url)!r}: the embedded store takes "
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
            raise ValueError(f"memory:// takes no host, path or options, got {redact_url(url)!r}")
        return EmbeddedTarget(None)
    if scheme != "file":
        raise ValueError(
            f"not an embedded-store URL: {redact_url(url)!r} (expected file: or memory://)"
        )
    if parts.netloc not in ("", "localhost"):
        raise ValueError(
            f"file URL {redact_url(url)!r} names host {urlsplit(redact_url(url)).netloc!r}: use "
            "file:///absolute/path or "
            "file:relative/path"
        )
    if parts.fragment:
        raise ValueError(f"file URL {redact_url(url)!r} has a fragment")
    path = unquote(parts.path)
    if not path or path.endswith("/"):
        raise ValueError(f"file URL {redact_url(url)!r} names no file")
    if "\0" in path:
        raise ValueError(f"file URL {redact_url(url)!r} contains a NUL byte")
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
    node = CLUSTER_SCHEMES[scheme] + url[len(scheme) :]
    try:
        _check_redis_parts(node, CLUSTER_SCHEMES[scheme], cluster=True)
    except ValueError as exc:
        raise ValueError(str(exc).replace(redact_url(node), redact_url(url))) from None
    return node
