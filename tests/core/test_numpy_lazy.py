"""numpy is imported when a numpy path first needs it, not with the package."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bitmapist_async._core import numpy_lazy
from bitmapist_async._core.decode import decode_ids


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    return done.stdout.strip()


def test_importing_the_package_and_marking_does_not_import_numpy() -> None:
    code = (
        "import sys, bitmapist_async, bitmapist_async.sync, bitmapist_async.compat\n"
        "print('numpy' in sys.modules)"
    )
    assert _run(code) == "False"


def test_the_first_numpy_path_imports_it() -> None:
    pytest.importorskip("numpy")
    code = (
        "import sys\n"
        "from bitmapist_async._core.decode import decode_ids\n"
        "before = 'numpy' in sys.modules\n"
        "assert decode_ids(bytes([0x80, 0x01])) == [0, 15]\n"
        "print(before, 'numpy' in sys.modules)"
    )
    assert _run(code) == "False True"


def test_without_numpy_the_python_paths_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numpy_lazy, "_module", None)
    assert numpy_lazy.numpy() is None
    assert numpy_lazy.numpy_with_bitwise_count() is None
    assert decode_ids(bytes([0x80, 0x01])) == [0, 15]
