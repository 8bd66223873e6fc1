"""docs/reliability.md names, for each failure mode, the test that shows it: each named test
exists (a renamed or deleted test fails here instead of leaving the table stale)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_CELL = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)?)`((?:, `::\w+`)*)")


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test name or ``None`` for a whole file) for each test the table names; a
    ``::name`` after a comma belongs to the file named before it."""
    found: list[tuple[str, str | None]] = []
    for match in _CELL.finditer(text):
        path, first, more = match.groups()
        names = [first[2:]] if first else [None]
        names += re.findall(r"`::(\w+)`", more)
        found += [(path, name) for name in names]
    return found


def test_the_parser_reads_a_cell() -> None:
    cell = "`tests/a.py::one`, `::two` and `tests/b.py`"
    assert named_tests(cell) == [("tests/a.py", "one"), ("tests/a.py", "two"), ("tests/b.py", None)]


def test_every_test_the_reliability_table_names_exists() -> None:
    named = named_tests((ROOT / "docs" / "reliability.md").read_text())
    assert len(named) >= 20
    missing = []
    for path, name in named:
        source = ROOT / path
        if not source.exists():
            missing.append(path)
            continue
        if name is None:
            continue
        tree = ast.parse(source.read_text())
        defined = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []
