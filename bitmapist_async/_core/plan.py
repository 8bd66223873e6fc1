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
    difference ``P - N`` whatever the lengths. A standalone ``~a`` keeps Redis's meaning: the
    complement of ``a`` within its own bytes (ids up to the next multiple of 8 past ``a``'s
    largest byte). An AND of only negations is ``NOT(OR(...))`` (De Morgan), padded likewise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .keys import KeyScheme

__all__ = (
    "BitOpStep",
    "Leaf",
    "Query",
    "QueryKind",
    "Node",
    "Op",
    "OpNode",
    "Plan",
    "compile_plan",
    "make_op",
    "merge_steps",
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


def compile_plan(node: Node, scheme: KeyScheme) -> Plan:
    """Compile *node* into dependency-ordered, de-duplicated ``BITOP`` steps."""
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
