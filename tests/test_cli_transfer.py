"""``bitmapist-async export`` / ``import-store``: embedded -> Redis -> dump -> embedded, every key
compared byte for byte (ids and Redis string length) at each hop."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
import redis

from bitmapist_async import Bitmapist, EmbeddedStorage
from bitmapist_async._cli import main
from bitmapist_async._core.decode import decode_ids_python
from bitmapist_async._core.plan import Query

# The session's grammar check splits MONITOR lines on spaces, so bitmaps SET on Redis here
# avoid the bytes space, quote and backslash (see tests/_async/test_backend_conformance.py).
_SAFE = bytes.maketrans(b' "\\', b"!#]")


def safe_ids(ids: set[int]) -> list[int]:
    data = bytearray(max(ids) // 8 + 1)
    for uid in ids:
        data[uid >> 3] |= 0x80 >> (uid & 7)
    return decode_ids_python(bytes(data).translate(_SAFE))


async def _fill(url: str) -> None:
    rng = random.Random(7)
    async with Bitmapist(url) as bm:
        storage = bm.storage
        sparse = safe_ids({rng.randrange(5_000_000) for _ in range(3000)})
        await storage.write_bits([("trackist_sparse_2026-11", uid, 1) for uid in sparse])
        run = [*range(1000, 90_000), 3_000_001]
        await storage.write_bits([("trackist_runs_u", uid, 1) for uid in run])
        # Longer than its highest id: SETBIT 0 far out (the byte length matters to NOT).
        await storage.write_bits([("trackist_padded_u", 3, 1), ("trackist_padded_u", 900, 0)])
        await storage.write_bits([("trackist_empty_u", 77, 0)])
        await storage.write_bits([("trackist_\u00e9v\u00e9nement_u", 9, 1)])
        await (bm.UniqueEvents("runs") | bm.UniqueEvents("padded")).store()  # skipped


async def _state(url: str) -> dict[str, list[int | bytes | array[int]]]:
    """Every non-bit-op key with its GET bytes and count."""
    async with Bitmapist(url) as bm:
        keys = sorted(k for k in await bm.storage.scan("*") if "bitop_" not in k)
        return {
            k: await bm.storage.evaluate([], [Query("get", k), Query("count", k)]) for k in keys
        }


def test_embedded_to_redis_to_dump_to_embedded(
    tmp_path: Path, redis_url: str, admin: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"file://{tmp_path}/source.db"
    asyncio.run(_fill(source))
    original = asyncio.run(_state(source))
    assert len(original) == 5

    assert main(["export", "--from", source, redis_url]) == 0
    assert "exported 5 keys" in capsys.readouterr().err
    assert asyncio.run(_state(redis_url)) == original
    assert admin.get("trackist_padded_u") == b"\x10" + bytes(112)  # 113 bytes, as SETBIT made it
    assert not admin.keys("*bitop*")

    dump = tmp_path / "events.jsonl"
    assert main(["export", "--from", redis_url, str(dump)]) == 0
    lines = dump.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "bitmapist-async-dump"
    assert json.loads(lines[-1]) == {"end": True, "keys": 5}

    target = f"file://{tmp_path}/target.db"
    assert main(["import-store", "--to", target, str(dump)]) == 0
    assert "5 verified" in capsys.readouterr().err
    assert asyncio.run(_state(target)) == original

    # Store to store, the other way round, replacing what is there.
    again = f"file://{tmp_path}/again.db"
    asyncio.run(_overwrite(again))
    assert main(["import-store", "--to", again, redis_url]) == 0
    assert asyncio.run(_state(again)) == {**original, "trackist_other_u": [b"\x40", 1]}


async def _overwrite(url: str) -> None:
    async with Bitmapist(url) as bm:
        await bm.mark_unique("runs", 5_000_000)  # replaced by the import
        await bm.mark_unique("other", 1)  # left alone


def test_pipe_between_processes(tmp_path: Path) -> None:
    source, target = f"file://{tmp_path}/a.db", f"file://{tmp_path}/b.db"
    asyncio.run(_fill(source))
    cli = [sys.executable, "-m", "bitmapist_async"]
    exporter = subprocess.Popen([*cli, "export", "--from", source, "-"], stdout=subprocess.PIPE)
    importer = subprocess.run(
        [*cli, "import-store", "--to", target, "-"],
        stdin=exporter.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert exporter.stdout is not None
    exporter.stdout.close()
    assert exporter.wait() == 0
    assert importer.returncode == 0, importer.stderr
    assert asyncio.run(_state(target)) == asyncio.run(_state(source))


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda lines: lines[:-1], "truncated"),
        (lambda lines: ["{}", *lines[1:]], "not a bitmapist-async dump"),
        (lambda lines: [lines[0], '{"key": "k", "nbytes": 1, "roaring": "!!"}'], "line 2"),
        (lambda lines: [lines[0].replace('"version": 1', '"version": 9'), *lines[1:]], "version"),
        (lambda lines: [*lines[:-1], '{"end": true, "keys": 99}'], "trailer says 99"),
    ],
)
def test_a_bad_dump_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mangle: object, message: str
) -> None:
    source = f"file://{tmp_path}/a.db"
    asyncio.run(_fill(source))
    dump = tmp_path / "d.jsonl"
    assert main(["export", "--from", source, str(dump)]) == 0
    lines = dump.read_text().splitlines()
    dump.write_text("\n".join(mangle(lines)) + "\n")  # type: ignore[operator]
    capsys.readouterr()
    target = tmp_path / "t.db"
    assert main(["import-store", "--to", f"file://{target}", str(dump)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bitmapist-async import-store: error: {dump}: ")
    assert message in err
    assert not target.exists()


def test_embedded_reads_and_replaces_exactly(tmp_path: Path) -> None:
    async def run() -> None:
        storage = EmbeddedStorage(f"file://{tmp_path}/x.db")
        await storage.write_bits([("a", 2**32 - 1, 1), ("b", 5, 0)])
        a, b, missing = await storage.read_bitstrings(["a", "b", "c"])
        assert a is not None
        assert b is not None
        assert (list(a.bits), a.nbytes) == ([2**32 - 1], 2**29)
        assert (len(b.bits), b.nbytes) == (0, 1)
        assert missing is None
        await storage.replace_bitstrings([("c", a), ("a", None)])
        assert await storage.read_bitstrings(["a", "c"]) == [None, a]
        await storage.aclose()

    asyncio.run(run())


async def _ids_and_counts(url: str) -> dict[str, list[int]]:
    """Every non-bit-op key holding ids, with its ids and count (what bitmapist-server keeps:
    no byte lengths, and a key without ids reads as empty)."""
    async with Bitmapist(url) as bm:
        out = {}
        for key in sorted(k for k in await bm.storage.scan("*") if "bitop_" not in k):
            ids, count = await bm.storage.evaluate([], [Query("ids", key), Query("count", key)])
            assert isinstance(ids, array)
            assert isinstance(count, int)
            if count:
                out[key] = [*ids.tolist(), count]
        return out


def test_embedded_to_bitmapist_server_and_back(
    tmp_path: Path, server_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """export verifies ids on bitmapist-server (it keeps no byte lengths); migrate and
    import-store round-trip through it."""
    source = f"file://{tmp_path}/source.db"
    asyncio.run(_fill(source))
    original = asyncio.run(_ids_and_counts(source))
    assert main(["export", "--from", source, server_url]) == 0
    assert "exported 5 keys" in capsys.readouterr().err
    assert asyncio.run(_ids_and_counts(server_url)) == original
    dump = tmp_path / "events.jsonl"
    assert main(["export", "--from", server_url, str(dump)]) == 0
    target = f"file://{tmp_path}/target.db"
    assert main(["import-store", "--to", target, str(dump)]) == 0
    assert asyncio.run(_ids_and_counts(target)) == original
