"""bitmapist 3.119 in its own virtualenv (it pins ``redis<6``), for interop tests and benchmark
baselines. Created on first use under ``.bench/`` with the machine's pip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ("LEGACY_VERSION", "legacy_python", "run_legacy")

LEGACY_VERSION = "3.119"
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench" / f"bitmapist-{LEGACY_VERSION}"


def legacy_python() -> Path | None:
    """Path of a Python with bitmapist 3.119 importable, creating it if needed; ``None`` when it
    cannot be created (no package registry reachable)."""
    configured = os.environ.get("BITMAPIST_LEGACY_PYTHON")
    if configured:
        return Path(configured)
    python = VENV / "bin" / "python"
    marker = VENV / ".complete"
    if marker.exists():
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"bitmapist=={LEGACY_VERSION}", "hiredis"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    marker.write_text(LEGACY_VERSION)
    return python


def run_legacy(python: Path, port: int, script: str, **params: Any) -> Any:
    """Run *script* under bitmapist 3.119 with ``setup_redis('default', ..., port)`` done and
    ``params`` bound; the script sets ``result``, returned here (JSON round trip)."""
    prelude = (
        "import json, sys\n"
        "import bitmapist\n"
        f"bitmapist.setup_redis('default', '127.0.0.1', {port})\n"
        "params = json.loads(sys.argv[1])\n"
    )
    epilogue = "\nprint(json.dumps(result))\n"
    proc = subprocess.run(
        [str(python), "-c", prelude + script + epilogue, json.dumps(params)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])
