"""Validation of user input, done before any I/O.

Every error names the offending value so that a log line is enough to find the bad caller.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

__all__ = ("MAX_UID", "check_encodable", "check_name", "check_prefix", "check_uid", "to_local")

#: User ids are bit offsets in a Redis string; bitmapist documents the range [0, 2**32).
MAX_UID = 2**32

#: Event names may not begin with this: such keys live in the temporary bit-operation namespace.
RESERVED_NAME_PREFIX = "bitop_"


def check_uid(uid: object) -> int:
    """Return *uid* if it is a valid user id, else raise.

    :raises TypeError: *uid* is not an ``int`` (``bool`` is rejected too).
    :raises ValueError: *uid* is outside ``[0, 2**32)``.
    """
    if type(uid) is not int:
        if isinstance(uid, int) and not isinstance(uid, bool):
            uid = int(uid)  # int subclasses such as IntEnum members
        else:
            raise TypeError(f"user id must be an int, got {uid!r} ({type(uid).__name__})")
    assert isinstance(uid, int)
    if not 0 <= uid < MAX_UID:
        raise ValueError(f"user id must be in [0, 2**32), got {uid!r}")
    return uid


def check_name(name: object) -> str:
    """Return *name* if it is a valid event name, else raise.

    :raises TypeError: *name* is not a ``str``.
    :raises ValueError: *name* is empty, starts with the reserved ``bitop_`` prefix, or cannot
        be encoded as UTF-8 (a lone surrogate).
    """
    if not isinstance(name, str):
        raise TypeError(f"event name must be a str, got {name!r} ({type(name).__name__})")
    if not name:
        raise ValueError("event name must not be empty, got ''")
    if not name.isascii():
        check_encodable("event name", name)
    if name.startswith(RESERVED_NAME_PREFIX):
        raise ValueError(
            f"event name must not start with {RESERVED_NAME_PREFIX!r} (reserved for "
            f"temporary bit-operation keys), got {name!r}"
        )
    return name


def check_prefix(prefix: object) -> str:
    """Return *prefix* if it is a valid key prefix, else raise."""
    if not isinstance(prefix, str):
        raise TypeError(f"key_prefix must be a str, got {prefix!r} ({type(prefix).__name__})")
    if not prefix:
        raise ValueError("key_prefix must not be empty, got ''")
    check_encodable("key_prefix", prefix)
    return prefix


def check_encodable(what: str, text: str) -> str:
    """Return *text* if it encodes as UTF-8 (what every key is sent or stored as), else raise.

    A lone surrogate (``"\\ud800"``, which ``json.loads`` produces from ``"\\ud800"``) is a
    valid ``str`` that no storage can take.

    :raises ValueError: *text* has a character UTF-8 cannot encode (the message names it).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(
            f"{what} must be encodable as UTF-8, got {text!r} ({bad!r} at index {exc.start} "
            "is a lone surrogate)"
        ) from None
    return text


def to_local(dt: object, tz: tzinfo) -> datetime:
    """Convert *dt* to a naive ``datetime`` on the wall clock of *tz*.

    Aware datetimes are converted to *tz*; naive ones are taken as already in *tz*; a plain
    ``date`` means its midnight.

    :raises TypeError: *dt* is neither a ``datetime`` nor a ``date``.
    :raises ValueError: converted to *tz*, *dt* falls before year 1 or after year 9999.
    """
    if isinstance(dt, datetime):
        if dt.tzinfo is not None and dt.utcoffset() is not None:
            try:
                return dt.astimezone(tz).replace(tzinfo=None)
            except OverflowError as exc:
                raise ValueError(
                    f"{dt!r} is outside the calendar (years 1 to 9999) in the time zone {tz}"
                ) from exc
        return dt.replace(tzinfo=None)
    if isinstance(dt, date):
        return datetime(dt.year, dt.month, dt.day)
    raise TypeError(f"expected a datetime or date, got {dt!r} ({type(dt).__name__})")
