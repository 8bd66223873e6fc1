"""Bit-operation expressions and the plans that evaluate them.

An expression is a tree of :class:`Leaf` (one stored bitmap) and :class:`OpNode` (``AND``,
``OR``, ``XOR``, ``NOT``). :func:`compile_plan` turns a tree into the ordered ``BITOP`` steps that
materialise it under deterministic temporary keys, so that evaluating a whole expression (or many:
:func:`merge_steps`) plus its query fits in one pipelined round trip.

Exact difference
    Redis pads the shorter operand of ``BITOP AND`` with zero bytes and ``BITOP NOT b`` stops at
    ``b``'s last byte, so a naive ``AND(a, NOT(b))`` drops every id of ``a`` beyond ``b``'s
    length. Here any ``AND`` with ``NOT`` operands is compiled as ``P XOR (P AND N)`` where ``P``
    is the AND of the positive operands and ``N`` the OR of the negated ones: the exact set
    difference ``P - N`` whatever the lengths. An AND of only negations is ``NOT(OR(...))``
    (De Morgan).

One operand
    ``AND``, ``OR`` and ``XOR`` of one operand are that operand: no step is emitted and the
    plan's result is the operand's key (bitmapist-server refuses a one-source ``BITOP``). Where
    the value must live at the node's own key (``store()``, the compat layer's eager bit
    operations), ``compile_plan(..., at_key=True)`` adds ``OR key x x``.

The universe of ``~x``
    A standalone ``~x`` is the complement of ``x`` within ``[0, 8 * (max(x) // 8 + 1))``: the
    ids up to the end of the byte that holds ``x``'s largest id (``~x`` of an empty ``x`` is
    empty). That depends on ``x``'s contents only, never on stored byte lengths, so every backend
    gives the same answer. A plan's ``NOT`` steps are therefore not sent as they are: the
    evaluator reads each ``NOT`` operand's largest id first (:func:`complement_stage`), then
    :func:`resolve_complements` replaces the step with content-only operations on a one-bit key
    it writes (see there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .keys import KeyScheme

__all__ = (
    "BitOpStep",
    "ComplementStage",
    "Leaf",
    "Query",
    "QueryKind",
    "Node",
    "Op",
    "OpNode",
    "Plan",
    "complement_stage",
    "compile_plan",
    "make_op",
    "merge_steps",
    "resolve_complements",
    "unit_offset",
)

Op: TypeAlias = Literal["AND", "OR", "XOR", "NOT"]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A stored bitmap."""

    key: str


@dataclass(frozen=True, slots=True)
class OpNode:
    """A bit operation over child nodes; ``key`` is where its result is materialised."""

    op: Op
    children: tuple[Node, ...]
    key: str


Node: TypeAlias = "Leaf | OpNode"


def make_op(scheme: KeyScheme, op: Op, children: Sequence[Node]) -> OpNode:
    """Build an :class:`OpNode` named the way bitmapist names it.

    :raises TypeError: no operand, or ``NOT`` with more than one.
    """
    if not children:
        raise TypeError(f"BitOp{op.capitalize()} needs at least one operand, got none")
    if op == "NOT" and len(children) != 1:
        raise TypeError(f"BitOpNot takes exactly one operand, got {len(children)}")
    kids = tuple(children)
    return OpNode(op, kids, scheme.bitop_key(op, [c.key for c in kids]))


@dataclass(frozen=True, slots=True)
class BitOpStep:
    """``BITOP op dest *sources``."""

    op: Op
    dest: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps that materialise an expression, and the key that then holds its value."""

    steps: tuple[BitOpStep, ...]
    result: str


def compile_plan(node: Node, scheme: KeyScheme, *, at_key: bool = False) -> Plan:
    """Compile *node* into dependency-ordered, de-duplicated ``BITOP`` steps.

    :param at_key: make the result live at ``node.key`` even where it is an operand's own key
        (a one-operand ``AND``/``OR``/``XOR``): then a copy step ends the plan.
    """
    steps: dict[str, BitOpStep] = {}

    def add(op: Op, dest: str, sources: Sequence[str]) -> str:
        if dest not in steps:
            steps[dest] = BitOpStep(op, dest, tuple(sources))
        return dest

    def emit(n: Node) -> str:
        if isinstance(n, Leaf):
            return n.key
        if n.key in steps:
            return n.key
        if n.op != "NOT" and len(n.children) == 1:
            return emit(n.children[0])
        if n.op == "AND":
            negated = [c.children[0] for c in n.children if isinstance(c, OpNode) and c.op == "NOT"]
            if negated:
                return emit_difference(n, negated)
        return add(n.op, n.key, [emit(c) for c in n.children])

    def emit_difference(n: OpNode, negated: list[Node]) -> str:
        positive = [c for c in n.children if not _is_not(c)]
        union = negated[0] if len(negated) == 1 else make_op(scheme, "OR", negated)
        if not positive:
            return add("NOT", n.key, [emit(union)])
        base = positive[0] if len(positive) == 1 else make_op(scheme, "AND", positive)
        # A plain AND of the two materialised keys: going through emit() would read a NOT
        # union (``a & ~~b``) as one more difference.
        common = make_op(scheme, "AND", [base, union])
        base_key = emit(base)
        common_key = add("AND", common.key, [base_key, emit(union)])
        return add("XOR", n.key, [base_key, common_key])

    result = emit(node)
    if at_key and result != node.key:
        result = add("OR", node.key, [result, result])
    return Plan(tuple(steps.values()), result)


def _is_not(node: Node) -> bool:
    return isinstance(node, OpNode) and node.op == "NOT"


def merge_steps(plans: Iterable[Plan]) -> tuple[BitOpStep, ...]:
    """All steps of *plans* in a valid order, each destination computed once."""
    merged: dict[str, BitOpStep] = {}
    for plan in plans:
        for step in plan.steps:
            merged.setdefault(step.dest, step)
    return tuple(merged.values())


QueryKind: TypeAlias = Literal["count", "getbit", "get", "exists", "ids"]


@dataclass(frozen=True, slots=True)
class Query:
    """One read of a materialised key, run after the steps of its evaluation.

    ``count`` -> ``int`` (BITCOUNT), ``getbit`` -> ``int`` 0/1 at ``offset``, ``get`` -> ``bytes``
    (``b""`` for a missing key), ``exists`` -> ``int`` 0/1, ``ids`` -> ``array('I')``: the sorted
    ids, which a backend that stores id sets answers without building the ``GET`` bytes.
    """

    kind: QueryKind
    key: str
    offset: int = 0


# -- standalone NOT ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplementStage:
    """What to read before the next ``NOT`` steps can be resolved: run :attr:`steps`, then read
    the largest id of each of :attr:`sources` (one per step of :attr:`nots`)."""

    steps: tuple[BitOpStep, ...]
    #: Positions of the ``NOT`` steps (in the steps given to :func:`complement_stage`).
    indices: tuple[int, ...]
    sources: tuple[str, ...]


def complement_stage(steps: Sequence[BitOpStep], scheme: KeyScheme) -> ComplementStage | None:
    """The unresolved ``NOT`` steps of *steps* whose operand needs no other unresolved ``NOT``,
    with the steps that compute those operands; ``None`` when every ``NOT`` is resolved (a
    ``NOT`` of a one-bit key written by :func:`resolve_complements`)."""
    unit = re.compile(re.escape(scheme.bitop_prefix) + r"unit_\d+\Z")
    tainted: set[str] = set()  # keys whose value depends on an unresolved NOT
    ready: list[int] = []
    for index, step in enumerate(steps):
        open_not = step.op == "NOT" and unit.match(step.sources[0]) is None
        if open_not and step.sources[0] not in tainted:
            ready.append(index)
        if open_not or any(s in tainted for s in step.sources):
            tainted.add(step.dest)
        else:
            tainted.discard(step.dest)
    if not ready:
        return None
    needed: set[int] = set()
    for index in ready:
        _closure(steps, steps[index].sources[0], index, needed)
    prefix = tuple(steps[i] for i in sorted(needed))
    return ComplementStage(prefix, tuple(ready), tuple(steps[i].sources[0] for i in ready))


def _closure(steps: Sequence[BitOpStep], key: str, before: int, needed: set[int]) -> None:
    """Add to *needed* the indices of the steps that compute *key* as seen by step *before*."""
    for index in range(before - 1, -1, -1):
        if steps[index].dest == key:
            if index not in needed:
                needed.add(index)
                for source in steps[index].sources:
                    _closure(steps, source, index, needed)
            return


def unit_offset(largest: int) -> int:
    """The bit of the one-bit key that spans ``largest``'s byte: its byte's seventh bit.

    Not the byte's last bit: bitmapist-server's ``BITOP NOT`` overflows on id ``2**32 - 1``.
    """
    return largest // 8 * 8 + 6


def resolve_complements(
    steps: Sequence[BitOpStep],
    largest: dict[int, int],
    scheme: KeyScheme,
) -> tuple[list[BitOpStep], list[tuple[str, int]]]:
    """Replace the ``NOT`` steps at the indices of *largest* (each operand's largest id, ``-1``
    when it has none) by content-only steps; return the new steps and the one-bit keys to
    write first (``(key, offset)``: ``SETBIT key offset 1``).

    With ``u = {q}`` for ``q = unit_offset(m)``, ``NOT(u) OR u`` is every id of
    ``[0, 8 * (m // 8 + 1))`` on every backend (a freshly written one-bit key has no trailing
    zero bytes), and ``~x`` is ``x XOR`` that mask; the mask is built at the step's own
    destination, so a ``NOT`` costs no more keys than the one-bit key. ``OR u u u`` first
    gives ``u`` the evaluation's TTL. An operand without ids gives ``AND d x x``: empty, as
    ``~x`` of nothing.
    """
    out: list[BitOpStep] = []
    units: list[tuple[str, int]] = []
    for index, step in enumerate(steps):
        if index not in largest:
            out.append(step)
            continue
        source, dest = step.sources[0], step.dest
        top = largest[index]
        if top < 0:
            out.append(BitOpStep("AND", dest, (source, source)))
            continue
        offset = unit_offset(top)
        unit = f"{scheme.bitop_prefix}unit_{offset}"
        units.append((unit, offset))
        out += [
            BitOpStep("OR", unit, (unit, unit)),
            BitOpStep("NOT", dest, (unit,)),
            BitOpStep("OR", dest, (dest, unit)),
            BitOpStep("XOR", dest, (dest, source)),
        ]
    return out, units
