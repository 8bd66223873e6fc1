from __future__ import annotations

from bitmapist_async._core.compute_choice import LOCAL_BUDGET_BYTES, choose_compute, leaf_keys
from bitmapist_async._core.keys import KeyScheme
from bitmapist_async._core.plan import Leaf, Node, make_op


def test_leaf_keys_are_distinct_and_in_order() -> None:
    scheme = KeyScheme()
    a, b, c = Leaf("a"), Leaf("b"), Leaf("c")
    nodes: list[Node] = [make_op(scheme, "AND", [a, make_op(scheme, "OR", [b, a])]), c, b]
    assert leaf_keys(nodes) == ["a", "b", "c"]
    assert leaf_keys([]) == []


def test_the_choice_follows_the_budget() -> None:
    assert LOCAL_BUDGET_BYTES == 32 * 2**20
    assert choose_compute([]) == "local"
    assert choose_compute([LOCAL_BUDGET_BYTES]) == "local"
    assert choose_compute([LOCAL_BUDGET_BYTES, 1]) == "storage"
    assert choose_compute([10, 20], budget=29) == "storage"
    assert choose_compute(None) == "storage"  # the backend cannot say
