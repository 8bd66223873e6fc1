"""The read-only CLI commands on an embedded store (``check``, ``dashboard``, ``export``'s
source) write nothing, even to a store in a read-only directory; ``check`` exits 0 on a sound
store, 1 with one line per damaged key, 2 on a usage error."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bitmapist_async._cli import main
from bitmapist_async.sync import Bitmapist

from .dashboard_server import running_dashboard

MAY = datetime(2026, 5, 4, tzinfo=timezone.utc)


def _snapshot(directory: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
    }


@contextmanager
def _read_only(*paths: Path) -> Iterator[None]:
    modes = [p.stat().st_mode for p in paths]
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in zip(paths, modes, strict=True):
            p.chmod(mode)


def _store(path: Path) -> Path:
    with Bitmapist(f"file://{path}") as bm:
        for uid in (1, 2, 3):
            bm.mark_event("signup", uid, MAY)
        bm.mark_event("active", 2, MAY)
        bm.mark_unique("big", 70_000)
    return path


def _unstamp(path: Path) -> None:
    """Make *path* look like a store of an earlier version: a read-write open would stamp it
    (a write even a root process cannot hide), a read-only one leaves it alone."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA application_id = 0")
    conn.close()


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_a_sound_store_from_a_read_only_directory(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    path = _store(backup / "events.db")
    _unstamp(path)
    before = _snapshot(backup)
    with _read_only(path, backup):
        for arg in (str(path), f"file://{path}", os.path.relpath(path)):
            done = _check(arg)
            assert done.returncode == 0, done.stderr
            assert done.stderr == ""
            assert done.stdout == f"{path}: 7 keys, 7 containers: no damage\n"
    assert _snapshot(backup) == before


def test_check_reports_one_line_per_damaged_key(tmp_path: Path) -> None:
    path = _store(tmp_path / "events.db")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE bitmapist_chunks SET payload = x'ff' WHERE hi = 1")  # 'big'
        conn.execute(
            "UPDATE bitmapist_chunks SET card = 7 WHERE key_id ="
            " (SELECT id FROM bitmapist_keys WHERE name = CAST('trackist_active_2026-5' AS BLOB))"
        )
    conn.close()
    before = _snapshot(tmp_path)
    done = _check(str(path))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines == [
        f"{path}: key 'trackist_active_2026-5': container 0: array payload of 2 bytes for"
        " cardinality 7",
        f"{path}: key 'trackist_big_u': container 1: array payload of 1 bytes for cardinality 1",
    ]
    assert done.stdout == f"{path}: 7 keys, 7 containers: 2 damaged\n"
    assert _snapshot(tmp_path) == before


def test_check_usage_and_foreign_files(tmp_path: Path) -> None:
    missing = _check(str(tmp_path / "missing.db"))
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"bitmapist-async check: error: no such file: {tmp_path}/missing.db\n"
    assert not (tmp_path / "missing.db").exists()
    for bad in ("memory://", "redis://127.0.0.1:1/0", "file:///x.db?mode=bad"):
        done = _check(bad)
        assert done.returncode == 2, bad
        assert done.stderr.startswith("bitmapist-async check: error: ")
    assert _check().returncode == 2  # argparse: FILE is required
    foreign = tmp_path / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE users(id)")
    conn.close()
    before = _snapshot(tmp_path)
    done = _check(str(foreign))
    assert done.returncode == 1
    assert "another application's SQLite database (tables: users)" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert _snapshot(tmp_path) == before
    helped = _check("--help")
    assert helped.returncode == 0
    assert "exit status: 0 no damage, 1 damage found" in helped.stdout
    assert "no such file" in helped.stdout
    assert "``" not in helped.stdout  # plain text, no markup


def test_dashboard_serves_a_store_it_may_not_write(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    path = _store(backup / "events.db")
    _unstamp(path)
    before = _snapshot(backup)
    with _read_only(path, backup), running_dashboard(f"file://{path}") as base:
        query = "select1=signup&select2=active&num_results=1&num_of_rows=1&start_date=2026-05-04"
        with urllib.request.urlopen(f"{base}/?{query}&as_percent=0", timeout=30) as response:
            page = response.read().decode()
        assert '<td class="size">3</td>' in page
        assert _snapshot(backup) == before  # while serving: no -wal, no -shm
    assert _snapshot(backup) == before


def test_export_reads_its_source_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    path = _store(backup / "events.db")
    _unstamp(path)
    before = _snapshot(backup)
    dump = tmp_path / "events.jsonl"
    with _read_only(path, backup):
        assert main(["export", "--from", f"file://{path}", str(dump)]) == 0
    assert "exported 7 keys" in capsys.readouterr().err
    assert json.loads(dump.read_text().splitlines()[-1]) == {"end": True, "keys": 7}
    assert _snapshot(backup) == before


def test_import_of_a_truncated_gzip_ends_with_the_summary(tmp_path: Path) -> None:
    rows = "".join(
        json.dumps({"event": "e", "user_id": uid, "timestamp": "2026-05-04T00:00:00Z"}) + "\n"
        for uid in range(60_000)
    )
    packed = gzip.compress(rows.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    store = f"file://{tmp_path}/events.db"
    done = subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "import", "--store", store,
         "--chunk-rows", "10000", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.startswith(
        f"bitmapist-async import: error: import failed: {path}: truncated or corrupt input"
        " (EOFError: "
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "import failed"
    written = next(line for line in lines if line.startswith("written through: "))
    position = written.removeprefix("written through: ").removesuffix(" (incomplete)")
    assert position.startswith(f"{path}:")
    imported = int(position.rpartition(":")[2])
    with Bitmapist(store) as bm:
        assert bm.DayEvents("e", 2026, 5, 4).count() == imported
    as_json = subprocess.run(
        [sys.executable, "-m", "bitmapist_async", "import", "--store", "memory://",
         "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert as_json.returncode == 1
    summary = json.loads(as_json.stdout)
    assert summary["status"] == "failed"
    assert summary["error"].startswith(f"{path}: truncated or corrupt input")
