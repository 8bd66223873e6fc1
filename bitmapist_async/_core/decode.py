"""Turn a Redis bitmap (``GET`` bytes, most significant bit first) into sorted user ids.

Two implementations with the same result:

* :func:`decode_ids_python`: standard library only. Each non-zero 8 KiB chunk becomes a binary
  string with :func:`format`, and :func:`itertools.compress` picks the set positions out of a
  shared tuple of offsets, so the per-bit work runs in C and only set bits create objects.
  All-zero chunks are skipped, so a sparse bitmap costs little more than its non-zero bytes.
* :func:`decode_ids_numpy`: ``numpy.unpackbits`` + ``nonzero`` (the ``numpy`` extra).

:func:`decode_ids` picks numpy when it is importable. :func:`decode_id_array` returns an
``array('I')`` instead of a list: 4 bytes per id and no Python ``int`` per id.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import compress, repeat
from operator import add
from typing import Any

from .numpy_lazy import numpy as _numpy

__all__ = (
    "decode_id_array",
    "decode_ids",
    "decode_ids_numpy",
    "decode_ids_python",
    "decode_segment_ids",
    "have_numpy",
    "largest_id",
)

_CHUNK = 8192  # bytes per pure-Python chunk (65,536 bits)
_NUMPY_CHUNK = 1 << 20  # bytes per numpy chunk: bounds the unpacked array at 8 MiB
_BITS_TO_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


def have_numpy() -> bool:
    """Whether the numpy fast path is available."""
    return _numpy() is not None


@cache
def _offsets() -> tuple[int, ...]:
    return tuple(range(_CHUNK * 8))


def _iter_python(data: bytes, first: int = 0) -> Iterator[Iterator[int]]:
    offsets = _offsets()
    view = memoryview(data)
    for start in range(0, len(data), _CHUNK):
        chunk = view[start : start + _CHUNK]
        value = int.from_bytes(chunk, "big")
        if not value:
            continue
        nbits = len(chunk) * 8
        flags = format(value, f"0{nbits}b").encode("ascii").translate(_BITS_TO_FLAGS)
        base = start * 8 + first
        picked = compress(offsets, flags)
        yield map(add, picked, repeat(base)) if base else picked


def decode_ids_python(data: bytes) -> list[int]:
    """Sorted positions of the set bits of *data*, pure Python."""
    # Collecting into a compact array first, then converting in one C loop, is faster than
    # growing a list of live ints chunk by chunk.
    compact: array[int] = array("I")
    for part in _iter_python(data):
        compact.extend(part)
    return compact.tolist()


def _iter_numpy(data: bytes, first: int = 0) -> Iterator[Any]:
    np = _numpy()
    if np is None:
        raise RuntimeError("numpy is not installed: pip install 'bitmapist-async[numpy]'")
    arr = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(arr), _NUMPY_CHUNK):
        chunk = arr[start : start + _NUMPY_CHUNK]
        if not chunk.any():
            continue
        # Ids are below 2**32: narrowing before the offset halves the bytes moved after it.
        positions = np.flatnonzero(np.unpackbits(chunk).view(np.bool_)).astype(np.uint32)
        base = start * 8 + first
        if base:
            positions += np.uint32(base)  # in place: no second array of the chunk's size
        yield positions


def decode_ids_numpy(data: bytes) -> list[int]:
    """Sorted positions of the set bits of *data*, with numpy.

    :raises RuntimeError: numpy is not installed.
    """
    out: list[int] = []
    for positions in _iter_numpy(data):
        out.extend(positions.tolist())
    return out


def _extend_uint32(out: array[int], positions: Any) -> None:
    """Append numpy ``uint32`` *positions* to *out* with one copy (no intermediate ``bytes``)."""
    out.frombytes(memoryview(positions).cast("B"))


def decode_ids(data: bytes, *, use_numpy: bool | None = None) -> list[int]:
    """Sorted positions of the set bits of *data*.

    :param use_numpy: ``None`` (default) uses numpy when installed; ``True`` requires it;
        ``False`` forces the pure-Python path.
    """
    if use_numpy or (use_numpy is None and _numpy() is not None):
        return decode_ids_numpy(data)
    return decode_ids_python(data)


def decode_id_array(data: bytes, *, use_numpy: bool | None = None) -> array[int]:
    """Like :func:`decode_ids`, as a compact ``array('I')`` of unsigned 32-bit ids."""
    out: array[int] = array("I")
    if use_numpy or (use_numpy is None and _numpy() is not None):
        for positions in _iter_numpy(data):
            _extend_uint32(out, positions)
    else:
        for part in _iter_python(data):
            out.extend(part)
    return out


def decode_segment_ids(
    segments: Iterable[tuple[int, bytes]], *, use_numpy: bool | None = None
) -> array[int]:
    """Like :func:`decode_id_array` for a bitmap given as ``(byte offset, bytes)`` pieces in
    ascending, non-overlapping order (the bytes between pieces are zero)."""
    out: array[int] = array("I")
    numpy = use_numpy or (use_numpy is None and _numpy() is not None)
    for offset, data in segments:
        if numpy:
            for positions in _iter_numpy(data, offset * 8):
                _extend_uint32(out, positions)
        else:
            for part in _iter_python(data, offset * 8):
                out.extend(part)
    return out


def largest_id(data: bytes, offset: int = 0) -> int:
    """The largest id set in the bitmap *data* whose first byte is byte *offset* (``-1`` when
    none is set). Scans back from the end a chunk at a time: no copy of the whole bitmap."""
    view = memoryview(data)
    end = len(data)
    while end > 0:
        start = max(0, end - _NUMPY_CHUNK)
        chunk = bytes(view[start:end]).rstrip(b"\0")
        if chunk:
            last = chunk[-1]
            return (offset + start + len(chunk)) * 8 - 1 - ((last & -last).bit_length() - 1)
        end = start
    return -1
