from __future__ import annotations

import pytest

from bitmapist_async._core.keys import KeyScheme, escape_glob
from bitmapist_async._core.plan import BitOpStep, Leaf, compile_plan, make_op, merge_steps

S = KeyScheme()
A, B, C = Leaf("trackist_a_u"), Leaf("trackist_b_u"), Leaf("trackist_c_u")


def test_key_names() -> None:
    assert S.event_key("active", "2026-1") == "trackist_active_2026-1"
    assert S.unique_key("p") == "trackist_p_u"
    assert S.bitop_key("AND", ["x", "y"]) == "trackist_bitop_AND_x-y"
    long = S.bitop_key("OR", ["k" * 300, "j" * 300])
    assert long.startswith("trackist_bitop_OR_sha256:")
    assert len(long) < 100
    assert long == S.bitop_key("OR", ["k" * 300, "j" * 300])
    assert long != S.bitop_key("OR", ["j" * 300, "k" * 300])


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("trackist_active_2026-1", "active"),
        ("trackist_song:played_2026-11-28", "song:played"),
        ("trackist_a_b_2026-11-28-23", "a_b"),
        ("trackist_x_W2026-53", "x"),
        ("trackist_flag_u", "flag"),
        ("trackist_bitop_AND_trackist_a_u-trackist_b_u", None),
        ("trackist_2026-1", None),
        ("trackist_x_y", None),
        ("other_x_u", None),
    ],
)
def test_event_name_from_key(key: str, name: str | None) -> None:
    assert S.event_name(key) == name


def test_glob_escape() -> None:
    assert escape_glob("a*b?c[d]e\\f") == "a\\*b\\?c\\[d\\]e\\\\f"
    assert KeyScheme("p*").events_pattern("x?") == "p\\*x\\?*"
    assert S.bitop_pattern() == "trackist_bitop_*"


def test_leaf_plan_has_no_steps() -> None:
    plan = compile_plan(A, S)
    assert plan.steps == ()
    assert plan.result == A.key


def test_nested_plan_is_ordered_and_deduplicated() -> None:
    ab = make_op(S, "AND", [A, B])
    expr = make_op(S, "OR", [ab, make_op(S, "XOR", [ab, C])])
    plan = compile_plan(expr, S)
    assert [s.op for s in plan.steps] == ["AND", "XOR", "OR"]
    assert plan.result == expr.key
    produced: set[str] = set()
    for step in plan.steps:
        assert all(src in produced or not src.startswith("trackist_bitop_") for src in step.sources)
        produced.add(step.dest)


def test_and_not_is_an_exact_difference() -> None:
    expr = make_op(S, "AND", [A, make_op(S, "NOT", [B])])
    plan = compile_plan(expr, S)
    inter = S.bitop_key("AND", [A.key, B.key])
    assert plan.steps == (
        BitOpStep("AND", inter, (A.key, B.key)),
        BitOpStep("XOR", expr.key, (A.key, inter)),
    )
    assert expr.key == f"trackist_bitop_AND_{A.key}-trackist_bitop_NOT_{B.key}"


def test_and_of_negations_is_de_morgan() -> None:
    expr = make_op(S, "AND", [make_op(S, "NOT", [A]), make_op(S, "NOT", [B])])
    plan = compile_plan(expr, S)
    union = S.bitop_key("OR", [A.key, B.key])
    assert plan.steps == (
        BitOpStep("OR", union, (A.key, B.key)),
        BitOpStep("NOT", expr.key, (union,)),
    )


def test_merge_steps() -> None:
    p1 = compile_plan(make_op(S, "AND", [A, B]), S)
    p2 = compile_plan(make_op(S, "OR", [make_op(S, "AND", [A, B]), C]), S)
    merged = merge_steps([p1, p2])
    assert [s.dest for s in merged] == [p1.result, p2.result]


def test_operand_counts() -> None:
    with pytest.raises(TypeError, match="at least one"):
        make_op(S, "OR", [])
    with pytest.raises(TypeError, match="exactly one"):
        make_op(S, "NOT", [A, B])
