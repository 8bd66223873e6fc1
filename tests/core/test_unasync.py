"""The generated sync code is fresh, and the generator catches what it must."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync_script", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unasync_script"] = module
    spec.loader.exec_module(module)
    return module


unasync = _load()


def test_generated_code_is_fresh() -> None:
    assert unasync.problems(ROOT) == [], "run `python scripts/unasync.py`"


def _tree(tmp_path: Path) -> Path:
    src = tmp_path / "bitmapist_async" / "_async"
    src.mkdir(parents=True)
    (tmp_path / "tests" / "_async").mkdir(parents=True)
    body = "\n".join(
        [
            "from bitmapist_async import Bitmapist",
            "import redis.asyncio as r",
            "from bitmapist_async._async import x",
            "from collections.abc import AsyncIterator",
            "async def f() -> None:",
            "    async with a:",
            "        async for b in c:",
            "            await d.aclose()",
            "    def __aiter__(self): ...",
            "    def __aenter__(self): ...",
            "",
        ]
    )
    (src / "mod.py").write_text(body)
    return tmp_path


def test_conversion_and_check(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert unasync.generate(root) == []
    out = (root / "bitmapist_async" / "_sync" / "mod.py").read_text()
    assert "generated from bitmapist_async/_async/mod.py" in out
    for expected in (
        "from bitmapist_async.sync import Bitmapist",
        "import redis as r",
        "from bitmapist_async._sync import x",
        "from collections.abc import Iterator",
        "def f() -> None:",
        "    with a:",
        "        for b in c:",
        "            d.close()",
        "def __iter__(self)",
        "def __enter__(self)",
    ):
        assert expected in out
    assert unasync.problems(root) == []


def test_check_finds_stale_tail_and_orphans(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    unasync.generate(root)
    generated = root / "bitmapist_async" / "_sync" / "mod.py"
    generated.write_text(generated.read_text() + "# edited by hand\n")
    orphan = root / "tests" / "_sync" / "test_gone.py"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_text("")
    found = unasync.problems(root)
    assert "stale: bitmapist_async/_sync/mod.py" in found
    assert "orphan (no _async source): tests/_sync/test_gone.py" in found
    (root / "bitmapist_async" / "_sync" / "mod.py").unlink()
    assert "missing: bitmapist_async/_sync/mod.py" in unasync.problems(root)
    unasync.generate(root)
    assert not orphan.exists()


def test_unused_entries_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bitmapist_async" / "_async").mkdir(parents=True)
    (tmp_path / "bitmapist_async" / "_async" / "mod.py").write_text("x = 1\n")
    found = unasync.problems(tmp_path)
    assert any(line.startswith("unused table entry") for line in found)
