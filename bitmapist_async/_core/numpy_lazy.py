"""numpy (the optional ``numpy`` extra), imported the first time a fast path asks for it.

Importing numpy takes tens of milliseconds, starts OpenBLAS's worker threads and adds about
12,000 objects that every full garbage collection walks. A client that only marks events
never needs it: only listing ids, bulk import and local cohort counts have numpy paths.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ("numpy", "numpy_with_bitwise_count")

_UNSET: Any = object()
_module: Any = _UNSET  # tests set None to take the paths without numpy


def numpy() -> Any:
    """The numpy module, or ``None`` when it is not installed (imported on the first call)."""
    global _module
    if _module is _UNSET:
        try:
            _module = importlib.import_module("numpy")
        except ImportError:  # pragma: no cover - depends on the environment
            _module = None
    return _module


def numpy_with_bitwise_count() -> Any:
    """numpy if it has ``bitwise_count`` (numpy >= 2), else ``None``."""
    np = numpy()
    return np if np is not None and hasattr(np, "bitwise_count") else None
