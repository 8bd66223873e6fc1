"""The README's quickstart runs as written, and prints what its comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quickstart() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Quickstart") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def _print_comments(code: str) -> list[str]:
    """The comment after each ``print(...)`` statement (on its last line: a formatter may
    split a long call over several lines)."""
    comments, depth, in_print = [], 0, False
    for line in code.splitlines():
        body, _, comment = line.partition("  # ")
        if not in_print and body.strip().startswith("print("):
            in_print, depth = True, 0
        if in_print:
            depth += body.count("(") - body.count(")")
            if depth == 0:
                in_print = False
                if comment:
                    comments.append(comment.strip())
    return comments


def test_the_quickstart_prints_what_its_comments_say(tmp_path: Path) -> None:
    code = quickstart()
    expected = _print_comments(code)
    assert len(expected) >= 10
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    assert list(tmp_path.iterdir()) == []  # memory:// writes no file
