"""What every ``bitmapist-async`` command shares: ``--version``, plain help with a line per
option, the store spellings (old ones hidden but working), one-line errors naming the redacted
store (``--debug``: the traceback), documented exit codes, streams, progress, and read-only
commands that create nothing."""

from __future__ import annotations

import argparse
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bitmapist_async import __version__
from bitmapist_async._cli import build_parser
from bitmapist_async._cli.demo import MARKER
from bitmapist_async._cli.progress import Snapshot, bar_text
from bitmapist_async.sync import Bitmapist

from .servers import free_port

COMMANDS = ("demo", "dashboard", "migrate", "export", "import-store", "import", "check")


def cli(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bitmapist_async", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        input=stdin,
    )


def on_a_terminal(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with standard error on a pseudo-terminal: (status, stdout, what the terminal
    received)."""
    main, replica = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bitmapist_async", *args],
        stdout=subprocess.PIPE,
        stderr=replica,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        text=True,
    )
    os.close(replica)
    seen = b""
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not data:
            break
        seen += data
    os.close(main)
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out, seen.decode()


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version() -> None:
    done = cli("--version")
    assert (done.returncode, done.stdout) == (0, f"bitmapist-async {__version__}\n")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_plain_text_with_a_line_per_option(command: str) -> None:
    sub = _subparsers()[command]
    for action in sub._actions:
        assert action.help, (command, action.option_strings or action.dest)
    done = cli(command, "--help")
    assert done.returncode == 0
    text = done.stdout
    for markup in ("``", ":class:", ":data:", ":func:", ":meth:"):
        assert markup not in text, (command, markup)
    assert "exit status: 0 " in text
    assert "--debug" in text
    assert "--redis-url" not in text  # the old spelling is hidden


def test_the_top_level_help_documents_streams_and_exit_codes() -> None:
    text = cli("--help").stdout
    assert "Results go to standard output; errors, warnings and progress to standard error." in text
    assert "3 too many bad rows (import)" in text


@pytest.mark.parametrize(
    "args",
    [
        ("demo", "--users", "0"),
        ("dashboard", "--port", "x"),
        ("migrate", "--from", "memory://"),
        ("export", "--no-such-option", "-"),
        ("import-store",),
        ("import", "--chunk-rows", "0", "-"),
        ("check",),
    ],
)
def test_a_usage_error_exits_2(args: tuple[str, ...]) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"bitmapist-async {args[0]}: error: " in done.stderr


def _unreachable() -> tuple[str, str]:
    port = free_port()
    return f"redis://:hunter2@127.0.0.1:{port}/0", f"redis://:***@127.0.0.1:{port}/0"


@pytest.mark.parametrize(
    "command",
    [
        ("demo", "--store", "{url}", "--html", ""),
        ("dashboard", "--store", "{url}", "--port", "0"),
        ("export", "--from", "{url}", "out.jsonl"),
        ("export", "--from", "memory://", "{url}"),
        ("import-store", "--to", "memory://", "{url}"),
        ("migrate", "--from", "{url}", "--to", "memory://", "--layout", "classic"),
        ("migrate", "--from", "memory://", "--to", "{url}", "--layout", "classic"),
    ],
)
def test_an_unreachable_server_is_one_line_and_exit_1(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    url, shown = _unreachable()
    args = [a.replace("{url}", url) for a in command]
    if args[0] == "migrate" and args[2] == "memory://":
        args[2] = f"file://{tmp_path}/src.db"
        with Bitmapist(args[2]) as bm:
            bm.mark_unique("x", 1)
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert re.match(rf"bitmapist-async {args[0]}: error: cannot reach {re.escape(shown)}", lines[0])
    assert "hunter2" not in done.stderr + done.stdout
    assert done.stdout == ""
    assert not (tmp_path / "out.jsonl").exists()  # no partial dump left behind

    debug = cli(*args, "--debug", cwd=tmp_path)
    assert debug.returncode == 1
    assert "Traceback (most recent call last):" in debug.stderr
    assert "StorageUnavailableError" in debug.stderr
    assert debug.stderr.splitlines()[-1] == lines[0]


@pytest.mark.parametrize("command", ["export", "import-store", "migrate"])
def test_a_silent_server_fails_at_the_deadline(command: str, tmp_path: Path) -> None:
    with socket.socket() as listener:  # connections complete in the backlog, never answered
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        args = {
            "export": ["export", "--from", url, "-"],
            "import-store": ["import-store", "--to", "memory://", url],
            "migrate": ["migrate", "--from", url, "--to", "memory://", "--layout", "classic"],
        }[command]
        began = time.monotonic()
        done = cli(*args, "--timeout", "0.5")
        elapsed = time.monotonic() - began
    assert done.returncode == 1
    assert re.fullmatch(
        rf"bitmapist-async {command}: error: {re.escape(url)}( \(sharded, shard_bits=20\))? "
        r"did not answer within 0.5 s\n",
        done.stderr,
    ), done.stderr
    assert elapsed < 20


def test_ctrl_c_is_one_line_and_exit_130() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bitmapist_async", "export", "--from", url, "-"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        listener.settimeout(60)
        connection, _ = listener.accept()  # the export is now waiting for the server
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        connection.close()
    assert proc.returncode == 130
    assert err == "bitmapist-async export: interrupted\n"
    assert out == ""


def test_import_against_an_unreachable_server(tmp_path: Path) -> None:
    url, shown = _unreachable()
    (tmp_path / "a.csv").write_text("event,user_id,timestamp\na,1,2026-05-01\n")
    done = cli("import", "--store", url, str(tmp_path / "a.csv"))
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"bitmapist-async import: error: import failed: StorageUnavailableError: cannot reach "
        f"{shown}"
    )
    assert len(done.stderr.splitlines()) == 1
    assert done.stdout.startswith("import failed\n")  # the summary: the result
    debug = cli("import", "--store", url, str(tmp_path / "a.csv"), "--debug")
    assert "Traceback (most recent call last):" in debug.stderr


@pytest.mark.parametrize("command", ["demo", "import", "dashboard"])
def test_the_old_redis_url_spelling_still_works_with_a_warning(
    command: str, tmp_path: Path
) -> None:
    url, shown = _unreachable()
    extra = {"demo": ["--html", ""], "import": [str(tmp_path / "a.csv")], "dashboard": []}
    (tmp_path / "a.csv").write_text("event,user_id,timestamp\na,1,2026-05-01\n")
    done = cli(command, "--redis-url", url, *extra[command], cwd=tmp_path)
    assert done.returncode == 1
    warning, error = done.stderr.splitlines()
    assert warning == f"bitmapist-async {command}: warning: --redis-url is deprecated, use --store"
    assert shown in error  # it was used: the store named is the one given


def test_export_of_a_missing_embedded_store_creates_nothing(tmp_path: Path) -> None:
    done = cli("export", "--from", "file:typo.db", "out.jsonl", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"bitmapist-async export: error: {tmp_path}/typo.db does not exist "
        "(opened read-only, so it is not created)\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ("dashboard", "--port", "0"),  # the default store, file:bitmapist.db
        ("dashboard", "--store", "file:typo.db", "--port", "0"),
        ("export", "-"),
        ("export", "--from", "file:typo.db", "memory://"),
        ("import-store", "--to", "memory://", "file:typo.db"),
        ("migrate", "--from", "file:typo.db", "--to", "memory://", "--layout", "classic"),
        ("check", "typo.db"),
    ],
)
def test_read_only_commands_never_create_a_store(args: tuple[str, ...], tmp_path: Path) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert re.search(r"(bitmapist|bitmapist-demo|typo)\.db", done.stderr)
    assert list(tmp_path.iterdir()) == []


def _other_data(url: str) -> None:
    with Bitmapist(url) as bm:
        bm.mark_unique("paying", 7)
        bm.mark_unique("active", 8)  # one of the demo's event names, but not the demo's data


def test_the_demo_refuses_to_clear_a_prefix_it_did_not_write(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/app.db"
    _other_data(url)
    args = ("demo", "--store", url, "--key-prefix", "trackist_", "--users", "20", "--weeks", "2")
    refused = cli(*args, "--html", "", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("bitmapist-async demo: error: key prefix 'trackist_' on ")
    assert "holds 2 keys the demo did not write ('trackist_active_u', 'trackist_paying_u')" in (
        refused.stderr
    )
    with Bitmapist(url) as bm:
        assert bm.UniqueEvents("paying").ids() == [7]
        assert bm.UniqueEvents("active").ids() == [8]

    # its own data under a prefix: cleared and rewritten, run after run
    own = ("demo", "--store", url, "--key-prefix", "demo:", "--users", "20", "--weeks", "2")
    for _ in range(2):
        done = cli(*own, "--html", "", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    with Bitmapist(url, key_prefix="demo:") as bm:
        assert bm.UniqueEvents(MARKER).ids() == [0]
        assert MARKER not in done.stdout
    # the other prefix is still there
    with Bitmapist(url) as bm:
        assert bm.UniqueEvents("paying").ids() == [7]

    # a foreign event next to the demo's own: refused again
    with Bitmapist(url, key_prefix="demo:") as bm:
        bm.mark_unique("paying", 9)
    again = cli(*own, "--html", "", cwd=tmp_path)
    assert again.returncode == 1
    assert "holds 1 keys the demo did not write ('demo:paying_u')" in again.stderr

    forced = cli(*args, "--html", "", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    with Bitmapist(url) as bm:
        assert bm.UniqueEvents("paying").ids() == []


def test_bar_text() -> None:
    snap = Snapshot(done=50, unit="rows", seconds=2.0, nbytes=1536, bytes_total=3072, rejected=2)
    assert bar_text(snap) == (
        "[############------------]  50% 50 rows, 1.5 KiB, 25 rows/s, ETA 0:02, 2 rejected"
    )
    keys = Snapshot(done=3, unit="keys", seconds=1.0, total=4, nbytes=10)
    assert bar_text(keys) == "[##################------]  75% 3/4 keys, 10 B, 3 keys/s, ETA 0:00"
    assert bar_text(Snapshot(done=7, unit="rows", seconds=0.0)) == "7 rows, 0 rows/s"


def _source(tmp_path: Path) -> str:
    url = f"file://{tmp_path}/src.db"
    with Bitmapist(url) as bm:
        for n in range(5):
            bm.mark_unique(f"e{n}", 1000 * n)
    return url


_BAR = re.compile(r"\[#{24}\] 100% 5/5 keys, [\d.,]+ (?:B|KiB), [\d,]+ keys/s, ETA 0:00")


@pytest.mark.parametrize("command", ["export", "import-store", "migrate"])
def test_a_bar_on_a_terminal_and_lines_elsewhere(command: str, tmp_path: Path) -> None:
    source = _source(tmp_path)
    target = f"file://{tmp_path}/dst.db"
    args = {
        "export": ["export", "--from", source, target],
        "import-store": ["import-store", "--to", target, source],
        "migrate": ["migrate", "--from", source, "--to", target, "--layout", "classic"],
    }[command]
    status, out, terminal = on_a_terminal(*args, cwd=tmp_path)
    assert status == 0, terminal
    assert "\x1b" not in out  # the bar is on standard error only
    frames = terminal.split("\r\x1b[K")
    assert _BAR.match(frames[-1]), frames[-1]

    quiet = cli(*args, cwd=tmp_path)  # not a terminal, no --progress: no progress lines
    assert quiet.returncode == 0
    assert "copied (" not in quiet.stderr
    assert "\x1b" not in quiet.stderr

    lines = cli(*args, "--progress", cwd=tmp_path)
    assert lines.returncode == 0
    assert "5/5 keys copied (" in lines.stderr
    assert "\x1b" not in lines.stderr
    assert lines.stdout == quiet.stdout  # the result does not change with the progress


def test_import_progress_lines_off_a_terminal(tmp_path: Path) -> None:
    rows = "".join(f"a,{uid},2026-05-01\n" for uid in range(30))
    done = cli(
        "import", "--store", "memory://", "--chunk-rows", "10", "--progress", "-",
        stdin="event,user_id,timestamp\n" + rows + "a,x,2026-05-01\n",
    )  # fmt: skip
    assert done.returncode == 0
    progress = [line for line in done.stderr.splitlines() if line.startswith("chunk ")]
    assert progress == [
        "chunk 1 written: 10 rows imported through <stdin>:11",
        "chunk 2 written: 20 rows imported through <stdin>:21",
        "chunk 3 written: 30 rows imported through <stdin>:31",
    ]
    assert done.stderr.splitlines()[-2:] == [
        "rejected row:",
        "  <stdin>:32: user id is not an integer: 'x'",
    ]


def test_streams_of_export_and_import_store(tmp_path: Path) -> None:
    source = _source(tmp_path)
    dump = cli("export", "--from", source, "-")
    assert dump.returncode == 0
    assert dump.stdout.splitlines()[-1] == '{"end": true, "keys": 5}'  # the result
    assert dump.stderr == "exported 5 keys (5 ids) to standard output; 5 verified\n"
    loaded = cli("import-store", "--to", f"file://{tmp_path}/b.db", "-", stdin=dump.stdout)
    assert loaded.returncode == 0
    assert loaded.stdout == ""
    assert loaded.stderr.startswith("imported 5 keys (5 ids) into file://")


def test_migrate_streams(tmp_path: Path) -> None:
    source = _source(tmp_path)
    done = cli("migrate", "--from", source, "--to", "memory://", "--layout", "classic")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "every key's count verified" in done.stdout


def test_dump_file_appears_only_when_complete(tmp_path: Path) -> None:
    source = _source(tmp_path)
    done = cli("export", "--from", source, "out.jsonl", cwd=tmp_path)
    assert done.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "src.db"]


def test_a_store_url_that_is_malformed_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("export", "--from", "redis://127.0.0.1:notaport/0", "-", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("bitmapist-async export: error: ")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_cli_md_documents_every_option(command: str) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    section = text[text.index(f"\n## {command}\n") :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    for action in _subparsers()[command]._actions:
        if action.help == argparse.SUPPRESS or "-h" in action.option_strings:
            continue
        names = action.option_strings or [str(action.metavar or action.dest).upper()]
        assert any(f"`{name}" in section for name in names), (command, names)
