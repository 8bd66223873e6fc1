"""The fast path for a flush's SETBIT replies (``_pairs.AsyncIntReplies``), fed bytes the way
a socket would deliver them, with the hiredis reader redis-py uses."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import hiredis
import pytest

from bitmapist_async._pairs import AsyncIntReplies, IntReplies


@dataclass
class Parser:  # the two attributes of redis-py's asyncio hiredis parser that are read
    _stream: asyncio.StreamReader = field(default_factory=asyncio.StreamReader)
    _reader: hiredis.Reader = field(default_factory=hiredis.Reader)


def _replies(reader: hiredis.Reader) -> list[object]:
    out = []
    while (reply := reader.gets()) is not False:
        out.append(reply)
    return out


async def test_integer_replies_are_read_in_one_go() -> None:
    parser = Parser()
    parser._stream.feed_data(b":0\r\n:1\r\n:1\r\n*more")
    assert await AsyncIntReplies.read(parser, 3) == 3
    assert await parser._stream.read(5) == b"*more"  # nothing past the replies was taken
    assert _replies(parser._reader) == []


async def test_replies_arriving_in_pieces_are_waited_for() -> None:
    parser = Parser()
    reading = asyncio.ensure_future(AsyncIntReplies.read(parser, 2))
    parser._stream.feed_data(b":1\r")
    await asyncio.sleep(0)
    assert not reading.done()
    parser._stream.feed_data(b"\n:0\r\n")
    assert await reading == 2


@pytest.mark.parametrize(
    ("data", "count", "bits", "expected"),
    [
        (b":1\r\n-WRONGTYPE wrong kind\r\n:0\r\n", 3, 1, ["WRONGTYPE wrong kind", 0]),
        (b":2\r\n:1\r\n", 2, 0, [2, 1]),  # an integer, but not a bit
        (b":1\r\n:1\r\n:12\r\n:0\r\n", 4, 2, [12, 0]),
        (b"$1\r\n1\r\n", 1, 0, [b"1"]),  # not an integer
    ],
)
async def test_anything_else_is_handed_to_the_reader(
    data: bytes, count: int, bits: int, expected: list[object]
) -> None:
    parser = Parser()
    parser._stream.feed_data(data)
    parser._stream.feed_eof()
    assert await AsyncIntReplies.read(parser, count) == bits
    # From the first other reply on, what was read went to the reader and the rest is still
    # on the stream: together, all of it.
    rest = await parser._stream.read(len(data))
    parser._reader.feed(rest)
    got = [str(r) if isinstance(r, Exception) else r for r in _replies(parser._reader)]
    assert got == expected


async def test_progress_counts_whole_groups_as_they_arrive() -> None:
    parser = Parser()
    seen: list[int] = []
    reading = asyncio.ensure_future(AsyncIntReplies.read(parser, 9, seen.append, 3))
    pieces = [b":1\r\n:0\r", b"\n:1\r\n:1\r\n", b":1", b"\r\n:0\r\n:1\r\n:0\r\n:1\r\n"]
    states = []
    for piece in pieces:
        parser._stream.feed_data(piece)
        for _ in range(3):
            await asyncio.sleep(0)
        states.append(list(seen))
    assert await reading == 9
    assert states == [[], [1], [1], [1, 3]]


async def test_progress_stops_at_another_kind_of_reply() -> None:
    parser = Parser()
    seen: list[int] = []
    parser._stream.feed_data(b":1\r\n:1\r\n:1\r\n:1\r\n-ERR no\r\n:1\r\n")
    assert await AsyncIntReplies.read(parser, 6, seen.append, 2) == 4
    assert seen == [2]


async def test_a_closed_connection_is_an_os_error() -> None:
    parser = Parser()
    parser._stream.feed_data(b":1\r\n:")
    parser._stream.feed_eof()
    with pytest.raises(ConnectionResetError, match="5 of 12"):
        await AsyncIntReplies.read(parser, 3)


async def test_unknown_parsers_and_a_busy_reader_take_the_usual_path() -> None:
    assert await AsyncIntReplies.read(object(), 1) == 0
    parser = Parser()
    parser._reader.feed(b":1\r\n")  # left over: these bytes come first
    parser._stream.feed_data(b":0\r\n")
    assert await AsyncIntReplies.read(parser, 1) == 0
    assert IntReplies.read(parser, 1) == 0
