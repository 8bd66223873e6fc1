#!/usr/bin/env python3
"""Generate the sync code from the async code (``_async`` -> ``_sync``).

Usage::

    python scripts/unasync.py          # rewrite bitmapist_async/_sync and tests/_sync
    python scripts/unasync.py --check  # exit 1 if any generated file is stale or orphaned

An ordered table of word-bounded regex replacements is applied line by line. The run fails when
a table entry is never used, so the table cannot rot; ``--check`` compares whole files and
reports ``_sync`` files that no longer have an ``_async`` source.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (source directory, generated directory), relative to the repository root.
DIRECTORIES = (
    ("bitmapist_async/_async", "bitmapist_async/_sync"),
    ("tests/_async", "tests/_sync"),
)

#: Ordered (pattern, replacement) pairs; each pattern is bounded by word edges.
SUBS: tuple[tuple[str, str], ...] = (
    (r"\bfrom bitmapist_async import\b", "from bitmapist_async.sync import"),
    (r"\bbitmapist_async\._async\b", "bitmapist_async._sync"),
    (r"\bredis\.asyncio\b", "redis"),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__a(enter|exit|iter|next)__\b", r"__\1__"),
    (r"\baclose\b", "close"),
    (r"\bAsync([A-Z]\w*)\b", r"\1"),
)

_COMPILED = tuple((re.compile(pattern), repl) for pattern, repl in SUBS)

HEADER = (
    "# This file is generated from {source} by scripts/unasync.py: do not edit it.\n"
    "# Edit the source, then run `python scripts/unasync.py`.\n"
)


def convert(text: str, used: set[int]) -> str:
    """Apply the table to *text* line by line, recording which entries matched."""
    out = []
    for line in text.splitlines(keepends=True):
        for index, (pattern, repl) in enumerate(_COMPILED):
            line, count = pattern.subn(repl, line)
            if count:
                used.add(index)
        out.append(line)
    return "".join(out)


def _sources(src_dir: Path) -> Iterator[Path]:
    yield from sorted(p for p in src_dir.rglob("*.py") if "__pycache__" not in p.parts)


def expected_files(root: Path = ROOT) -> tuple[dict[Path, str], set[int]]:
    """Every generated path with the text it should have, and the table entries used."""
    used: set[int] = set()
    files: dict[Path, str] = {}
    for src, dst in DIRECTORIES:
        src_dir, dst_dir = root / src, root / dst
        for source in _sources(src_dir):
            rel = source.relative_to(src_dir)
            header = HEADER.format(source=f"{src}/{rel.as_posix()}")
            files[dst_dir / rel] = header + convert(source.read_text(encoding="utf-8"), used)
    return files, used


def problems(root: Path = ROOT) -> list[str]:
    """Stale, missing and orphaned generated files, and unused table entries."""
    files, used = expected_files(root)
    found: list[str] = []
    for path, text in files.items():
        rel = path.relative_to(root).as_posix()
        if not path.exists():
            found.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != text:
            found.append(f"stale: {rel}")
    for _, dst in DIRECTORIES:
        for path in _sources(root / dst):
            if path not in files:
                found.append(f"orphan (no _async source): {path.relative_to(root).as_posix()}")
    found.extend(f"unused table entry: {SUBS[i][0]!r}" for i in range(len(SUBS)) if i not in used)
    return found


def generate(root: Path = ROOT) -> list[str]:
    """Write every generated file, delete orphans; return the unused table entries."""
    files, used = expected_files(root)
    for _, dst in DIRECTORIES:
        for path in _sources(root / dst):
            if path not in files:
                path.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return [f"unused table entry: {SUBS[i][0]!r}" for i in range(len(SUBS)) if i not in used]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report, exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for line in found:
            print(line)
        if found:
            print("run `python scripts/unasync.py` to regenerate", file=sys.stderr)
        return 1 if found else 0
    unused = generate()
    for line in unused:
        print(line)
    return 1 if unused else 0


if __name__ == "__main__":
    sys.exit(main())
