"""What an exception was caused by, for tests of typed failures."""

from __future__ import annotations

__all__ = ("caused_by",)


def caused_by(exc: BaseException | None, *kinds: type[BaseException]) -> bool:
    """Whether ``exc.__cause__``, its cause, and so on are instances of *kinds*, in order."""
    for kind in kinds:
        if exc is None:
            return False
        exc = exc.__cause__
        if not isinstance(exc, kind):
            return False
    return True
