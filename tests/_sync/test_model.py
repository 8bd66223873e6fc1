# This file is generated from tests/_async/test_model.py by scripts/unasync.py: do not edit it.
# Edit the source, then run `python scripts/unasync.py`.
"""Hypothesis state machine: random marks, unmarks, deletes and bit-op queries must agree
exactly with a model made of Python sets, on every backend.

A standalone NOT is the complement within the ids up to the end of the byte holding the
operand's largest id (empty for an empty operand): contents only, whatever the stored lengths
(an unmark of the largest id leaves a Redis string longer than that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bitmapist_async.sync import Bitmapist, Expression

from ..conftest import LayoutTarget
from ..portal import Portal

NAMES = ("a", "b", "c")
DAYS = (1, 2, 9)  # Nov 1 and 2 share ISO week 44; Nov 9 is in week 46
UIDS = st.one_of(st.integers(0, 40), st.integers(0, 3000))


@dataclass
class Value:
    ids: frozenset[int]


def universe(ids: frozenset[int]) -> frozenset[int]:
    """The universe of ``~x`` for an *x* holding *ids*."""
    return frozenset(range(max(ids) // 8 * 8 + 8)) if ids else frozenset()


@dataclass(frozen=True)
class Tree:
    """A random expression: ("leaf", kind, name, day) or (op, children...)."""

    spec: tuple[Any, ...]


LEAF = st.builds(
    lambda kind, name, day: Tree(("leaf", kind, name, day)),
    st.sampled_from(["day", "week", "month", "unique"]),
    st.sampled_from(NAMES),
    st.sampled_from(DAYS),
)


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    many = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda op, kids: Tree((op, *kids)), st.sampled_from(["and", "or", "xor"]), many),
        st.builds(lambda kid: Tree(("not", kid)), children),
    )


TREES = st.recursive(LEAF, _extend, max_leaves=6)


class BitmapModel:
    """The expected contents of every key, as sets."""

    def __init__(self) -> None:
        self.keys: dict[str, Value] = {}

    def setbit(self, key: str, uid: int, value: int) -> None:
        old = self.keys.get(key, Value(frozenset()))
        self.keys[key] = Value(old.ids | {uid} if value else old.ids - {uid})

    def delete(self, key: str) -> None:
        self.keys.pop(key, None)

    def get(self, key: str) -> Value:
        return self.keys.get(key, Value(frozenset()))


def leaf_key(kind: str, name: str, day: int) -> str:
    week = datetime(2026, 11, day).isocalendar()[1]
    return {
        "day": f"trackist_{name}_2026-11-{day}",
        "week": f"trackist_{name}_W2026-{week}",
        "month": f"trackist_{name}_2026-11",
        "unique": f"trackist_{name}_u",
    }[kind]


def evaluate(model: BitmapModel, tree: Tree) -> Value:
    op, *rest = tree.spec
    if op == "leaf":
        return model.get(leaf_key(*rest))
    kids = [evaluate(model, t) for t in rest]
    if op == "not":
        return Value(universe(kids[0].ids) - kids[0].ids)
    if op == "and":
        negated = [t for t in rest if t.spec[0] == "not"]
        if negated:
            positive = [evaluate(model, t) for t in rest if t.spec[0] != "not"]
            removed = frozenset().union(*(evaluate(model, t.spec[1]).ids for t in negated))
            if not positive:  # De Morgan: ~(a | b)
                return Value(universe(removed) - removed)
            base = frozenset.intersection(*(p.ids for p in positive))
            return Value(base - removed)
        return Value(frozenset.intersection(*(k.ids for k in kids)))
    if op == "or":
        return Value(frozenset().union(*(k.ids for k in kids)))
    result: frozenset[int] = frozenset()
    for k in kids:
        result = result ^ k.ids
    return Value(result)


def build(bm: Bitmapist, tree: Tree) -> Expression:
    op, *rest = tree.spec
    if op == "leaf":
        kind, name, day = rest
        if kind == "day":
            return bm.DayEvents(name, 2026, 11, day)
        if kind == "week":
            return bm.WeekEvents(name, 2026, datetime(2026, 11, day).isocalendar()[1])
        if kind == "month":
            return bm.MonthEvents(name, 2026, 11)
        return bm.UniqueEvents(name)
    kids = [build(bm, t) for t in rest]
    if op == "not":
        return ~kids[0]
    cls = {"and": bm.BitOpAnd, "or": bm.BitOpOr, "xor": bm.BitOpXor}[op]
    return cls(*kids)


def _open(target: LayoutTarget) -> Bitmapist:
    bm = Bitmapist(target.url, **target.options)
    bm.delete_all_events()
    return bm


class BitmapistMachine(RuleBasedStateMachine):
    target = LayoutTarget("redis", "", {})

    def __init__(self) -> None:
        super().__init__()
        self.portal = Portal()
        self.model = BitmapModel()
        self.bm: Bitmapist | None = None

    @initialize()
    def connect(self) -> None:
        self.bm = self.portal.call(_open, self.target)

    @property
    def client(self) -> Bitmapist:
        assert self.bm is not None
        return self.bm

    @rule(
        name=st.sampled_from(NAMES),
        day=st.sampled_from(DAYS),
        uid=UIDS,
        value=st.sampled_from([0, 1]),
    )
    def mark(self, name: str, day: int, uid: int, value: int) -> None:
        when = datetime(2026, 11, day, 12, tzinfo=timezone.utc)
        call = self.client.mark_event if value else self.client.unmark_event
        self.portal.call(call, name, uid, when)
        for kind in ("day", "week", "month"):
            self.model.setbit(leaf_key(kind, name, day), uid, value)

    @rule(name=st.sampled_from(NAMES), uid=UIDS, value=st.sampled_from([0, 1]))
    def mark_unique(self, name: str, uid: int, value: int) -> None:
        call = self.client.mark_unique if value else self.client.unmark_unique
        self.portal.call(call, name, uid)
        self.model.setbit(leaf_key("unique", name, 1), uid, value)

    @rule(tree=LEAF)
    def delete(self, tree: Tree) -> None:
        self.portal.call(build(self.client, tree).delete)
        self.model.delete(leaf_key(*tree.spec[1:]))

    @rule(tree=TREES, probe=UIDS)
    def query(self, tree: Tree, probe: int) -> None:
        expected = evaluate(self.model, tree)
        expr = build(self.client, tree)
        assert self.portal.call(expr.ids) == sorted(expected.ids)
        assert self.portal.call(expr.count) == len(expected.ids)
        assert self.portal.call(expr.contains, probe) == (probe in expected.ids)
        assert self.portal.call(expr.has_events_marked) == bool(expected.ids)

    @precondition(lambda self: self.bm is not None)
    @invariant()
    def counts_agree(self) -> None:
        trees = [Tree(("leaf", "month", n, 1)) for n in NAMES]
        exprs = [build(self.client, t) for t in trees]
        expected = [len(evaluate(self.model, t).ids) for t in trees]
        assert self.portal.call(self.client.counts, exprs) == expected

    def teardown(self) -> None:
        if self.bm is not None:
            self.portal.call(self.bm.close)
        self.portal.close()


def test_model(layout_target: LayoutTarget) -> None:
    BitmapistMachine.target = layout_target
    run_state_machine_as_test(
        BitmapistMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
