"""Plans for the sharded layout: which Redis commands carry out a logical operation, shard by
shard, and how their replies combine (no I/O).

A storage backend receives the seam's logical steps, queries, writes and merges. It asks this
module what it must read first (the shard index; which shards of which keys exist), then gets the
commands to send (every command names keys of one shard only, so it runs inside one Redis
Cluster slot) and decodes the replies with the plan.

Meaning preserved from the classic layout
    A classic bitmap of ``L`` bytes whose highest written byte lies in shard ``h`` is stored as
    shards whose bits are the same and whose top shard ``h`` is ``L - h * shard_bytes`` long.
    ``BITOP`` keeps that invariant shard by shard (a result's top shard is its longest operand's
    top shard), so byte lengths, and with them the byte-padded meaning of a standalone ``NOT``,
    match the classic layout exactly:

    * ``NOT`` in a shard below the operand's top shard complements the full shard (a missing
      operand shard gives all ones), in the top shard it complements the shard's own bytes, and
      above it the result does not exist.
    * An unmark never creates a shard unless no shard at or above it exists (then an all-zero
      shard up to the cleared byte records the classic length); merges follow the same rule.

Shards outside the index
    Only shards in the index hold keys. In any other shard every stored key is missing, so each
    bit-operation result there is missing, all zeros or all ones (a ``NOT`` below its operand's
    top shard); runs of such shards are evaluated here instead of being materialised in Redis.
    A standalone ``~a`` with ``a`` near id 3e9 thus costs no memory, while answering exactly like
    the classic layout (which would allocate 375 MiB for it).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from .decode import decode_segment_ids
from .options import Write
from .plan import BitOpStep, Query
from .shards import ShardLayout

__all__ = (
    "DELETE_BATCH",
    "Command",
    "ReadNeeds",
    "ReadPlan",
    "merge_probe",
    "plan_delete",
    "plan_merges",
    "plan_writes",
    "read_needs",
    "write_probe",
)

#: One Redis command: name, then arguments.
Command: TypeAlias = "tuple[str | int | bytes, ...]"

#: Keys per ``DEL`` command.
DELETE_BATCH = 1000

_MISSING, _ZEROS, _ONES = 0, 1, 2


# -- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadNeeds:
    """What an evaluation must read before its commands can be planned."""

    #: Read the shard index (every query but ``getbit``, and every ``NOT``, needs it).
    index: bool
    #: Stored keys whose highest existing shard decides a ``NOT`` (probe them with ``EXISTS``).
    probe: tuple[str, ...]


def _full(steps: Sequence[BitOpStep], queries: Sequence[Query]) -> bool:
    """Whether the evaluation covers every shard (anything but ``getbit`` reads, or a bare
    ``store``)."""
    return any(q.kind != "getbit" for q in queries) or (not queries and bool(steps))


def read_needs(steps: Sequence[BitOpStep], queries: Sequence[Query]) -> ReadNeeds:
    """What :class:`ReadPlan` needs for *steps* and *queries*."""
    produced = {step.dest: step for step in steps}
    pending = [step.sources[0] for step in steps if step.op == "NOT"]
    leaves: set[str] = set()
    seen: set[str] = set()
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        step = produced.get(key)
        if step is None or key in step.sources:  # a step that rewrites a stored key reads it
            leaves.add(key)
        if step is not None:
            pending.extend(step.sources)
    has_not = any(step.op == "NOT" for step in steps)
    return ReadNeeds(index=has_not or _full(steps, queries), probe=tuple(sorted(leaves)))


def _symbolic(steps: Sequence[BitOpStep], shard: int, not_tops: Sequence[int]) -> dict[str, int]:
    """Every step's result in a shard where no stored key exists: missing, zeros or ones."""
    state: dict[str, int] = {}
    for step, top in zip(steps, not_tops, strict=True):
        values = [state.get(k, _MISSING) for k in step.sources]
        if step.op == "NOT":
            value = values[0]
            if value == _MISSING:
                state[step.dest] = _ONES if shard < top else _MISSING
            else:
                state[step.dest] = _ZEROS if value == _ONES else _ONES
        elif all(v == _MISSING for v in values):
            state[step.dest] = _MISSING
        elif step.op == "AND":
            state[step.dest] = _ONES if all(v == _ONES for v in values) else _ZEROS
        elif step.op == "OR":
            state[step.dest] = _ONES if _ONES in values else _ZEROS
        else:
            state[step.dest] = _ONES if values.count(_ONES) % 2 else _ZEROS
    return state


def _runs(shards: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted shard numbers as ``[start, stop)`` runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for shard in sorted(shards):
        if runs and runs[-1][1] == shard:
            runs[-1] = (runs[-1][0], shard + 1)
        else:
            runs.append((shard, shard + 1))
    return runs


def _gaps(indexed: set[int], stop: int) -> list[tuple[int, int]]:
    """The runs of ``[0, stop)`` not in *indexed*."""
    gaps: list[tuple[int, int]] = []
    start = 0
    for shard in sorted(s for s in indexed if s < stop):
        if shard > start:
            gaps.append((start, shard))
        start = shard + 1
    if start < stop:
        gaps.append((start, stop))
    return gaps


class ReadPlan:
    """The commands of one logical ``evaluate(steps, queries)`` and the decoding of replies.

    :param index: the shard index (``None`` when :func:`read_needs` said it is not needed).
    :param leaf_tops: for every key in :attr:`ReadNeeds.probe`, its highest existing shard
        (``-1`` when it exists nowhere).
    """

    def __init__(
        self,
        layout: ShardLayout,
        steps: Sequence[BitOpStep],
        queries: Sequence[Query],
        *,
        ttl: int,
        index: Sequence[int] | None,
        leaf_tops: Mapping[str, int],
    ) -> None:
        self._layout = layout
        self._queries = tuple(queries)
        self._ttl = ttl
        self.commands: list[Command] = []
        tops = dict(leaf_tops)
        not_tops: list[int] = []
        for step in steps:
            top = max(tops.get(k, -1) for k in step.sources)
            not_tops.append(top)
            tops[step.dest] = top
        wanted = {layout.locate(q.offset)[0] for q in queries if q.kind == "getbit"}
        if index is None:
            self._real = sorted(wanted)
            runs: list[tuple[int, int]] = []
        else:
            indexed = set(index)
            high = max(
                (t for s, t in zip(steps, not_tops, strict=True) if s.op == "NOT"), default=-1
            )
            if _full(steps, queries):
                self._real = sorted(indexed)
                runs = _gaps(indexed, high)
            else:
                self._real = sorted(wanted & indexed)
                runs = _runs(s for s in wanted - indexed if s < high)
        # Every run of shards without stored keys has one state per key (see the module doc).
        self._runs = [(start, stop, _symbolic(steps, start, not_tops)) for start, stop in runs]
        for shard in self._real:
            for step, top in zip(steps, not_tops, strict=True):
                self._step(step, shard, top)
        self._picks = [self._query(q) for q in self._queries]

    def _step(self, step: BitOpStep, shard: int, top: int) -> None:
        key = self._layout.key
        dest = key(step.dest, shard)
        sources = [key(s, shard) for s in step.sources]
        if step.op != "NOT":
            self.commands += [("BITOP", step.op, dest, *sources), ("EXPIRE", dest, self._ttl)]
        elif shard < top:  # complement of the full shard: all ones, XOR the operand
            # All ones as NOT({w}) | {w} with w in the shard's last byte but not its last bit:
            # bitmapist-server keeps no zero padding (a SETBIT to 0 adds no length) and its
            # NOT overflows on id 2**32 - 1.
            spare = self._layout.shard_ids - 2
            self.commands += [
                ("DEL", dest),
                ("SETBIT", dest, spare, 1),
                ("BITOP", "NOT", dest, dest),
                ("SETBIT", dest, spare, 1),
                ("BITOP", "XOR", dest, dest, sources[0]),
                ("EXPIRE", dest, self._ttl),
            ]
        elif shard == top:
            self.commands += [("BITOP", "NOT", dest, sources[0]), ("EXPIRE", dest, self._ttl)]
        else:
            self.commands.append(("DEL", dest))

    def _query(self, query: Query) -> tuple[int, int]:
        """Queue *query*'s commands; return their ``[start, stop)`` in :attr:`commands`."""
        start = len(self.commands)
        if query.kind == "getbit":
            shard, bit = self._layout.locate(query.offset)
            if shard in self._real:
                self.commands.append(("GETBIT", self._layout.key(query.key, shard), bit))
        else:
            name = {"count": "BITCOUNT", "get": "GET", "ids": "GET", "exists": "EXISTS"}[query.kind]
            self.commands += [(name, self._layout.key(query.key, s)) for s in self._real]
        return start, len(self.commands)

    def _ones(self, key: str) -> list[tuple[int, int]]:
        return [(start, stop) for start, stop, state in self._runs if state.get(key) == _ONES]

    def parts(self, replies: Sequence[object], position: int) -> list[tuple[int, bytes]]:
        """The ``(shard, bytes)`` pieces of the ``get`` query at *position*, in shard order
        (runs of all-ones shards come as one piece)."""
        query = self._queries[position]
        start, stop = self._picks[position]
        pieces = [
            (shard, bytes(reply))
            for shard, reply in zip(self._real, replies[start:stop], strict=True)
            if isinstance(reply, (bytes, bytearray)) and reply
        ]
        size = self._layout.shard_bytes
        pieces += [(a, b"\xff" * (size * (b - a))) for a, b in self._ones(query.key)]
        return sorted(pieces)

    def results(self, replies: Sequence[object]) -> list[int | bytes | array[int]]:
        """One result per query, as :meth:`AsyncStorage.evaluate` returns them."""
        out: list[int | bytes | array[int]] = []
        for position, query in enumerate(self._queries):
            start, stop = self._picks[position]
            got = replies[start:stop]
            if query.kind == "get":
                out.append(self._layout.assemble(self.parts(replies, position)))
            elif query.kind == "ids":
                size = self._layout.shard_bytes
                pieces = [(shard * size, data) for shard, data in self.parts(replies, position)]
                out.append(decode_segment_ids(pieces))
            elif query.kind == "getbit":
                if got:
                    out.append(int(got[0]))  # type: ignore[call-overload]
                else:
                    shard = self._layout.locate(query.offset)[0]
                    out.append(int(any(a <= shard < b for a, b in self._ones(query.key))))
            elif query.kind == "count":
                ones = sum(b - a for a, b in self._ones(query.key)) * self._layout.shard_ids
                out.append(sum(int(r) for r in got) + ones)  # type: ignore[call-overload]
            else:
                symbolic = any(s.get(query.key, _MISSING) != _MISSING for _, _, s in self._runs)
                out.append(int(symbolic or any(int(r) for r in got)))  # type: ignore[call-overload]
        return out


# -- writes ----------------------------------------------------------------------------------


def _register(layout: ShardLayout, shards: Iterable[int]) -> list[Command]:
    return [("SETBIT", layout.index_key, shard, 1) for shard in sorted(set(shards))]


def write_probe(
    layout: ShardLayout, writes: Sequence[Write], index: Sequence[int]
) -> set[tuple[str, int]]:
    """``(key, shard)`` pairs whose existence decides the unmarks (value 0) among *writes*:
    the unmarked shard and every indexed shard above it."""
    pairs: set[tuple[str, int]] = set()
    for key, offset, value in writes:
        if value == 0:
            shard = layout.locate(offset)[0]
            pairs.add((key, shard))
            pairs.update((key, s) for s in index if s > shard)
    return pairs


def plan_writes(
    layout: ShardLayout, writes: Sequence[Write], present: set[tuple[str, int]]
) -> list[Command]:
    """The ``SETBIT`` commands of *writes*, plus the index bits of the shards they touch.

    An unmark is dropped when its shard does not exist but a higher one of the same key does
    (the bit is already 0 and the classic length is unchanged): no empty shard is created.

    :param present: the existing ``(key, shard)`` pairs among :func:`write_probe`'s.
    """
    have: dict[str, set[int]] = {}
    for key, shard in present:
        have.setdefault(key, set()).add(shard)
    commands: list[Command] = []
    touched: set[int] = set()
    for key, offset, value in writes:
        shard, bit = layout.locate(offset)
        shards = have.setdefault(key, set())
        if value == 0 and shard not in shards and any(s > shard for s in shards):
            continue
        shards.add(shard)
        touched.add(shard)
        commands.append(("SETBIT", layout.key(key, shard), bit, value))
    return _register(layout, touched) + commands


def _top_is_zero(layout: ShardLayout, data: bytes) -> bool:
    start = (len(data) - 1) // layout.shard_bytes * layout.shard_bytes
    return not data[start:].strip(b"\0")


def merge_probe(
    layout: ShardLayout,
    merges: Sequence[tuple[str, bytes]],
    index: Sequence[int],
    *,
    unmark: bool,
) -> set[tuple[str, int]]:
    """``(key, shard)`` pairs whose existence :func:`plan_merges` needs (empty when none)."""
    pairs: set[tuple[str, int]] = set()
    for key, data in merges:
        if data and (unmark or _top_is_zero(layout, data)):
            shards = set(index) | {shard for shard, _ in layout.split(data)}
            pairs.update((key, s) for s in shards)
    return pairs


def plan_merges(
    layout: ShardLayout,
    merges: Sequence[tuple[str, bytes]],
    *,
    temp_prefix: str,
    token: str,
    ttl: int,
    unmark: bool,
    present: set[tuple[str, int]],
) -> list[Command]:
    """Commands merging each ``(key, bitmap)`` shard by shard: ``OR`` it in, or with *unmark*
    clear its bits (``key XOR (key AND bitmap)``). Each shard changes atomically.

    Slices without bits are skipped; the last slice is kept whole where it sets the classic
    length (no higher shard of the key exists), exactly as the classic layout's merge would.

    :param present: the existing ``(key, shard)`` pairs among :func:`merge_probe`'s.
    """
    have: dict[str, set[int]] = {}
    for key, shard in present:
        have.setdefault(key, set()).add(shard)
    commands: list[Command] = []
    touched: set[int] = set()
    for position, (key, data) in enumerate(merges):
        if not data:
            continue
        slices = layout.split(data)
        top = slices[-1][0]
        shards = have.get(key, set())
        sets_length = max(shards, default=-1) <= top
        for shard, chunk in slices:
            body = chunk if shard == top and sets_length else chunk.rstrip(b"\0")
            if not body:
                continue
            op = "OR"
            if unmark and shard not in shards:
                if not (shard == top and sets_length):
                    continue  # no bits to clear, and the length is set by a higher shard
                op, body = "OR", bytes(len(body))  # record the classic length, clear nothing
            elif unmark:
                op = "DIFF"
            target = layout.key(key, shard)
            scratch = layout.key(f"{temp_prefix}merge_{token}_{position}", shard)
            commands += [("SET", scratch, body), ("EXPIRE", scratch, ttl)]
            if op == "DIFF":
                common = f"{scratch}_and"
                commands += [
                    ("BITOP", "AND", common, target, scratch),
                    ("EXPIRE", common, ttl),
                    ("BITOP", "XOR", target, target, common),
                    ("DEL", scratch, common),
                ]
            else:
                commands += [("BITOP", "OR", target, target, scratch), ("DEL", scratch)]
            touched.add(shard)
    return _register(layout, touched) + commands


def plan_delete(layout: ShardLayout, keys: Sequence[str], index: Sequence[int]) -> list[Command]:
    """``DEL`` of every shard of *keys* in the indexed shards (one shard per command)."""
    commands: list[Command] = []
    for shard in index:
        physical = [layout.key(k, shard) for k in keys]
        for start in range(0, len(physical), DELETE_BATCH):
            commands.append(("DEL", *physical[start : start + DELETE_BATCH]))
    return commands
