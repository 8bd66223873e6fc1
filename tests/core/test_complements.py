"""One-operand operations and the resolution of standalone NOTs (``_core/plan.py``), I/O-free."""

from __future__ import annotations

from bitmapist_async._core.decode import largest_id
from bitmapist_async._core.keys import KeyScheme
from bitmapist_async._core.plan import (
    BitOpStep,
    Leaf,
    compile_plan,
    complement_stage,
    make_op,
    resolve_complements,
    unit_offset,
)

S = KeyScheme()
A, B = Leaf("trackist_a_u"), Leaf("trackist_b_u")
UNIT = "trackist_bitop_unit_"


def test_one_operand_operations_emit_no_step() -> None:
    for op in ("AND", "OR", "XOR"):
        node = make_op(S, op, [A])
        assert compile_plan(node, S).steps == ()
        assert compile_plan(node, S).result == A.key
        stored = compile_plan(node, S, at_key=True)
        assert stored.steps == (BitOpStep("OR", node.key, (A.key, A.key)),)
        assert stored.result == node.key
    inner = make_op(S, "OR", [A, B])
    plan = compile_plan(make_op(S, "AND", [inner]), S)
    assert plan.result == inner.key
    assert [s.op for s in plan.steps] == ["OR"]


def test_stages_resolve_nested_nots_level_by_level() -> None:
    inner = make_op(S, "NOT", [A])
    outer = make_op(S, "NOT", [make_op(S, "OR", [inner, B])])
    steps = list(compile_plan(outer, S).steps)
    stage = complement_stage(steps, S)
    assert stage is not None
    assert stage.sources == (A.key,)  # the outer NOT waits for the inner one
    assert stage.steps == ()
    steps, units = resolve_complements(steps, {stage.indices[0]: 9}, S)
    assert units == [(f"{UNIT}14", 14)]
    assert [s.op for s in steps[:4]] == ["OR", "NOT", "OR", "XOR"]
    stage = complement_stage(steps, S)
    assert stage is not None
    assert len(stage.indices) == 1
    assert stage.sources == (make_op(S, "OR", [inner, B]).key,)
    assert {s.dest for s in stage.steps} >= {inner.key}
    steps, units = resolve_complements(steps, {stage.indices[0]: -1}, S)
    assert units == []
    assert steps[-1] == BitOpStep("AND", outer.key, (stage.sources[0], stage.sources[0]))
    assert complement_stage(steps, S) is None
    assert all(s.op != "NOT" or s.sources[0].startswith(UNIT) for s in steps)


def test_unit_offset_avoids_the_last_bit() -> None:
    assert unit_offset(0) == 6
    assert unit_offset(7) == 6
    assert unit_offset(8) == 14
    assert unit_offset(2**32 - 1) == 2**32 - 2  # bitmapist-server's NOT overflows on 2**32 - 1


def test_largest_id() -> None:
    assert largest_id(b"") == -1
    assert largest_id(bytes(3)) == -1
    assert largest_id(b"\x80") == 0
    assert largest_id(b"\x00\x41" + bytes(5_000_000)) == 15
    assert largest_id(b"\x01", 2) == 23
