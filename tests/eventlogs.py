"""Generated event logs for the import tests: rows, the files they are written to, and the
reference that marks them one by one with ``mark_event``."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO, Any

import redis

from bitmapist_async.sync import Bitmapist

__all__ = (
    "LogRow",
    "make_rows",
    "mark_reference",
    "snapshot",
    "write_csv",
    "write_jsonl",
)

NAMES = ("signup", "active", "song:played", "buy", "view")
_PLUS_0530 = timezone(timedelta(hours=5, minutes=30))


@dataclass(frozen=True)
class LogRow:
    """One event: ``when`` is what ``mark_event`` gets, ``text`` how the file spells it."""

    event: str
    uid: int
    when: datetime
    text: str


def _spell(moment: datetime, form: int, tz: tzinfo) -> tuple[datetime, str]:
    """A timestamp in one of six spellings, with the datetime it means."""
    if form == 0:  # ISO, UTC, "Z"
        return moment, moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # date text, not a key
    if form == 1:  # ISO with an offset
        local = moment.astimezone(_PLUS_0530)
        return local, local.isoformat()
    if form == 2:  # ISO without an offset: the client's zone
        naive = moment.astimezone(tz).replace(tzinfo=None)
        return naive, naive.isoformat(sep=" ")
    if form == 3:  # epoch seconds
        seconds = int(moment.timestamp())
        return datetime.fromtimestamp(seconds, timezone.utc), str(seconds)
    if form == 4:  # epoch milliseconds
        millis = int(moment.timestamp() * 1000)
        return datetime.fromtimestamp(millis / 1000, timezone.utc), str(millis)
    stamped = moment.replace(microsecond=123456)  # ISO with a fraction
    return stamped, stamped.isoformat()


def make_rows(
    count: int,
    *,
    seed: int = 1,
    tz: tzinfo = timezone.utc,
    max_uid: int = 5000,
    start: datetime = datetime(2026, 3, 1, tzinfo=timezone.utc),
    days: int = 40,
    forms: Sequence[int] = (0, 1, 2, 3, 4, 5),
) -> list[LogRow]:
    """*count* random rows over *days* days from *start* (spanning the 2026 DST changes of
    Europe and America), every timestamp spelling mixed in."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        moment = start + timedelta(seconds=rng.randrange(days * 86400))
        when, text = _spell(moment, forms[index % len(forms)], tz)
        uid = rng.randrange(max_uid) if rng.random() < 0.97 else rng.randrange(8)
        rows.append(LogRow(rng.choice(NAMES), uid, when, text))
    return rows


def _open(path: Path, gz: bool) -> IO[str]:
    if gz:
        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return open(path, "w", encoding="utf-8", newline="")


def write_csv(
    path: Path,
    rows: Sequence[LogRow],
    *,
    gz: bool = False,
    columns: tuple[str, str, str] = ("event", "user_id", "timestamp"),
) -> Path:
    """A CSV file with a header and an extra ``country`` column in the middle."""
    with _open(path, gz) as out:
        out.write(f"{columns[0]},country,{columns[1]},{columns[2]}\n")
        for row in rows:
            out.write(f"{row.event},fr,{row.uid},{row.text}\n")
    return path


def write_jsonl(
    path: Path,
    rows: Sequence[LogRow],
    *,
    gz: bool = False,
    columns: tuple[str, str, str] = ("event", "user_id", "timestamp"),
) -> Path:
    """JSON lines; epoch timestamps are JSON numbers, ids alternate between numbers and
    strings."""
    with _open(path, gz) as out:
        for index, row in enumerate(rows):
            stamp: Any = int(row.text) if row.text.isdigit() else row.text
            uid: Any = row.uid if index % 2 else str(row.uid)
            obj = {columns[0]: row.event, columns[1]: uid, columns[2]: stamp, "extra": [1]}
            out.write(json.dumps(obj) + "\n")
    return path


def mark_reference(
    url: str,
    rows: Sequence[LogRow],
    *,
    prefix: str = "ref_",
    tz: tzinfo = timezone.utc,
    unmark: bool = False,
    **flags: Any,
) -> None:
    """Mark (or unmark) every row one by one, the way an application would."""
    with Bitmapist(url, key_prefix=prefix, tz=tz) as bm:
        for row in rows:
            if unmark:
                bm.unmark_event(row.event, row.uid, row.when, **flags)
            else:
                bm.mark_event(row.event, row.uid, row.when, **flags)


def snapshot(admin: redis.Redis, prefix: str) -> dict[str, bytes]:
    """Every key under *prefix* (prefix stripped) with its bytes."""
    found = {}
    for key in admin.scan_iter(match=f"{prefix}*", count=1000):
        name = key.decode()
        value = admin.get(key)
        assert isinstance(value, bytes)
        found[name[len(prefix) :]] = value
    return found
