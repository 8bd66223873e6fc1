"""Turn a Redis bitmap (``GET`` bytes, most significant bit first) into sorted user ids.

Two implementations with the same result:

* :func:`decode_ids_python`: standard library only. Each non-zero chunk becomes a binary string
  with :func:`format` and the set positions are picked by :func:`itertools.compress`, so the
  per-bit work runs in C. All-zero chunks are skipped, so a sparse bitmap costs little more than
  its non-zero bytes.
* :func:`decode_ids_numpy`: ``numpy.unpackbits`` + ``flatnonzero`` (the ``numpy`` extra).

:func:`decode_ids` picks numpy when it is importable.
"""

from __future__ import annotations

from itertools import compress
from typing import Any

__all__ = ("decode_ids", "decode_ids_numpy", "decode_ids_python", "have_numpy")

_CHUNK = 1 << 16  # bytes per chunk: bounds the temporary binary string at 512 KiB
_BITS_TO_FLAGS = bytes.maketrans(b"01", b"\x00\x01")

_np: Any
try:  # pragma: no cover - depends on the environment
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None


def have_numpy() -> bool:
    """Whether the numpy fast path is available."""
    return _np is not None


def decode_ids_python(data: bytes) -> list[int]:
    """Sorted positions of the set bits of *data*, pure Python."""
    out: list[int] = []
    view = memoryview(data)
    size = len(data)
    for start in range(0, size, _CHUNK):
        chunk = view[start : start + _CHUNK]
        value = int.from_bytes(chunk, "big")
        if not value:
            continue
        nbits = len(chunk) * 8
        flags = format(value, f"0{nbits}b").encode("ascii").translate(_BITS_TO_FLAGS)
        out.extend(compress(range(start * 8, start * 8 + nbits), flags))
    return out


def decode_ids_numpy(data: bytes) -> list[int]:
    """Sorted positions of the set bits of *data*, with numpy.

    :raises RuntimeError: numpy is not installed.
    """
    if _np is None:
        raise RuntimeError("numpy is not installed: pip install 'bitmapist-async[numpy]'")
    out: list[int] = []
    arr = _np.frombuffer(data, dtype=_np.uint8)
    step = _CHUNK * 16
    for start in range(0, len(arr), step):
        chunk = arr[start : start + step]
        if not chunk.any():
            continue
        positions = _np.flatnonzero(_np.unpackbits(chunk))
        positions += start * 8
        out.extend(positions.tolist())
    return out


def decode_ids(data: bytes, *, use_numpy: bool | None = None) -> list[int]:
    """Sorted positions of the set bits of *data*.

    :param use_numpy: ``None`` (default) uses numpy when installed; ``True`` requires it;
        ``False`` forces the pure-Python path.
    """
    if use_numpy or (use_numpy is None and _np is not None):
        return decode_ids_numpy(data)
    return decode_ids_python(data)
