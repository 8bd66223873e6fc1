"""Systems, pipelines, the runtime bit-op registry, bad input and the wire format of compat."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timezone
from typing import Any

import pytest
import redis

import bitmapist_async.compat as bitmapist
from bitmapist_async._sync.redis_storage import redis_connect_kwargs
from bitmapist_async.compat import (
    BitOpAnd,
    BitOpNot,
    DayEvents,
    MonthEvents,
    UniqueEvents,
    WeekEvents,
    YearEvents,
    _systems,
    get_event_names,
    get_redis,
    mark_event,
    mark_unique,
    setup_redis,
    unmark_event,
)
from bitmapist_async.sync import Bitmapist

from ..conftest import CommandLog
from ..grammar import violation
from .conftest import ClientFactory

WHEN = datetime(2026, 11, 28, 13, 30, tzinfo=timezone.utc)

# Untyped handles, to pass values of the wrong type on purpose.
loose_mark: Any = mark_event
loose_day: Any = DayEvents
loose_float: Any = 1.5


def bitop_keys(admin: redis.Redis) -> set[str]:
    return {k.decode() if isinstance(k, bytes) else k for k in admin.keys("trackist_bitop_*")}


def sent_between(command_log: CommandLog, admin: redis.Redis, start: int) -> list[list[str]]:
    """Commands the library sent since *start* (waits for MONITOR to catch up)."""
    marker = f"compat-marker-{start}"
    admin.echo(marker)
    return command_log.wait_for(["ECHO", marker], start)


# -- import and the default system ---------------------------------------------------------------

NO_IO_SCRIPT = """
import socket
attempts = []
def refuse(self, *args):
    attempts.append(args)
    raise OSError("no I/O expected")
socket.socket.connect = refuse
socket.create_connection = lambda *a, **k: refuse(None, *a)
import bitmapist_async.compat as bitmapist
from datetime import datetime
ev = bitmapist.MonthEvents("active", 2026, 11)
ev.next(), ev.prev(), ev.delta(-3), ev.period_start(), ev.period_end(), hash(ev)
bitmapist.DayEvents.from_date("active", datetime(2026, 1, 1)) == bitmapist.DayEvents("active")
bitmapist.UniqueEvents("premium").redis_key
kwargs = bitmapist.SYSTEMS["default"].connection_pool.connection_kwargs
print(len(attempts), kwargs["host"], kwargs["port"], kwargs["protocol"], sorted(bitmapist.SYSTEMS))
"""


def test_import_and_building_events_do_no_io() -> None:
    out = subprocess.run(
        [sys.executable, "-c", NO_IO_SCRIPT], check=True, capture_output=True, text=True
    ).stdout.split()
    assert out == ["0", "localhost", "6379", "2", "['default']"]


def test_get_redis() -> None:
    default = get_redis()
    assert default is bitmapist.SYSTEMS["default"]
    assert get_redis("default") is default
    assert get_redis(default) is default
    with pytest.raises(KeyError, match=r"unknown bitmapist system 'nope'.*setup_redis"):
        get_redis("nope")
    with pytest.raises(TypeError, match="got 42"):
        get_redis(42)  # type: ignore[arg-type]


def test_setup_redis_options(redis_target: Any) -> None:
    port = redis_target.require_private().port

    class Instrumented(redis.Redis):
        pass

    setup_redis("sub", "127.0.0.1", port, redis_client=Instrumented, socket_timeout=5)
    client = bitmapist.SYSTEMS["sub"]
    assert type(client) is Instrumented
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["protocol"], kwargs["socket_timeout"]) == (2, 5)
    setup_redis("resp3", "127.0.0.1", port, protocol=3)
    assert bitmapist.SYSTEMS["resp3"].connection_pool.connection_kwargs["protocol"] == 3

    seen: list[tuple[str, int, dict[str, Any]]] = []

    def factory(host: str, port: int, **kw: Any) -> redis.Redis:
        seen.append((host, port, kw))
        return Instrumented(host=host, port=port, **redis_connect_kwargs())

    setup_redis("factory", "127.0.0.1", port, redis_client=factory, db=0)
    assert seen == [("127.0.0.1", port, {"db": 0})]  # a plain callable gets exactly what was given
    mark_event("a", 3, system="factory", now=WHEN)
    assert 3 in DayEvents("a", 2026, 11, 28)
    with pytest.raises(TypeError, match="system name must be a str"):
        setup_redis(1, "127.0.0.1", port)  # type: ignore[arg-type]


def test_systems_hold_plain_clients(make_client: ClientFactory) -> None:
    client = make_client()
    bitmapist.SYSTEMS["mine"] = client  # bitmapist code does this
    mark_event("a", 1, system="mine", now=WHEN)
    mark_event("a", 2, system=client, now=WHEN)
    assert list(DayEvents("a", 2026, 11, 28, system="mine")) == [1, 2]
    assert list(DayEvents("a", 2026, 11, 28, system=client)) == [1, 2]
    assert _systems.bitmapist_for("mine") is _systems.bitmapist_for(client)
    assert isinstance(_systems.bitmapist_for(client), Bitmapist)
    assert _systems.bitmapist_for(make_client()) is not _systems.bitmapist_for(client)


def test_client_with_decoded_responses_is_refused(make_client: ClientFactory) -> None:
    bitmapist.SYSTEMS["text"] = make_client(decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses=False"):
        mark_event("a", 1, system="text")


# -- pipelines -------------------------------------------------------------------------------------


def test_pipeline_queues_marks_with_use_pipeline_false(make_client: ClientFactory) -> None:
    pipe = make_client().pipeline(transaction=False)
    mark_event("a", 5, system=pipe, now=WHEN, track_hourly=True, use_pipeline=False)
    unmark_event("b", 6, system=pipe, now=WHEN, use_pipeline=False)
    mark_unique("u", 7, system=pipe)
    assert len(pipe) == 4 + 3 + 1
    assert 5 not in DayEvents("a", 2026, 11, 28)
    assert 7 not in UniqueEvents("u")
    pipe.execute()
    assert 5 in DayEvents("a", 2026, 11, 28)
    assert 5 in WeekEvents("a", 2026, 48)
    assert 7 in UniqueEvents("u")


def test_pipeline_with_use_pipeline_true_writes_at_once(make_client: ClientFactory) -> None:
    # bitmapist sends these through a new pipeline on the same connection pool.
    pipe = make_client().pipeline(transaction=False)
    mark_event("a", 5, system=pipe, now=WHEN)
    assert len(pipe) == 0
    assert 5 in DayEvents("a", 2026, 11, 28)
    assert _systems.bitmapist_for(pipe) is _systems.bitmapist_for(pipe)


def test_pipeline_queues_deletes_and_bit_operations(
    make_client: ClientFactory, admin: redis.Redis
) -> None:
    mark_event("a", 1, now=WHEN)
    mark_event("b", 1, now=WHEN)
    pipe = make_client().pipeline(transaction=False)
    a = DayEvents("a", 2026, 11, 28, system=pipe)
    both = BitOpAnd(pipe, a, DayEvents("b", 2026, 11, 28))
    a.delete()
    assert admin.exists(a.redis_key)
    assert not admin.exists(both.redis_key)
    pipe.execute()
    assert not admin.exists(a.redis_key)
    assert list(DayEvents("b", 2026, 11, 28) & DayEvents("b", 2026, 11, 28)) == [1]
    assert admin.get(both.redis_key) == b"\x40"
    bitmapist.delete_runtime_bitop_keys()  # registered under the pipeline: deleted at once
    assert not admin.exists(both.redis_key)


def test_reads_on_a_pipeline_raise(make_client: ClientFactory) -> None:
    pipe = make_client().pipeline(transaction=False)
    ev = DayEvents("a", system=pipe)
    for read in (len, list, lambda e: 1 in e, lambda e: e.has_events_marked()):
        with pytest.raises(TypeError, match="pipeline cannot answer"):
            read(ev)
    with pytest.raises(TypeError, match="pipeline cannot answer"):
        get_event_names(pipe)
    assert len(pipe) == 0


# -- runtime bit-op keys ---------------------------------------------------------------------------


def test_delete_runtime_bitop_keys_is_per_thread(
    make_client: ClientFactory, admin: redis.Redis
) -> None:
    other_client = make_client()
    mark_event("a", 1, now=WHEN)
    a, b = DayEvents("a", 2026, 11, 28), DayEvents("b", 2026, 11, 28)
    mine = [a & b, BitOpAnd(other_client, a, b), YearEvents("a", 2026), a & ~b]
    done = threading.Event()
    theirs: list[str] = []

    def other_thread() -> None:
        theirs.append((a | b).redis_key)
        done.set()

    threading.Thread(target=other_thread).start()
    assert done.wait(30)
    keys_before = bitop_keys(admin)
    assert {op.redis_key for op in mine} | set(theirs) <= keys_before
    bitmapist.delete_runtime_bitop_keys()
    assert bitop_keys(admin) == set(theirs)
    bitmapist.delete_runtime_bitop_keys()  # nothing left to do
    bitmapist.delete_temporary_bitop_keys()
    assert admin.keys("trackist_bitop_*") == []


def test_bit_operation_results_expire(admin: redis.Redis) -> None:
    op = DayEvents("a") | DayEvents("b")
    mark_event("a", 1)
    op = DayEvents("a") | DayEvents("b")
    assert 0 < admin.ttl(op.redis_key) <= _systems.BITOP_TTL


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "shown"),
    [
        (lambda: mark_event("", 1), ValueError, "''"),
        (lambda: mark_event("a", -1), ValueError, "-1"),
        (lambda: loose_mark("a", "1"), TypeError, "'1'"),
        (lambda: loose_mark("a", 1, now="2026-01-01"), TypeError, "2026-01-01"),
        (lambda: mark_event("bitop_x", 1), ValueError, "bitop_x"),
        (lambda: mark_unique("a", 2**32), ValueError, "4294967296"),
        (lambda: mark_event("a", 1, system="nope"), KeyError, "nope"),
        (lambda: MonthEvents("a", 2026, 13), ValueError, "13"),
        (lambda: WeekEvents("a", 2026, 54), ValueError, "54"),
        (lambda: loose_day("a", "2026"), TypeError, "'2026'"),
        (lambda: YearEvents("a", 0), ValueError, "0"),
        (lambda: MonthEvents("a").delta(loose_float), TypeError, "1.5"),
        (lambda: 1.5 in DayEvents("a"), TypeError, "1.5"),
        (lambda: BitOpAnd(DayEvents("a"), "b"), TypeError, "'b'"),
        (lambda: BitOpAnd("default"), TypeError, "at least one operand"),
        (lambda: BitOpNot(DayEvents("a"), DayEvents("b")), TypeError, "exactly one operand"),
        (lambda: BitOpAnd(None, DayEvents("a")), TypeError, "None"),
        (lambda: BitOpAnd("nope", DayEvents("a")), KeyError, "nope"),
        (lambda: DayEvents("a") & 3, TypeError, "unsupported operand"),
        (lambda: get_event_names(batch=0), ValueError, "batch"),
    ],
)
def test_bad_input_fails_before_any_io(
    call: Any, error: type[Exception], shown: str, command_log: CommandLog, admin: redis.Redis
) -> None:
    start = command_log.mark()
    with pytest.raises(error, match=shown):
        call()
    assert sent_between(command_log, admin, start) == []


# -- the wire --------------------------------------------------------------------------------------


def test_compat_sends_only_bitmapist_server_commands(
    command_log: CommandLog, admin: redis.Redis
) -> None:
    start = command_log.mark()
    mark_event("a", 1, now=WHEN)
    assert sent_between(command_log, admin, start) == [
        ["SETBIT", "trackist_a_2026-11", "1", "1"],
        ["SETBIT", "trackist_a_W2026-48", "1", "1"],
        ["SETBIT", "trackist_a_2026-11-28", "1", "1"],
    ]
    start = command_log.mark()
    mark_event("a", 2, now=WHEN, track_hourly=True, track_unique=True)
    unmark_event("a", 2, now=WHEN)
    mark_unique("u", 3)
    bitmapist.unmark_unique("u", 3)
    month = MonthEvents("a", 2026, 11)
    answers = []
    for ev in (YearEvents("a", 2026), month & ~UniqueEvents("u"), ~month, month ^ month, month):
        answers.append((len(ev), list(ev), 1 in ev, ev.has_events_marked()))
        ev.delete()
    assert answers == [
        (1, [1], True, True),
        (1, [1], True, True),
        (7, [0, 2, 3, 4, 5, 6, 7], False, True),
        (0, [], False, False),
        (1, [1], True, True),
    ]
    get_event_names()
    bitmapist.delete_runtime_bitop_keys()
    bitmapist.delete_temporary_bitop_keys()
    bitmapist.delete_all_events()
    sent = sent_between(command_log, admin, start)
    assert {c[0] for c in sent} == {"SETBIT", "BITOP", "EXPIRE", "BITCOUNT", "GETBIT", "GET"} | {
        "DEL",
        "SCAN",
        "INFO",  # INFO keys: is it bitmapist-server (whose SCAN needs a walk)?
    }
    assert [v for c in sent if (v := violation(c))] == []


@pytest.mark.parametrize(
    ("host", "port", "error", "shown"),
    [
        ("127.0.0.1", "abc", TypeError, "'abc'"),
        ("127.0.0.1", 0, ValueError, "got 0"),
        ("127.0.0.1", 65536, ValueError, "65536"),
        ("127.0.0.1", True, TypeError, "True"),
        ("127.0.0.1", 6379.0, TypeError, "6379.0"),
        (None, 6379, TypeError, "None"),
        ("", 6379, ValueError, "''"),
    ],
)
def test_setup_redis_checks_host_and_port_at_setup(
    host: Any, port: Any, error: type[Exception], shown: str
) -> None:
    with pytest.raises(error, match=shown):
        bitmapist.setup_redis("checked", host, port)
    assert "checked" not in bitmapist.SYSTEMS


def test_setup_redis_takes_a_port_in_digits_and_a_socket_without_port() -> None:
    try:
        bitmapist.setup_redis("digits", "127.0.0.1", "6380")  # type: ignore[arg-type]
        assert bitmapist.get_redis("digits").connection_pool.connection_kwargs["port"] == 6380
        bitmapist.setup_redis("socket", "", None, unix_socket_path="/tmp/none.sock")  # type: ignore[arg-type]
        assert "socket" in bitmapist.SYSTEMS
    finally:
        bitmapist.SYSTEMS.pop("digits", None)
        bitmapist.SYSTEMS.pop("socket", None)


@pytest.mark.parametrize("where", ["redis", "bitmapist-server"])
def test_one_operand_bit_operations(where: str, request: pytest.FixtureRequest) -> None:
    """bitmapist-server refuses a one-source BITOP: compat's ``BitOpAnd(x)`` (built, and so
    stored, at once) copies with ``BITOP OR key x x`` and answers like ``x``, on both servers."""
    url = request.getfixturevalue("redis_url" if where == "redis" else "server_url")
    parsed = redis.Redis.from_url(url).connection_pool.connection_kwargs
    setup_redis("one-operand", parsed["host"], parsed["port"])
    try:
        mark_unique("o", 3, system="one-operand")
        mark_unique("o", 11, system="one-operand")
        event = UniqueEvents("o", system="one-operand")
        for op in (BitOpAnd, bitmapist.BitOpOr, bitmapist.BitOpXor):
            result = op(event)
            assert result.get_count() == 2
            assert 11 in result
            assert result.redis_key.startswith(f"trackist_bitop_{op.__name__[5:].upper()}_")
            result.delete()
            assert event.get_count() == 2
        assert BitOpAnd(BitOpNot(event)).get_count() == 14
    finally:
        bitmapist.SYSTEMS.pop("one-operand", None)
