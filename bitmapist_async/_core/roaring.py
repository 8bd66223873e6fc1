"""Roaring bitmaps split into containers, and converted to and from Redis's bitmap bytes.

A 32-bit roaring bitmap is a sorted list of *containers*, one per 65,536-id block that holds at
least one id: a sorted ``uint16`` array (at most 4,096 ids), an 8 KiB bitset, or a list of runs.
The embedded store keeps one row per container so that a ``SETBIT`` rewrites a few bytes, not a
whole bitmap. :func:`split` and :func:`join` convert between a :class:`pyroaring.BitMap` and its
containers through the portable serialization format that CRoaring, pyroaring, Java and Go
roaring share (https://github.com/RoaringBitmap/RoaringFormatSpec), so joining thousands of
containers is one ``deserialize`` call.

Redis bitmaps are ``GET`` bytes with the most significant bit first (id 0 is ``0x80`` of byte
0). :func:`to_redis_bytes` and :func:`from_redis_bytes` convert container by container: a
bitset container is the same 8 KiB with each byte's bits reversed.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import NamedTuple

from pyroaring import BitMap

from .decode import decode_id_array

__all__ = (
    "CONTAINER_BITS",
    "Container",
    "ContainerRow",
    "bitmap_from_ids",
    "container_problems",
    "from_redis_bytes",
    "join",
    "split",
    "to_redis_bytes",
)

#: Ids per container (the low 16 bits of an id index into its container).
CONTAINER_BITS = 1 << 16
_CONTAINER_BYTES = CONTAINER_BITS // 8
_MAX_ARRAY = 4096  # containers with more ids are bitsets
_COOKIE_NO_RUNS = 12346
_COOKIE_RUNS = 12347
_NO_OFFSET_THRESHOLD = 4
_LITTLE = sys.byteorder == "little"
_REVERSE_BITS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))
_ZERO_BLOCK = bytes(_CONTAINER_BYTES)


class Container(NamedTuple):
    """One roaring container in the portable format's encoding (little-endian payload)."""

    #: The high 16 bits shared by the container's ids.
    key: int
    #: How many ids the container holds (1..65536).
    cardinality: int
    #: Whether *payload* is a run list (``uint16`` count, then ``(start, length - 1)`` pairs);
    #: otherwise it is an array when *cardinality* <= 4096 and a bitset above.
    run: bool
    payload: bytes


def _u16(values: Iterable[int]) -> array[int]:
    out = array("H", values)
    if not _LITTLE:  # pragma: no cover - big-endian machines
        out.byteswap()
    return out


def _u32(values: Iterable[int]) -> array[int]:
    out = array("I", values)
    if not _LITTLE:  # pragma: no cover
        out.byteswap()
    return out


def _payload_size(container_card: int, run: bool, data: bytes, at: int) -> int:
    if run:
        (runs,) = struct.unpack_from("<H", data, at)
        return 2 + 4 * int(runs)
    if container_card > _MAX_ARRAY:
        return _CONTAINER_BYTES
    return 2 * container_card


def split(bitmap: BitMap) -> list[Container]:
    """The containers of *bitmap*, in key order (none for an empty bitmap)."""
    data = bitmap.serialize()
    (cookie,) = struct.unpack_from("<I", data, 0)
    if cookie & 0xFFFF == _COOKIE_RUNS:
        count = (cookie >> 16) + 1
        flags = data[4 : 4 + (count + 7) // 8]
        runs = [bool(flags[i >> 3] & (1 << (i & 7))) for i in range(count)]
        at = 4 + len(flags)
        has_offsets = count >= _NO_OFFSET_THRESHOLD
    elif cookie == _COOKIE_NO_RUNS:
        (count,) = struct.unpack_from("<I", data, 4)
        runs = [False] * count
        at = 8
        has_offsets = True
    else:  # pragma: no cover - pyroaring always writes one of the two
        raise ValueError(f"not a portable roaring serialization (cookie {cookie})")
    header = array("H", data[at : at + 4 * count])
    if not _LITTLE:  # pragma: no cover
        header.byteswap()
    at += 4 * count + (4 * count if has_offsets else 0)
    out: list[Container] = []
    for i in range(count):
        card = header[2 * i + 1] + 1
        size = _payload_size(card, runs[i], data, at)
        out.append(Container(header[2 * i], card, runs[i], data[at : at + size]))
        at += size
    return out


#: A container as stored: ``(key, cardinality, run, payload)`` (a :class:`Container`, or a
#: database row with ``run`` as 0/1).
ContainerRow = tuple[int, int, int, bytes]


def join(containers: Sequence[ContainerRow]) -> BitMap:
    """The bitmap made of *containers* (sorted by key, each key once)."""
    count = len(containers)
    if not count:
        return BitMap()
    runs = [c[2] for c in containers]
    has_runs = any(runs)
    parts: list[bytes] = []
    if has_runs:
        flags = bytearray((count + 7) // 8)
        for i, run in enumerate(runs):
            if run:
                flags[i >> 3] |= 1 << (i & 7)
        parts += [struct.pack("<I", _COOKIE_RUNS | ((count - 1) << 16)), bytes(flags)]
    else:
        parts.append(struct.pack("<II", _COOKIE_NO_RUNS, count))
    header = array("H", bytes(4 * count))
    header[0::2] = array("H", [c[0] for c in containers])
    header[1::2] = array("H", [c[1] - 1 for c in containers])
    if not _LITTLE:  # pragma: no cover
        header.byteswap()
    parts.append(header.tobytes())
    payloads = [c[3] for c in containers]
    if not has_runs or count >= _NO_OFFSET_THRESHOLD:
        start = sum(map(len, parts)) + 4 * count
        offsets = []
        for payload in payloads:
            offsets.append(start)
            start += len(payload)
        parts.append(_u32(offsets).tobytes())
    parts += payloads
    return BitMap.deserialize(b"".join(parts))


def _run_problems(card: int, payload: bytes) -> list[str]:
    if len(payload) < 2:
        return [f"run payload of {len(payload)} bytes has no run count"]
    (runs,) = struct.unpack_from("<H", payload, 0)
    if runs < 1 or len(payload) != 2 + 4 * runs:
        return [f"run payload of {len(payload)} bytes does not hold its {runs} runs"]
    pairs = array("H", payload[2:])
    if not _LITTLE:  # pragma: no cover
        pairs.byteswap()
    total, end = 0, -2
    for i in range(0, len(pairs), 2):
        start, last = pairs[i], pairs[i] + pairs[i + 1]
        if start <= end or last >= CONTAINER_BITS:
            return [f"run {i // 2} ({start}..{last}) is out of order or out of range"]
        total += pairs[i + 1] + 1
        end = last
    return [] if total == card else [f"stored cardinality {card} != {total} ids in its runs"]


def _field_problems(key: object, card: object, run: object, payload: object) -> list[str]:
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < CONTAINER_BITS:
        return [f"container key {key!r} is not in [0, 65536)"]
    if isinstance(card, bool) or not isinstance(card, int) or not 1 <= card <= CONTAINER_BITS:
        return [f"stored cardinality {card!r} is not in [1, 65536]"]
    if not isinstance(run, int) or run not in (0, 1):  # a bool in a Container, 0/1 in a row
        return [f"run flag {run!r} is not 0 or 1"]
    if not isinstance(payload, bytes):
        return [f"payload is a {type(payload).__name__}, not bytes"]
    return []


def _payload_problems(card: int, run: int, payload: bytes) -> list[str]:
    if run:
        return _run_problems(card, payload)
    if card > _MAX_ARRAY:
        if len(payload) != _CONTAINER_BYTES:
            return [f"bitset payload of {len(payload)} bytes, not {_CONTAINER_BYTES}"]
        bits = int.from_bytes(payload, "little").bit_count()
        return [] if bits == card else [f"stored cardinality {card} != {bits} set bits"]
    if len(payload) != 2 * card:
        return [f"array payload of {len(payload)} bytes for cardinality {card}"]
    lows = array("H", payload)
    if not _LITTLE:  # pragma: no cover
        lows.byteswap()
    if any(a >= b for a, b in pairwise(lows)):
        return ["array payload is not strictly increasing"]
    return []


def container_problems(row: Sequence[object], *, decode: bool = True) -> list[str]:
    """What is wrong with one stored container row ``(key, cardinality, run, payload)``: its
    fields' types and ranges, a payload that does not match its kind and cardinality, unsorted
    ids or runs, a stored cardinality that differs from the ids in the payload. Empty when it
    is sound. *decode*: also decode it with pyroaring (the reads' decoder)."""
    key, card, run, payload = row
    problems = _field_problems(key, card, run, payload)
    if problems:
        return problems
    assert isinstance(key, int)
    assert isinstance(card, int)
    assert isinstance(run, int)
    assert isinstance(payload, bytes)
    problems = _payload_problems(card, run, payload)
    if problems or not decode:
        return problems
    try:
        decoded = len(join([(key, card, run, payload)]))
    except ValueError as exc:
        return [f"payload does not decode: {exc}"]
    return [] if decoded == card else [f"stored cardinality {card} != {decoded} decoded ids"]


def bitmap_from_ids(ids: Iterable[int]) -> BitMap:
    """A run-optimized bitmap of *ids* (``array('I')`` and ``range`` are read in C)."""
    bitmap = BitMap(ids)
    bitmap.run_optimize()
    return bitmap


def _set_range(out: bytearray, start: int, stop: int) -> None:
    """Set bits ``start <= bit < stop`` of *out* (MSB-first order)."""
    first, last = start >> 3, (stop - 1) >> 3
    head = 0xFF >> (start & 7)
    tail = (0xFF << (7 - ((stop - 1) & 7))) & 0xFF
    if first == last:
        out[first] |= head & tail
        return
    out[first] |= head
    out[first + 1 : last] = b"\xff" * (last - first - 1)
    out[last] |= tail


def to_redis_bytes(bitmap: BitMap, nbytes: int) -> bytes:
    """The Redis ``GET`` value of a string of *nbytes* bytes whose set bits are *bitmap*.

    :raises ValueError: *bitmap* holds an id at or beyond ``8 * nbytes``.
    """
    if bitmap and bitmap.max() >= 8 * nbytes:
        raise ValueError(f"id {bitmap.max()} does not fit in {nbytes} bytes")
    out = bytearray(nbytes)
    for key, card, run, payload in split(bitmap):
        base = key * _CONTAINER_BYTES
        if run:
            pairs = array("H", payload[2:])
            if not _LITTLE:  # pragma: no cover
                pairs.byteswap()
            bit = base * 8
            for i in range(0, len(pairs), 2):
                _set_range(out, bit + pairs[i], bit + pairs[i] + pairs[i + 1] + 1)
        elif card > _MAX_ARRAY:
            size = min(_CONTAINER_BYTES, nbytes - base)
            out[base : base + size] = payload[:size].translate(_REVERSE_BITS)
        else:
            lows = array("H", payload)
            if not _LITTLE:  # pragma: no cover
                lows.byteswap()
            for low in lows:
                out[base + (low >> 3)] |= 0x80 >> (low & 7)
    return bytes(out)


def from_redis_bytes(data: bytes) -> BitMap:
    """The set bits of a Redis bitmap value (``GET`` bytes) as a run-optimized bitmap.

    :raises ValueError: *data* is longer than 2**29 bytes (ids beyond ``2**32 - 1``).
    """
    if len(data) > (1 << 29):
        raise ValueError(f"a bitmap of {len(data)} bytes holds ids beyond 2**32 - 1")
    containers: list[Container] = []
    view = memoryview(data)
    for key, start in enumerate(range(0, len(data), _CONTAINER_BYTES)):
        block = bytes(view[start : start + _CONTAINER_BYTES])
        if block == _ZERO_BLOCK[: len(block)]:
            continue
        bits = block.translate(_REVERSE_BITS).ljust(_CONTAINER_BYTES, b"\0")
        card = int.from_bytes(bits, "little").bit_count()
        if card > _MAX_ARRAY:
            containers.append(Container(key, card, False, bits))
        else:
            lows = _u16(decode_id_array(block, use_numpy=False))
            containers.append(Container(key, card, False, lows.tobytes()))
    bitmap = join(containers)
    bitmap.run_optimize()
    return bitmap
