"""Backend conformance: every storage-seam operation gives the same answer on Redis and on the
embedded store (``memory://`` and an SQLite file), down to the bytes.

Each test runs the same operations on a :class:`RedisStorage` (the suite's private server) and an
:class:`EmbeddedStorage` and compares every result, then the whole keyspace (every key's ``GET``
bytes, ``BITCOUNT``, ``EXISTS`` and ids). The one deliberate difference: a query's intermediate
``BITOP`` results stay in memory on the embedded store instead of living on as temporary keys,
so keyspace comparisons leave out the ``tmp:`` keys those steps write (the library never reads a
bit-op key without recomputing it first). ``store``-style evaluations (no query) are compared.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from bitmapist_async import EmbeddedStorage, RedisStorage, Storage
from bitmapist_async._core.decode import decode_ids
from bitmapist_async._core.plan import BitOpStep, Op, Query, QueryKind

from ..portal import AsyncPortal

KEYS = ("k:a", "k:b", "k:c", "k:\u00e9", "k:[x]")
TTL = 60


def encode(ids: Sequence[int], nbytes: int) -> bytes:
    data = bytearray(nbytes)
    for uid in ids:
        data[uid // 8] |= 0x80 >> (uid % 8)
    return bytes(data)


# The session's grammar check reads MONITOR output split on spaces (tests/conftest.py), so a
# SET value holding a space, a quote or a backslash would look like extra arguments: random
# bitmaps sent to Redis avoid those three bytes.
_MONITOR_SAFE = bytes.maketrans(b' "\\', b"!#]")


def monitor_safe(data: bytes) -> bytes:
    return data.translate(_MONITOR_SAFE)


def all_queries(key: str, probe: int = 0) -> list[Query]:
    return [
        Query("get", key),
        Query("count", key),
        Query("exists", key),
        Query("ids", key),
        Query("getbit", key, probe),
    ]


async def snapshot(storage: Storage) -> dict[str, list[Any]]:
    """Every key (except query scratch ``tmp:``) with all its reads."""
    keys = sorted(k for k in await storage.scan("*") if not k.startswith("tmp:"))
    out: dict[str, list[Any]] = {}
    for key in keys:
        out[key] = await storage.evaluate([], all_queries(key, 7))
    return out


async def clear(storage: Storage) -> None:
    await storage.delete(await storage.scan("*"))


@pytest.fixture(params=["memory", "file"])
def embedded_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"file://{tmp_path}/store.db"


@pytest.fixture
async def backends(redis_url: str, embedded_url: str) -> AsyncIterator[list[Storage]]:
    redis_storage = RedisStorage(redis_url, bitop_ttl=TTL)
    embedded = EmbeddedStorage(embedded_url, bitop_ttl=TTL)
    yield [redis_storage, embedded]
    await redis_storage.aclose()
    await embedded.aclose()


async def same_evaluate(
    backends: list[Storage], steps: Sequence[BitOpStep], queries: Sequence[Query]
) -> list[Any]:
    results = [await s.evaluate(steps, queries) for s in backends]
    assert results[0] == results[1], (steps, queries)
    return results[0]


async def same_keyspace(backends: list[Storage]) -> dict[str, list[Any]]:
    states = [await snapshot(s) for s in backends]
    assert states[0] == states[1]
    return states[0]


async def test_setbit_lengths_and_reads(backends: list[Storage]) -> None:
    for storage in backends:
        await storage.write_bits(
            [("k:a", 3, 1), ("k:a", 20, 0), ("k:b", 0, 0), ("k:c", 70_000, 1), ("k:c", 5, 1)]
        )
        await storage.write_bits([("k:c", 5, 0), ("k:c", 5, 1), ("k:c", 70_000, 0)])
    state = await same_keyspace(backends)
    # SETBIT to 0 still creates and lengthens the string, as on Redis.
    assert state["k:a"][0] == encode([3], 3)
    assert state["k:b"][:3] == [b"\x00", 0, 1]
    assert state["k:c"][1] == 1
    assert len(state["k:c"][0]) == 70_000 // 8 + 1
    for key in ("k:a", "k:missing"):
        for probe in (0, 3, 4, 23, 24, 10_000_000, 2**32 - 1):
            await same_evaluate(backends, [], [Query("getbit", key, probe)])
    await same_evaluate(backends, [], all_queries("k:missing"))


async def test_bitops_follow_redis_lengths(backends: list[Storage]) -> None:
    for storage in backends:
        await storage.write_bits([("k:a", 1, 1), ("k:a", 9, 1), ("k:b", 9, 1), ("k:b", 100, 1)])
        await storage.write_bits([("k:c", 70_001, 1), ("k:c", 3, 1)])
    cases: list[tuple[Op, tuple[str, ...]]] = [
        ("NOT", ("k:a",)),
        ("NOT", ("k:b",)),
        ("NOT", ("k:missing",)),
        ("NOT", ("k:c",)),
        ("AND", ("k:a", "k:b")),
        ("AND", ("k:a", "k:missing")),
        ("AND", ("k:a", "k:a")),
        ("OR", ("k:a", "k:b", "k:c")),
        ("OR", ("k:missing", "k:missing2")),
        ("XOR", ("k:a", "k:b", "k:c")),
        ("XOR", ("k:a", "k:a")),
    ]
    for op, sources in cases:
        step = BitOpStep(op, "tmp:r", sources)
        await same_evaluate(backends, [step], all_queries("tmp:r", 9))
    # A chain: a step reads an earlier step's result, and a step overwrites its own source.
    chain = [
        BitOpStep("OR", "tmp:1", ("k:a", "k:c")),
        BitOpStep("NOT", "tmp:2", ("tmp:1",)),
        BitOpStep("AND", "tmp:3", ("tmp:2", "k:b")),
        BitOpStep("XOR", "tmp:3", ("tmp:3", "k:a")),
    ]
    await same_evaluate(backends, chain, [q for k in ("tmp:2", "tmp:3") for q in all_queries(k)])
    await same_keyspace(backends)


async def test_store_makes_results_readable_at_their_keys(backends: list[Storage]) -> None:
    for storage in backends:
        await storage.write_bits([("k:a", 1, 1), ("k:b", 2, 1), ("k:b", 30, 1)])
    steps = [BitOpStep("OR", "tmp:or", ("k:a", "k:b")), BitOpStep("NOT", "tmp:not", ("k:a",))]
    assert await same_evaluate(backends, steps, []) == []
    for storage in backends:
        assert sorted(await storage.scan("tmp:*")) == ["tmp:not", "tmp:or"]
    assert (await same_evaluate(backends, [], all_queries("tmp:or")))[3] != b""
    await same_evaluate(backends, [], all_queries("tmp:not"))
    # A step whose result is empty deletes its key, as BITOP does.
    await same_evaluate(backends, [BitOpStep("AND", "tmp:or", ("k:none", "k:none2"))], [])
    await same_evaluate(backends, [], all_queries("tmp:or"))


async def test_merge_bitmaps(backends: list[Storage]) -> None:
    for storage in backends:
        await storage.write_bits([("k:a", 1, 1), ("k:a", 9, 1), ("k:b", 200_000, 0)])
    merges = [
        ("k:a", encode([0, 9, 70_000], 70_000 // 8 + 1)),  # longer than the key
        ("k:b", encode([3], 1)),  # shorter than the key
        ("k:c", encode([5, 6], 3)),  # a new key
        ("k:\u00e9", b""),  # nothing
    ]
    for storage in backends:
        await storage.merge_bitmaps(merges, temp_prefix="tmp:merge:")
    await same_keyspace(backends)
    removals = [
        ("k:a", encode([9, 70_000, 80_000], 80_000 // 8 + 1)),
        ("k:c", encode([5, 6], 1)),
        ("k:missing", encode([1], 4)),  # a new, empty but existing key, as on Redis
        ("k:b", b""),
    ]
    for storage in backends:
        await storage.merge_bitmaps(removals, temp_prefix="tmp:merge:", unmark=True)
    state = await same_keyspace(backends)
    assert state["k:missing"][:3] == [b"\0" * 4, 0, 1]
    assert state["k:a"][3] != b""


async def test_scan_patterns_and_delete(backends: list[Storage]) -> None:
    names = [*KEYS, "k:ab", "k:*", "k:?", "other", "k:x\\y", "k:[b]"]
    for storage in backends:
        await storage.write_bits([(k, 1, 1) for k in names])
    patterns = [
        *("*", "k:*", "k:?", "k:[ab]", "k:[^ab]", "k:[a-b]*", "k:[b-a]", "k:\\*", "k:\\?"),
        *("k:\\[x\\]", "k:[[]x]", "k:x\\\\y", "k:\u00e9", "k:?\u00a9", "nothing*", "k:[a-]"),
    ]
    for pattern in patterns:
        found = [sorted(await s.scan(pattern)) for s in backends]
        assert found[0] == found[1], pattern
    for storage in backends:
        await storage.delete(["k:a", "k:*", "k:missing"])
        await storage.delete([])
    await same_keyspace(backends)


async def test_top_of_the_id_space(backends: list[Storage]) -> None:
    top = 2**32 - 1
    for storage in backends:
        await storage.write_bits([("k:top", top, 1), ("k:top", 0, 1)])
    queries = [Query("count", "k:top"), Query("getbit", "k:top", top), Query("exists", "k:top")]
    not_queries = [Query("count", "tmp:not"), Query("getbit", "tmp:not", top - 1)]
    assert await same_evaluate(backends, [], queries) == [2, 1, 1]
    step = BitOpStep("NOT", "tmp:not", ("k:top",))
    assert await same_evaluate(backends, [step], not_queries) == [2**32 - 2, 1]
    for storage in backends:
        await storage.delete(["k:top", "tmp:not"])


async def test_ping_and_describe(backends: list[Storage]) -> None:
    for storage in backends:
        await storage.ping()
    assert backends[0].describe().startswith("redis://")
    assert backends[1].describe().startswith(("memory://", "file:///"))


# -- random sequences: the same bytes on both backends --------------------------------------

OFFSETS = st.one_of(st.integers(0, 40), st.integers(0, 3000), st.integers(60_000, 140_000))
KEY = st.sampled_from(KEYS)
IDSETS = st.lists(OFFSETS, max_size=12)


@dataclass(frozen=True)
class Write:
    writes: list[tuple[str, int, int]]


@dataclass(frozen=True)
class Merge:
    merges: list[tuple[str, bytes]]
    unmark: bool


@dataclass(frozen=True)
class Evaluate:
    steps: list[BitOpStep]
    queries: list[Query]


@dataclass(frozen=True)
class Scan:
    pattern: str


@dataclass(frozen=True)
class Delete:
    keys: list[str]


Action = Write | Merge | Evaluate | Scan | Delete


@st.composite
def evaluations(draw: st.DrawFn) -> Evaluate:
    steps: list[BitOpStep] = []
    dests: list[str] = []
    for n in range(draw(st.integers(1, 4))):
        op: Op = draw(st.sampled_from(["AND", "OR", "XOR", "NOT"]))
        pool = st.sampled_from([*KEYS, "k:missing", *dests])
        # Two sources at least, as the library sends them (bitmapist-server's grammar).
        count = 1 if op == "NOT" else draw(st.integers(2, 3))
        sources = tuple(draw(pool) for _ in range(count))
        dest = f"tmp:{n}" if not dests or draw(st.booleans()) else draw(st.sampled_from(dests))
        steps.append(BitOpStep(op, dest, sources))
        if dest not in dests:
            dests.append(dest)
    store = draw(st.integers(0, 4)) == 0
    queries: list[Query] = []
    if not store:
        # Every read of the final result, plus random reads of anything else.
        queries = all_queries(steps[-1].dest, draw(OFFSETS))
        for key in draw(st.lists(st.sampled_from([*dests, *KEYS]), max_size=3)):
            kind: QueryKind = draw(st.sampled_from(["count", "getbit", "get", "exists", "ids"]))
            queries.append(Query(kind, key, draw(OFFSETS)))
    return Evaluate(steps, queries)


_GLOB_PIECES = st.sampled_from(
    ["k", ":", "a", "b", "x", "\u00e9", "*", "?", "[ab]", "[^a]", "[a-c]", "\\[", "\\*", "[x"]
)

ACTIONS = st.one_of(
    st.builds(Write, st.lists(st.tuples(KEY, OFFSETS, st.sampled_from([0, 1])), min_size=1)),
    # Runs of consecutive ids (roaring run containers), set or cleared.
    st.builds(
        lambda key, start, length, value: Write(
            [(key, o, value) for o in range(start, start + length)]
        ),
        KEY,
        OFFSETS,
        st.integers(1, 300),
        st.sampled_from([0, 1, 1]),
    ),
    st.builds(
        Merge,
        st.lists(
            st.builds(
                lambda k, ids, pad: (
                    k,
                    monitor_safe(encode(ids, (max(ids, default=-8) // 8 + 1) + pad)),
                ),
                KEY,
                IDSETS,
                st.integers(0, 3),
            ),
            min_size=1,
            max_size=3,
        ),
        st.booleans(),
    ),
    evaluations(),
    st.builds(Scan, st.lists(_GLOB_PIECES, min_size=1, max_size=5).map("".join)),
    st.builds(Delete, st.lists(st.sampled_from([*KEYS, "k:missing"]), max_size=3)),
)


async def _run(storage: Storage, action: Action) -> Any:
    if isinstance(action, Write):
        return await storage.write_bits(action.writes)
    if isinstance(action, Merge):
        return await storage.merge_bitmaps(
            action.merges, temp_prefix="tmp:m:", unmark=action.unmark
        )
    if isinstance(action, Evaluate):
        result = await storage.evaluate(action.steps, action.queries)
        if action.queries:
            return result
        # store(): the results must be readable at their keys.
        dests = sorted({s.dest for s in action.steps})
        return [await storage.evaluate([], all_queries(d, 3)) for d in dests]
    if isinstance(action, Scan):
        return sorted(k for k in await storage.scan(action.pattern) if not k.startswith("tmp:"))
    return await storage.delete(action.keys)


async def _play(storages: list[Storage], actions: list[Action]) -> None:
    for storage in storages:
        await clear(storage)
    for action in actions:
        results = [await _run(s, action) for s in storages]
        assert results[0] == results[1], action
        states = [await snapshot(s) for s in storages]
        assert states[0] == states[1], action
    for storage in storages:
        await clear(storage)


async def _close(storages: list[Storage]) -> None:
    for storage in storages:
        await storage.aclose()


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_random_sequences_are_byte_identical(redis_url: str, tmp_path: Path, kind: str) -> None:
    portal = AsyncPortal()
    counter = itertools.count()

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(ACTIONS, min_size=1, max_size=8))
    def check(actions: list[Action]) -> None:
        url = "memory://" if kind == "memory" else f"file://{tmp_path}/s{next(counter)}.db"
        storages: list[Storage] = [RedisStorage(redis_url, bitop_ttl=TTL), EmbeddedStorage(url)]
        try:
            portal.call(_play, storages, actions)
        finally:
            portal.call(_close, storages)

    try:
        check()
    finally:
        portal.close()


# -- bitmapist-server: the same ids as Redis ---------------------------------------------------

SERVER_KEYS = (*KEYS, "k/a", "k/a/b/c", "k:\u00e9/x?")


def _content(result: Any) -> Any:
    """A query result as ids: bitmapist-server keeps no byte lengths, so ``get`` bytes compare
    by the ids they hold."""
    if isinstance(result, bytes):
        return decode_ids(result)
    if isinstance(result, array):
        return result.tolist()
    return result


_SERVER_STEPS = st.builds(
    lambda op, dest, sources: BitOpStep(op, dest, tuple(sources)),
    st.sampled_from(["AND", "OR", "XOR"]),
    st.sampled_from(["tmp:1", "tmp:2"]),
    st.lists(st.sampled_from([*SERVER_KEYS, "k:missing", "tmp:1"]), min_size=2, max_size=3),
)
_SERVER_ACTIONS = st.one_of(
    st.builds(
        Write,
        st.lists(
            st.tuples(st.sampled_from(SERVER_KEYS), OFFSETS, st.sampled_from([0, 1, 1])),
            min_size=1,
        ),
    ),
    st.builds(
        lambda steps, key, probe: Evaluate(steps, all_queries(key, probe)),
        st.lists(_SERVER_STEPS, max_size=3),
        st.sampled_from([*SERVER_KEYS, "tmp:1", "tmp:2"]),
        OFFSETS,
    ),
    st.builds(
        Scan,
        st.lists(
            st.sampled_from(["k", ":", "/", "a", "*", "?", "[ab]", "\\[", "x", "[x", "\u00e9"]),
            min_size=1,
            max_size=5,
        ).map("".join),
    ),
    st.builds(Delete, st.lists(st.sampled_from([*SERVER_KEYS, "k:missing"]), max_size=3)),
)


async def _run_content(storage: Storage, action: Action) -> Any:
    result = await _run(storage, action)
    if isinstance(result, list):
        return [_content(r) for r in result]
    return result


async def _play_content(storages: list[Storage], actions: list[Action]) -> None:
    for storage in storages:
        await storage.delete(await storage.scan("*"))
    for action in actions:
        results = [await _run_content(s, action) for s in storages]
        assert results[0] == results[1], action
    keys = [sorted(await s.scan("*")) for s in storages]
    assert keys[0] == keys[1]
    for key in keys[0]:
        reads = [[_content(r) for r in await s.evaluate([], all_queries(key, 9))] for s in storages]
        assert reads[0] == reads[1], key


def test_bitmapist_server_holds_the_same_ids_as_redis(redis_url: str, server_url: str) -> None:
    """Random writes, AND/OR/XOR steps, scans (keys with ``/``, ``?``, non-ASCII) and deletes
    give the same ids, counts, bits and key lists on bitmapist-server as on Redis."""
    portal = AsyncPortal()

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(_SERVER_ACTIONS, min_size=1, max_size=8))
    def check(actions: list[Action]) -> None:
        storages: list[Storage] = [
            RedisStorage(redis_url, bitop_ttl=TTL),
            RedisStorage(server_url, bitop_ttl=TTL),
        ]
        try:
            portal.call(_play_content, storages, actions)
        finally:
            portal.call(_close, storages)

    try:
        check()
    finally:
        portal.close()
