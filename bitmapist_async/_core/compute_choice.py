"""Where a table's cells are counted when the caller lets the library choose (no I/O here).

``compute="auto"`` (the default of cohorts): count here (``"local"``: fetch each selection's
bitmap once) while the bitmaps to fetch are small, in storage (``"storage"``: one ``BITOP`` and
``BITCOUNT`` per cell, only counts travel) beyond. The size is measured by one cheap probe of
every stored bitmap the table reads (``STRLEN`` on Redis, the key rows of the embedded store);
a backend that cannot say (bitmapist-server, the sharded layout) counts in storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from .plan import Leaf, Node, OpNode

__all__ = ("LOCAL_BUDGET_BYTES", "choose_compute", "leaf_keys")

#: ``compute="auto"`` counts cells here while the stored bitmaps a table reads add up to at
#: most this many bytes (32 MiB: about 268 million ids' worth of bitmaps).
LOCAL_BUDGET_BYTES = 32 * 2**20


def leaf_keys(nodes: Iterable[Node]) -> list[str]:
    """Every stored key the expressions *nodes* read, each once, in first-seen order."""
    seen: dict[str, None] = {}
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, Leaf):
            seen.setdefault(node.key, None)
        elif isinstance(node, OpNode):
            stack.extend(reversed(node.children))
    return list(seen)


def choose_compute(
    sizes: Sequence[int] | None, budget: int = LOCAL_BUDGET_BYTES
) -> Literal["local", "storage"]:
    """``"local"`` when the probed *sizes* (bytes; ``None``: the backend cannot say) fit the
    *budget*, else ``"storage"``."""
    if sizes is None:
        return "storage"
    return "local" if sum(sizes) <= budget else "storage"
