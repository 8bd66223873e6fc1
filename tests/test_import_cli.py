"""``bitmapist-async import`` in a subprocess: stdin, exit codes, progress, and interruption.

Interruption tests synchronise on the importer's own "chunk N written" lines (``--progress``
on a pipe) and keep its standard input open, so the import can get no further than the data
given to it: no sleeps, no timing assumptions.
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from .eventlogs import LogRow, make_rows, mark_reference, snapshot, write_csv
from .servers import free_port

CHUNK = 40


def _command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bitmapist_async", "import", "--store", url, *args]


def _run(url: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(url, *args),
        input=None if stdin is None else stdin.decode("latin-1"),
        capture_output=True,
        text=True,
        timeout=60,
        encoding="latin-1",
    )


def _csv_bytes(rows: Sequence[LogRow]) -> bytes:
    lines = ["event,user_id,timestamp", *(f"{r.event},{r.uid},{r.text}" for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def _same(admin: redis.Redis) -> None:
    imported, reference = snapshot(admin, "imp_"), snapshot(admin, "ref_")
    assert reference
    assert imported == reference


@pytest.mark.parametrize("gz", [False, True])
def test_stdin_round_trip(redis_url: str, admin: redis.Redis, gz: bool) -> None:
    rows = make_rows(500, seed=21)
    data = _csv_bytes(rows)
    mark_reference(redis_url, rows, track_hourly=True)
    done = _run(
        redis_url,
        "-",
        "--key-prefix",
        "imp_",
        "--track-hourly",
        "--json",
        stdin=gzip.compress(data) if gz else data,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no terminal, no --progress: nothing on stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "complete"
    assert (summary["rows_read"], summary["rows_imported"]) == (500, 500)
    assert summary["position"] == "<stdin>:501"
    _same(admin)


def test_files_text_summary_and_columns(redis_url: str, admin: redis.Redis, tmp_path: Path) -> None:
    rows = make_rows(300, seed=22)
    path = write_csv(tmp_path / "a.csv", rows, columns=("e", "u", "t"))
    mark_reference(redis_url, rows, track_unique=True)
    done = _run(
        redis_url,
        str(path),
        "--key-prefix=imp_",
        "--track-unique",
        "--event-column=e",
        "--user-id-column=u",
        "--timestamp-column=t",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("import complete\nrows read: 300, imported: 300, rejected: 0\n")
    assert f"written through: {path}:301\n" in done.stdout
    _same(admin)


def test_naive_timestamps_use_tz(redis_url: str, admin: redis.Redis) -> None:
    zone = ZoneInfo("Asia/Kolkata")
    rows = make_rows(200, seed=23, forms=(2,), tz=zone)  # no offsets: the --tz zone
    mark_reference(redis_url, rows, tz=zone)
    done = _run(redis_url, "-", "--key-prefix=imp_", "--tz=Asia/Kolkata", stdin=_csv_bytes(rows))
    assert done.returncode == 0, done.stderr
    _same(admin)


def test_max_errors_exit_code_and_dry_run(redis_url: str, admin: redis.Redis) -> None:
    rows = make_rows(20, seed=24, forms=(0,))
    data = _csv_bytes(rows) + b"a,-1,2026-05-01\na,x,2026-05-01\nb,1,never\n"
    aborted = _run(redis_url, "-", "--max-errors=2", "--json", stdin=data)
    assert aborted.returncode == 3
    summary = json.loads(aborted.stdout)
    assert summary["status"] == "aborted"
    assert "more than max_errors=2" in summary["error"]
    assert [(e["line"], e["kind"]) for e in summary["errors"]] == [
        (22, "user_id_out_of_range"),
        (23, "bad_user_id"),
        (24, "bad_timestamp"),
    ]
    assert admin.keys("*") == []  # one chunk, never complete: nothing written

    assert "bitmapist-async import: error: import aborted: " in aborted.stderr
    assert "  <stdin>:24: unparseable timestamp: 'never'" in aborted.stderr

    tolerated = _run(redis_url, "-", "--dry-run", stdin=data)
    assert tolerated.returncode == 0
    assert "would import: 20" in tolerated.stdout
    assert "unparseable" not in tolerated.stdout  # the bad rows are diagnostics: on stderr
    assert tolerated.stderr.splitlines() == [
        "first 3 rejected row(s):",
        "  <stdin>:22: user id is outside [0, 2**32): -1",
        "  <stdin>:23: user id is not an integer: 'x'",
        "  <stdin>:24: unparseable timestamp: 'never'",
    ]
    assert admin.keys("*") == []


def test_usage_and_file_errors(redis_url: str, tmp_path: Path) -> None:
    assert _run(redis_url, "a.csv", "--tz=Mars/Olympus").returncode == 2
    assert _run(redis_url, "a.csv", "--chunk-rows=0").returncode == 2
    twice = _run(redis_url, "-", "-")
    assert twice.returncode == 2
    assert "standard input ('-') can be read only once" in twice.stderr
    missing = _run(redis_url, str(tmp_path / "missing.csv"))
    assert missing.returncode == 1
    assert missing.stdout.startswith("import failed\n")
    assert missing.stderr.startswith("bitmapist-async import: error: import failed: FileNotFound")
    port = free_port()
    down = _run(
        f"redis://:hunter2@127.0.0.1:{port}/0", str(write_csv(tmp_path / "a.csv", make_rows(3)))
    )
    assert down.returncode == 1
    assert down.stderr.splitlines() == [
        "bitmapist-async import: error: import failed: StorageUnavailableError: cannot reach "
        f"redis://:***@127.0.0.1:{port}/0: Error 111 connecting to 127.0.0.1:{port}. "
        f"Connect call failed ('127.0.0.1', {port})."
    ]
    assert down.stdout.startswith("import failed\n")


def test_progress_on_a_terminal(redis_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", make_rows(300, seed=25))
    with path.open("a") as log:
        log.write("a,not-an-id,2026-05-01\n")
    main, replica = pty.openpty()
    proc = subprocess.Popen(
        _command(redis_url, str(path)), stdout=subprocess.PIPE, stderr=replica, text=True
    )
    os.close(replica)
    seen = b""
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not data:
            break
        seen += data
    os.close(main)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    text = seen.decode()
    final, *after = text.rsplit("\r\x1b[K", 1)[1].split("\r\n")
    size = f"{path.stat().st_size / 1024:.1f} KiB"
    assert re.fullmatch(
        rf"\[#{{24}}\] 100% 301 rows, {re.escape(size)}, [\d,]+ rows/s, ETA 0:00, 1 rejected",
        final,
    ), final
    assert after[:2] == ["rejected row:", f"  {path}:302: 3 fields, the header has 4"]
    assert out.startswith("import complete\n")


def _start(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(url, "-", "--key-prefix=imp_", "--progress", "--json", *args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _feed_until_chunk(proc: subprocess.Popen[str], data: bytes, chunk: int) -> None:
    """Give *data* to the importer (keeping stdin open) and wait for its "chunk N written"."""
    assert proc.stdin is not None
    assert proc.stderr is not None
    proc.stdin.write(data.decode())
    proc.stdin.flush()
    for line in proc.stderr:
        if line.startswith(f"chunk {chunk} written"):
            return
    raise AssertionError(f"the importer exited before chunk {chunk}: {proc.wait()}")


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")]
)
def test_signal_mid_import_leaves_whole_chunks_and_a_summary(
    redis_url: str, admin: redis.Redis, sig: signal.Signals, status: str
) -> None:
    rows = make_rows(CHUNK * 3, seed=26)
    mark_reference(redis_url, rows[: CHUNK * 2])
    proc = _start(redis_url, f"--chunk-rows={CHUNK}")
    # two chunks and half of the third: the importer then waits for more input
    _feed_until_chunk(proc, _csv_bytes(rows[: CHUNK * 2 + CHUNK // 2]), 2)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    summary = json.loads(out)
    assert summary["status"] == status
    assert summary["complete"] is False
    assert (summary["chunks_written"], summary["rows_imported"]) == (2, CHUNK * 2)
    assert summary["position"] == f"<stdin>:{CHUNK * 2 + 1}"
    _same(admin)  # exactly the first two chunks

    # re-running the whole import completes it
    admin.delete(*admin.keys("ref_*"))
    mark_reference(redis_url, rows)
    again = _run(redis_url, "-", "--key-prefix=imp_", stdin=_csv_bytes(rows))
    assert again.returncode == 0
    _same(admin)


def _bitmaps(admin: redis.Redis, prefix: str) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(admin, prefix).items() if not k.startswith("bitop_")}


def test_sigkill_leaves_every_key_untouched_or_merged(redis_url: str, admin: redis.Redis) -> None:
    rows = make_rows(CHUNK * 3, seed=27, max_uid=400)
    proc = _start(redis_url, f"--chunk-rows={CHUNK}")
    # three whole chunks: the third may be anywhere in its writes when the kill lands
    _feed_until_chunk(proc, _csv_bytes(rows), 2)
    proc.kill()
    proc.communicate(timeout=60)
    after = _bitmaps(admin, "imp_")
    mark_reference(redis_url, rows[: CHUNK * 2], prefix="two_")
    mark_reference(redis_url, rows, prefix="three_")
    two, three = _bitmaps(admin, "two_"), _bitmaps(admin, "three_")
    assert set(two) <= set(after) <= set(three)
    for key, value in after.items():
        assert value in (two.get(key), three[key]), key

    mark_reference(redis_url, rows)
    again = _run(redis_url, "-", "--key-prefix=imp_", stdin=_csv_bytes(rows))
    assert again.returncode == 0
    assert _bitmaps(admin, "imp_") == _bitmaps(admin, "ref_")


def test_a_truncated_gzip_on_stdin_ends_with_the_summary(tmp_path: Path) -> None:
    rows = make_rows(3000, seed=31)
    packed = gzip.compress(_csv_bytes(rows))
    done = _run(
        f"file://{tmp_path}/events.db", "-", "--chunk-rows", "500",
        stdin=packed[: len(packed) // 2],
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    first, *rest = done.stdout.splitlines()
    assert first == "import failed"
    assert done.stderr.startswith(
        "bitmapist-async import: error: import failed: <stdin>: truncated or corrupt input"
        " (EOFError: "
    )
    assert any(line.startswith("written through: <stdin>:") for line in rest)
