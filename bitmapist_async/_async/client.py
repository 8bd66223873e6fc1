"""The client: marking, event classes bound to it, and keyspace maintenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone, tzinfo
from types import TracebackType
from typing import Any

import redis.asyncio as redis_api
from redis.asyncio.cluster import RedisCluster

from .._core.analytics_plan import Compute, Funnel
from .._core.bulk import ImportSummary
from .._core.cohort import CohortQuery, CohortTable, Retention, TimeGroup
from .._core.errors import ReadOnlyStoreError
from .._core.options import ClientOptions
from .._core.plan import Query, merge_steps
from .._core.ranges import Unit
from .._core.shards import DEFAULT_SHARD_BITS, Layout
from .._core.url import DEFAULT_EMBEDDED_URL, is_embedded_url
from .._core.validate import MAX_UID, check_encodable, check_uid
from .._core.write_options import WriteOptions
from .._deadline import DEFAULT_TIMEOUT, AsyncDeadline, check_timeout
from .._pairs import AsyncWriteBatch, AsyncWriter
from . import analytics as _analytics
from . import cohort as _cohort
from . import events as _events
from . import importer as _importer
from .embedded_storage import EmbeddedStorage
from .evaluate import run_plan
from .guard import guarded
from .range_events import RangeEvents
from .redis_storage import RedisStorage
from .sharded_storage import open_sharded_storage
from .storage import AsyncStorage

__all__ = ("DEFAULT_REDIS_URL", "DEFAULT_URL", "Bitmapist")

#: Where ``Bitmapist()`` stores events when no target is given: the embedded store, in the
#: file ``bitmapist.db`` of the working directory (no server needed).
DEFAULT_URL = DEFAULT_EMBEDDED_URL

#: Where the sharded layout connects when no target is given (it needs Redis).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def open_storage(
    target: str | redis_api.Redis | RedisCluster | AsyncStorage | None,
    bitop_ttl: int,
    pool_options: dict[str, Any],
    *,
    use_numpy: bool | None = None,
) -> AsyncStorage:
    """Pick the storage backend for *target* (no I/O: connections open lazily)."""
    if target is None:
        target = DEFAULT_URL
    if isinstance(target, RedisCluster):
        raise ValueError("a RedisCluster client needs layout='sharded'")
    if is_embedded_url(target):
        assert isinstance(target, str)
        if pool_options:
            raise TypeError(
                "connection pool options do not apply to the embedded store: "
                + ", ".join(sorted(pool_options))
            )
        return EmbeddedStorage(target, bitop_ttl=bitop_ttl)
    if isinstance(target, (str, redis_api.Redis)):
        return RedisStorage(target, bitop_ttl=bitop_ttl, use_numpy=use_numpy, **pool_options)
    if hasattr(target, "evaluate") and hasattr(target, "write_bits"):
        if pool_options:
            raise TypeError("pool options cannot be combined with a storage instance")
        return target
    raise TypeError(f"expected a URL, a Redis client or a storage, got {type(target).__name__}")


def _opens_redis_url(target: object, layout: str) -> bool:
    """Whether the client will open a Redis connection pool from a URL it was given (so the
    deadline's connection options apply)."""
    if target is None:
        return layout == "sharded"
    return isinstance(target, str) and not is_embedded_url(target)


class Bitmapist:
    """An analytics client on bitmaps: Redis, Redis Cluster, or the embedded store.

    :param target: ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL, or a
        ``redis.asyncio.Redis`` instance (which stays yours to close); or ``file:///path.db`` /
        ``memory://`` for the embedded store (no server: see ``docs/embedded.md``), or any
        storage instance. Default :data:`DEFAULT_URL`: the embedded store in
        ``./bitmapist.db`` (with ``layout="sharded"``: :data:`DEFAULT_REDIS_URL`).
    :param key_prefix: prefix of every key; bitmapist 3.x uses ``"trackist_"``.
    :param track_hourly: also mark hour bitmaps by default.
    :param track_unique: also mark the unique (dateless) bitmap by default.
    :param tz: the zone whose calendar defines hours, days, weeks and months. Aware datetimes
        are converted to it; naive ones are taken as already in it.
    :param bitop_ttl: seconds that temporary bit-operation keys live.
    :param use_numpy: decode ids with numpy (``None``: when installed).
    :param layout: ``"classic"`` (bitmapist 3.x keys, one bitmap per event and period) or
        ``"sharded"`` (each range of ``2**shard_bits`` ids in its own key, hash-tagged for Redis
        Cluster: required on a cluster; see the docs' Cluster page for when to use which).
    :param shard_bits: with ``layout="sharded"``, ids per shard as a power of two (8 to 32,
        default 20: 1,048,576 ids, 128 KiB per full shard).
    :param write_options: batching, backpressure and retries of marks
        (:class:`~bitmapist_async.WriteOptions`).
    :param timeout: seconds each round trip of a query call (``count``, ``ids``, ``contains``,
        ``counts``, ``cohort``, ``get_event_names``, deletes, ``ping``, bulk imports) may take
        before it raises :class:`~bitmapist_async.StorageTimeoutError` (a ``TimeoutError``);
        default :data:`~bitmapist_async.DEFAULT_TIMEOUT` (10 s), ``None`` for no deadline. It
        also bounds connecting (``socket_connect_timeout``) and, on the sync client, each
        socket read (``socket_timeout``) unless the URL or *pool_options* set those. Marks are
        bounded by ``write_options`` instead.
    :param pool_options: passed to ``redis.asyncio.Redis.from_url`` (or
        ``redis.asyncio.cluster.RedisCluster.from_url`` for ``redis+cluster://`` URLs).

    Example::

        async with Bitmapist("redis://127.0.0.1:6379/0") as bm:
            await bm.mark_event("active", 123)
            print(await bm.MonthEvents("active").count())
    """

    BitOpAnd = _events.BitOpAnd
    BitOpOr = _events.BitOpOr
    BitOpXor = _events.BitOpXor
    BitOpNot = _events.BitOpNot

    def __init__(
        self,
        target: str | redis_api.Redis | RedisCluster | AsyncStorage | None = None,
        *,
        key_prefix: str = "trackist_",
        track_hourly: bool = False,
        track_unique: bool = False,
        tz: tzinfo = timezone.utc,
        bitop_ttl: int = 60,
        use_numpy: bool | None = None,
        layout: Layout = "classic",
        shard_bits: int = DEFAULT_SHARD_BITS,
        write_options: WriteOptions | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        **pool_options: Any,
    ) -> None:
        if write_options is None:
            write_options = WriteOptions()
        elif not isinstance(write_options, WriteOptions):
            raise TypeError(f"write_options must be a WriteOptions, got {write_options!r}")
        timeout = check_timeout(timeout)
        if _opens_redis_url(target, layout):
            pool_options = {**AsyncDeadline.pool_options(timeout), **pool_options}
        self._options = ClientOptions(
            key_prefix=key_prefix,
            track_hourly=track_hourly,
            track_unique=track_unique,
            tz=tz,
            bitop_ttl=bitop_ttl,
            layout=layout,
            shard_bits=shard_bits,
        )
        if layout == "sharded":
            self._storage = open_sharded_storage(
                target, self._options, pool_options, DEFAULT_REDIS_URL
            )
        else:
            self._storage = open_storage(target, bitop_ttl, pool_options, use_numpy=use_numpy)
        self._writer = AsyncWriter(self._storage, write_options)
        self._read_only = bool(getattr(self._storage, "read_only", False))
        self._queries = guarded(self._storage, timeout)
        self._use_numpy = use_numpy
        self._closed = False
        self.YearEvents = _events.YearEvents._bind(self)
        self.MonthEvents = _events.MonthEvents._bind(self)
        self.WeekEvents = _events.WeekEvents._bind(self)
        self.DayEvents = _events.DayEvents._bind(self)
        self.HourEvents = _events.HourEvents._bind(self)
        self.UniqueEvents = _events.UniqueEvents._bind(self)
        self.RangeEvents = RangeEvents._bind(self)

    # -- properties (no I/O) ---------------------------------------------------------------

    @property
    def options(self) -> ClientOptions:
        """Key prefix, time zone and tracking defaults."""
        return self._options

    @property
    def storage(self) -> AsyncStorage:
        """The storage backend."""
        return self._storage

    @property
    def timeout(self) -> float | None:
        """Seconds each round trip of a query call may take (``None``: no deadline)."""
        return self._queries.timeout

    @property
    def use_numpy(self) -> bool | None:
        return self._use_numpy

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending_writes(self) -> int:
        """Writes (one ``SETBIT`` each) accepted and not yet stored."""
        return self._writer.pending

    def __repr__(self) -> str:
        return f"Bitmapist({self._storage.describe()!r}, key_prefix={self._options.key_prefix!r})"

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Bitmapist:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Write everything pending, then release connections. Idempotent. Later marks and
        queries raise :class:`~bitmapist_async.ClientClosedError`."""
        if self._closed:
            return
        self._writer.bind_loop()  # (raises EventLoopConflictError while busy on another loop)
        self._closed = True
        self._queries.refuse_calls()  # queries from now on: ClientClosedError, on every backend
        try:
            await self._writer.aclose()
        finally:
            await self._storage.aclose()

    async def flush(self) -> None:
        """Wait until every write queued so far is stored (or has failed: its caller hears)."""
        await self._writer.flush()

    def batch(self) -> AsyncWriteBatch:
        """A block whose marks are sent together, in one flush, when it exits.

        Marks inside the block return at once; leaving the block waits for the flush and
        raises :class:`~bitmapist_async.WriteFailedError` if it failed. Queries inside the
        block do not see its marks yet. The block covers the code inside it, including tasks
        started there (they inherit its context); other tasks' marks are not part of it.

        Example::

            async with bm.batch():
                await bm.mark_event("page:viewed", uid)
                await bm.mark_event("search", uid)
        """
        return self._writer.batch()

    async def ping(self) -> None:
        """Check that storage answers."""
        await self._queries.ping()

    # -- marking ---------------------------------------------------------------------------

    async def mark_event(
        self,
        event_name: str,
        uid: int,
        now: datetime | date | None = None,
        *,
        track_hourly: bool | None = None,
        track_unique: bool | None = None,
    ) -> None:
        """Mark *uid* as having done *event_name* at *now* (default: the current time).

        Sets the month, ISO week and day bitmaps, plus the hour and unique ones when tracked.
        Returns once storage has acknowledged every bit (inside :meth:`batch`: at once).
        Concurrent calls travel to storage together (see the Batching page).

        :raises TypeError: a name, id or datetime of the wrong type (before any I/O).
        :raises ValueError: an empty name or an id outside ``[0, 2**32)`` (before any I/O).
        :raises WriteFailedError: storage failed after every retry (the cause is kept).
        :raises ReadOnlyStoreError: the embedded store was opened read-only (``?mode=ro``).
        :raises ClientClosedError: the client is closed.

        Example::

            await bm.mark_event("song:played", 123, track_hourly=True)
        """
        offset = uid if type(uid) is int and 0 <= uid < MAX_UID else check_uid(uid)
        keys = self._options.mark_keys(event_name, now, track_hourly, track_unique)
        if self._read_only:
            self._refuse_writes()
        await self._writer.write_mark(keys, offset, 1)

    async def unmark_event(
        self,
        event_name: str,
        uid: int,
        now: datetime | date | None = None,
        *,
        track_hourly: bool | None = None,
        track_unique: bool | None = None,
    ) -> None:
        """Clear the bits :meth:`mark_event` would set."""
        offset = uid if type(uid) is int and 0 <= uid < MAX_UID else check_uid(uid)
        keys = self._options.mark_keys(event_name, now, track_hourly, track_unique)
        if self._read_only:
            self._refuse_writes()
        await self._writer.write_mark(keys, offset, 0)

    async def mark_unique(self, event_name: str, uid: int) -> None:
        """Flag *uid* in the dateless bitmap of *event_name* (``UniqueEvents``)."""
        offset = uid if type(uid) is int and 0 <= uid < MAX_UID else check_uid(uid)
        keys = self._options.unique_keys(event_name)
        if self._read_only:
            self._refuse_writes()
        await self._writer.write_mark(keys, offset, 1)

    async def unmark_unique(self, event_name: str, uid: int) -> None:
        """Clear *uid* in the dateless bitmap of *event_name*."""
        offset = uid if type(uid) is int and 0 <= uid < MAX_UID else check_uid(uid)
        keys = self._options.unique_keys(event_name)
        if self._read_only:
            self._refuse_writes()
        await self._writer.write_mark(keys, offset, 0)

    def _refuse_writes(self) -> None:
        raise ReadOnlyStoreError(
            f"{self._storage.describe()} is open read-only (?mode=ro): marks are refused"
        )

    # -- bulk import -----------------------------------------------------------------------

    async def import_events(
        self,
        rows: _importer.ImportRows,
        *,
        track_hourly: bool | None = None,
        track_unique: bool | None = None,
        unmark: bool = False,
        max_errors: int | None = 0,
        dry_run: bool = False,
        chunk_rows: int = _importer.DEFAULT_CHUNK_ROWS,
        on_progress: _importer.ProgressCallback | None = None,
    ) -> ImportSummary:
        """Mark (or with *unmark* clear) many events at once, far faster than one
        :meth:`mark_event` per row; the keys end up exactly as those calls would leave them.

        :param rows: an :class:`~bitmapist_async.EventLog` (CSV or JSON-lines files), or an
            iterable or async iterable of ``(event name, user id, datetime or date)`` tuples.
        :param track_hourly: as in :meth:`mark_event` (``None``: the client's default).
        :param track_unique: as in :meth:`mark_event`.
        :param unmark: clear the bits instead, as :meth:`unmark_event` does.
        :param max_errors: bad rows tolerated (counted and listed in the summary) before
            :class:`~bitmapist_async.ImportAbortedError`; ``None``: no limit.
        :param dry_run: read and validate only; write nothing.
        :param chunk_rows: valid rows aggregated in memory (about 4 bytes each) per chunk.
        :param on_progress: called with the :class:`~bitmapist_async.ImportSummary` so far
            after each block read and each chunk written.
        :return: what was done: rows read, imported, rejected, keys written, seconds.
        :raises TypeError: a parameter of the wrong type (before any I/O).
        :raises ValueError: an out-of-range parameter, or a CSV header without a needed column
            (before anything is written).
        :raises ImportAbortedError: more than *max_errors* bad rows.

        Example::

            summary = await bm.import_events(EventLog("events.csv.gz"), max_errors=100)
            summary = await bm.import_events([("signup", 7, datetime(2026, 11, 3))])
        """
        importer = _importer.AsyncImporter(
            self,
            track_hourly=track_hourly,
            track_unique=track_unique,
            unmark=unmark,
            max_errors=max_errors,
            dry_run=dry_run,
            chunk_rows=chunk_rows,
            on_progress=on_progress,
        )
        return await importer.run(rows)

    # -- queries over many expressions -----------------------------------------------------

    async def counts(self, expressions: Sequence[_events.Expression]) -> list[int]:
        """Count many expressions in one round trip (shared sub-expressions run once).

        Example::

            days = [bm.DayEvents("active", 2026, 11, d) for d in range(1, 31)]
            per_day = await bm.counts(days)
        """
        for expression in expressions:
            if expression.bitmapist is not self:
                raise ValueError(f"{expression!r} belongs to another client")
        plans = [e.plan() for e in expressions]
        queries = [Query("count", p.result) for p in plans]
        steps = merge_steps(plans)
        results = await run_plan(self._queries, self._options.scheme, steps, queries)
        return [int(r) for r in results]

    # -- cohorts ---------------------------------------------------------------------------

    async def cohort(
        self,
        select1: str,
        select2: str,
        *,
        select1b: str | None = None,
        select2b: str | None = None,
        time_group: TimeGroup = "days",
        as_percent: bool = True,
        num_results: int | None = None,
        num_of_rows: int = 12,
        start_date: date | str | None = None,
        retention: Retention = "classic",
        handlers: Mapping[str, _cohort.Handler] | None = None,
        compute: _cohort.Compute = "auto",
    ) -> CohortTable:
        """A cohort table: of the users who did *select1* (and *select1b*) in period N, how
        many did *select2* (and *select2b*) in period N+k? (``retention="unbounded"``: in
        N+k or any later period of the table.) Two round trips, whatever the table's size (three
        with ``compute="auto"``: its size probe first).

        Parameters and rows are bitmapist 3.x's ``get_dates_data``'s: see
        :class:`~bitmapist_async.CohortQuery` and :class:`~bitmapist_async.CohortTable`.

        :param handlers: custom selections for this call, by name: ``handler(name, cls,
            cls_args)`` returns an expression, e.g. ``cls("active", *cls_args) &
            (cls("web", *cls_args) | cls("ios", *cls_args))``.
        :param compute: ``"storage"`` counts every cell in storage (one ``BITOP`` and
            ``BITCOUNT`` each; only counts travel); ``"local"`` fetches each selection's bitmap
            once and counts the cells here (numpy >= 2 if available): much faster while the
            bitmaps are small (ids up to a few million), heavier on the network beyond.
            ``"auto"`` (the default) probes the stored bitmaps' sizes first (one round trip)
            and counts locally while they add up to at most 32 MiB, in storage beyond.
        :raises TypeError: a parameter of the wrong type (before any I/O).
        :raises ValueError: a parameter out of range (before any I/O).

        Example::

            table = await bm.cohort("signup", "active", time_group="weeks", num_results=8)
        """
        query = CohortQuery(
            select1, select2, select1b, select2b, time_group, as_percent,
            num_results, num_of_rows, start_date, retention,
        )  # fmt: skip
        return await _cohort.cohort_table(self, query, handlers=handlers, compute=compute)

    # -- analytics (see docs/analytics.md) -------------------------------------------------

    async def trend(
        self, event: _analytics.EventSpec, unit: Unit, start: date, end: date
    ) -> list[tuple[datetime, int]]:
        """How many did *event* in each period (*unit*: ``"hours"``, ``"days"``, ``"weeks"``,
        ``"months"``, ``"years"``) from the one containing *start* to the one containing *end*:
        ``[(period start, count), ...]``. One round trip (two if *event* composes bit
        operations).

        :param event: an event name, or ``event(cls, *args) -> expression`` (``cls`` is the
            unit's event class, ``cls("active", *args)`` the event in that period).
        :raises TypeError: a parameter of the wrong type (before any I/O).
        :raises ValueError: an unknown unit, *end* before *start*, or more than
            ``MAX_PERIODS`` periods (before any I/O).

        Example::

            dau = await bm.trend("active", "days", date(2026, 11, 1), date(2026, 11, 30))
        """
        return await _analytics.trend(self, event, unit, start, end)

    async def rolling(
        self,
        event: _analytics.EventSpec,
        window: int,
        unit: Unit,
        start: date,
        end: date,
        *,
        compute: Compute = "storage",
    ) -> list[tuple[datetime, int]]:
        """For each period of the range, how many did *event* in the *window* periods ending
        with it: ``[(period start, count), ...]`` (MAU by day: ``window=30, unit="days"``).
        Two round trips at most, whatever the range.

        :param compute: ``"storage"`` (``BITOP`` there, only counts travel) or ``"local"``
            (each period's bitmap travels once and is counted here).
        :raises TypeError: a parameter of the wrong type (before any I/O).
        :raises ValueError: a window below 1, an unknown unit, *end* before *start*, or more
            than ``MAX_PERIODS`` periods including the window's (before any I/O).

        Example::

            wau = await bm.rolling("active", 7, "days", date(2026, 11, 1), date(2026, 11, 30))
        """
        return await _analytics.rolling(self, event, window, unit, start, end, compute)

    async def funnel(
        self,
        steps: Sequence[_analytics.EventSpec],
        unit: Unit,
        start: date,
        end: date,
        within: int = 0,
        *,
        compute: Compute = "storage",
    ) -> Funnel:
        """A funnel per cohort period *p* of the range: step 1 counts who did ``steps[0]`` in
        *p*, step *k* those of step *k - 1* who did ``steps[k - 1]`` in *p* .. *p + within*.
        Two round trips at most. See :class:`~bitmapist_async.Funnel` and the analytics page
        for which order this enforces.

        :raises TypeError: a parameter of the wrong type (before any I/O).
        :raises ValueError: no step or more than ``MAX_FUNNEL_STEPS``, *within* below 0, an
            unknown unit, *end* before *start*, or too many periods (before any I/O).

        Example::

            f = await bm.funnel(["signup", "search", "purchase"], "weeks", start, end, 2)
            print(f.totals, f.conversions)
        """
        return await _analytics.funnel(self, steps, unit, start, end, within, compute)

    # -- keyspace --------------------------------------------------------------------------

    async def get_event_names(self, prefix: str = "") -> list[str]:
        """Sorted names of every event stored under this client's key prefix whose name starts
        with *prefix* (temporary bit-operation keys excluded)."""
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {prefix!r}")
        check_encodable("prefix", prefix)
        scheme = self._options.scheme
        names = set()
        for key in await self._queries.scan(scheme.events_pattern(prefix)):
            name = scheme.event_name(key)
            if name is not None and name.startswith(prefix):
                names.add(name)
        return sorted(names)

    async def delete_all_events(self) -> None:
        """Delete every key under this client's key prefix (events and bit-op results)."""
        keys = await self._queries.scan(self._options.scheme.events_pattern())
        await self._queries.delete(keys)

    async def delete_temporary_bitop_keys(self) -> None:
        """Delete every temporary bit-operation key under this client's key prefix."""
        keys = await self._queries.scan(self._options.scheme.bitop_pattern())
        await self._queries.delete(keys)
