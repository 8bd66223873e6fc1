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


def test_the_quickstart_prints_what_its_comments_say(tmp_path: Path) -> None:
    code = quickstart()
    expected = [
        line.split("  # ", 1)[1].strip()
        for line in code.splitlines()
        if line.strip().startswith("print(") and "  # " in line
    ]
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
