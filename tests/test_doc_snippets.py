"""Every ```python block of README.md and docs/*.md runs as written.

Each block runs in its own Python process, in an empty working directory, the way
``python -m asyncio`` runs it (top-level ``await`` and ``async with`` allowed). The addresses the
docs use are the reader's; here they are swapped for servers the test session started itself,
and a block that would still name another server fails the test before it runs:

- ``redis://127.0.0.1:6379/0`` and ``"localhost", 6379`` -> the session's private redis-server;
- ``redis+cluster://10.0.0.5:7000`` -> the session's private Redis Cluster;
- ``file:///var/lib/...`` -> the same path under the test's temporary directory.

The input files the docs name (``events.jsonl``, ``2026-10.csv.gz``, ``2026-11.jsonl``) are
created in the working directory. An HTML comment on the line before a block changes how it
runs, and says why in the doc source:

- ``<!-- given: bm, table: reason -->``: the block runs with those names defined (see
  :data:`GIVEN`): an open async client ``bm`` on the private Redis, and so on;
- ``<!-- continues: reason -->``: the block runs after the block before it, in one process;
- ``<!-- fragment: reason -->``: the block is only compiled (a piece of a bigger program).

A block that includes a file (``--8<-- "docs/examples/x.py"``) is that file, compiled here; the
examples run in their own tests.
"""

from __future__ import annotations

import ast
import gzip
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_MARK = re.compile(r"<!-- (given|continues|fragment): (.*?) -->\s*\Z", re.S)
_INCLUDE = re.compile(r'^--8<-- "([^"]+)"\s*$')

#: What a ``given:`` name is, set up before the block runs (``{url}``: the private Redis).
GIVEN = {
    "Bitmapist": "from bitmapist_async import Bitmapist",
    "url": "url = {url!r}",
    "bm": "from bitmapist_async import Bitmapist as _B\nbm = _B({url!r})",
    "user_id": "user_id = 123",
    "table": 'table = await bm.cohort("signup", "active")',
    "csp_nonce": 'csp_nonce = "n0nce"',
}
_CLOSE = {"bm": "await bm.aclose()"}

_RUNNER = """\
import ast, asyncio, sys
source = open(sys.argv[1]).read()
code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    code: str
    kind: str  # "run", "given", "continues", "fragment"
    detail: str = ""
    previous: Block | None = None

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"

    def given(self) -> list[str]:
        names = self.detail.split(":", 1)[0]
        return [n.strip() for n in names.split(",")] if self.kind == "given" else []

    def source(self) -> str:
        """The code that runs: the blocks it continues, the given names, then itself."""
        parts = [] if self.previous is None else [self.previous.source()]
        parts += [GIVEN[name] for name in self.given()]
        parts.append(self.code)
        parts += [_CLOSE[name] for name in self.given() if name in _CLOSE]
        return "\n".join(parts)


def blocks() -> Iterator[Block]:
    for path in PAGES:
        text = path.read_text()
        previous: Block | None = None
        for match in _BLOCK.finditer(text):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = _MARK.search(before)
            kind, detail = (mark.group(1), mark.group(2)) if mark else ("run", "")
            code = match.group(1)
            include = _INCLUDE.match(code.strip())
            if include:
                code, kind, detail = (ROOT / include.group(1)).read_text(), "fragment", "include"
            block = Block(
                path.relative_to(ROOT).as_posix(),
                text[: match.start()].count("\n") + 1,
                code,
                kind,
                detail,
                previous if kind == "continues" else None,
            )
            yield block
            previous = block


BLOCKS = list(blocks())


def test_the_exceptions_are_few_and_say_why() -> None:
    assert len(BLOCKS) >= 25
    fragments = [b for b in BLOCKS if b.kind == "fragment" and b.detail != "include"]
    assert len(fragments) <= 4, [b.name for b in fragments]
    for block in BLOCKS:
        if block.kind != "run" and block.detail != "include":
            assert len(block.detail) > 10, block.name  # a reason, not a bare marker
        for name in block.given():
            assert name in GIVEN, (block.name, name)


def _inputs(directory: Path) -> None:
    rows = [("signup", 7, "2026-10-03T09:00:00Z"), ("active", 7, "2026-11-04T10:00:00Z")]
    (directory / "events.jsonl").write_text(
        "".join(f'{{"event": "{e}", "user_id": {u}, "timestamp": "{t}"}}\n' for e, u, t in rows)
    )
    csv = "event,user_id,ts\n" + "".join(f"{e},{u},{t}\n" for e, u, t in rows)
    (directory / "2026-10.csv.gz").write_bytes(gzip.compress(csv.encode()))
    (directory / "2026-11.jsonl").write_text(
        "".join(f'{{"event": "{e}", "user_id": {u}, "ts": "{t}"}}\n' for e, u, t in rows)
    )
    for sub in ("app", "myapp"):
        (directory / "var" / "lib" / sub).mkdir(parents=True)


def _substitute(code: str, redis_url: str, cluster_url: str | None, directory: Path) -> str:
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    code = code.replace("redis://127.0.0.1:6379/0", redis_url)
    code = code.replace('"localhost", 6379', f'"127.0.0.1", {port}')
    if cluster_url is not None:
        code = code.replace("redis+cluster://10.0.0.5:7000", cluster_url)
    code = code.replace("file:///var/lib/", f"file://{directory}/var/lib/")
    for foreign in ("6379", "localhost", "10.0.0.5", "file:///var/lib/"):
        if foreign not in redis_url:
            assert foreign not in code, f"the block would reach {foreign}"
    return code


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_the_block_runs_as_written(
    block: Block, tmp_path: Path, redis_url: str, request: pytest.FixtureRequest
) -> None:
    if block.kind == "fragment":
        compile(block.code, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    source = block.source().replace("{url!r}", repr(redis_url))
    cluster_url = None
    if "redis+cluster://" in source:
        cluster_url = request.getfixturevalue("cluster_url")
    source = _substitute(source, redis_url, cluster_url, tmp_path)
    _inputs(tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{block.name}:\n{source}\n{done.stderr}"
