"""The synchronous API: the same names as :mod:`bitmapist_async`, without ``await``.

Generated from the async source (``bitmapist_async/_sync`` is written by
``scripts/unasync.py``), so the two cannot drift. Sync expressions also support ``len(ev)``,
``uid in ev``, ``for uid in ev`` and ``list(ev)``.

Example::

    from bitmapist_async.sync import Bitmapist

    with Bitmapist("redis://127.0.0.1:6379/0") as bm:
        bm.mark_event("active", 123)
        assert 123 in bm.MonthEvents("active")
"""

from __future__ import annotations

from . import __version__ as __version__
from ._core.analytics_plan import Funnel as Funnel
from ._core.bulk import ImportSummary as ImportSummary
from ._core.cohort import CohortQuery as CohortQuery
from ._core.cohort import CohortTable as CohortTable
from ._core.errors import BitmapistError as BitmapistError
from ._core.errors import ClientClosedError as ClientClosedError
from ._core.errors import EmbeddedStorageError as EmbeddedStorageError
from ._core.errors import EventLoopConflictError as EventLoopConflictError
from ._core.errors import ImportAbortedError as ImportAbortedError
from ._core.errors import ImportInputError as ImportInputError
from ._core.errors import ReadOnlyStoreError as ReadOnlyStoreError
from ._core.errors import RejectedWritesError as RejectedWritesError
from ._core.errors import ServerCapabilityError as ServerCapabilityError
from ._core.errors import ShardLayoutError as ShardLayoutError
from ._core.errors import StorageError as StorageError
from ._core.errors import StorageTimeoutError as StorageTimeoutError
from ._core.errors import StorageUnavailableError as StorageUnavailableError
from ._core.errors import WriteFailedError as WriteFailedError
from ._core.eventlog import RowError as RowError
from ._core.store_check import StoreCheckReport as StoreCheckReport
from ._core.store_check import StoreDamage as StoreDamage
from ._core.write_options import WriteOptions as WriteOptions
from ._deadline import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._reader import EventLog as EventLog
from ._sync.client import DEFAULT_REDIS_URL as DEFAULT_REDIS_URL
from ._sync.client import DEFAULT_URL as DEFAULT_URL
from ._sync.client import Bitmapist as Bitmapist
from ._sync.embedded_storage import EmbeddedStorage as EmbeddedStorage
from ._sync.events import BitOpAnd as BitOpAnd
from ._sync.events import BitOperation as BitOperation
from ._sync.events import BitOpNot as BitOpNot
from ._sync.events import BitOpOr as BitOpOr
from ._sync.events import BitOpXor as BitOpXor
from ._sync.events import DayEvents as DayEvents
from ._sync.events import Expression as Expression
from ._sync.events import HourEvents as HourEvents
from ._sync.events import MonthEvents as MonthEvents
from ._sync.events import PeriodEvents as PeriodEvents
from ._sync.events import UniqueEvents as UniqueEvents
from ._sync.events import WeekEvents as WeekEvents
from ._sync.events import YearEvents as YearEvents
from ._sync.range_events import RangeEvents as RangeEvents
from ._sync.redis_storage import RedisStorage as RedisStorage
from ._sync.sharded_storage import ShardedStorage as ShardedStorage
from ._sync.storage import Storage as Storage

__all__ = (
    "DEFAULT_REDIS_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "BitOpAnd",
    "BitOpNot",
    "BitOpOr",
    "BitOpXor",
    "BitOperation",
    "Bitmapist",
    "BitmapistError",
    "ClientClosedError",
    "CohortQuery",
    "CohortTable",
    "DayEvents",
    "EmbeddedStorage",
    "EmbeddedStorageError",
    "EventLoopConflictError",
    "EventLog",
    "Expression",
    "Funnel",
    "HourEvents",
    "ImportAbortedError",
    "ImportInputError",
    "ImportSummary",
    "MonthEvents",
    "PeriodEvents",
    "RangeEvents",
    "RedisStorage",
    "ServerCapabilityError",
    "ShardLayoutError",
    "ShardedStorage",
    "ReadOnlyStoreError",
    "StorageError",
    "StorageTimeoutError",
    "StorageUnavailableError",
    "RejectedWritesError",
    "RowError",
    "Storage",
    "StoreCheckReport",
    "StoreDamage",
    "UniqueEvents",
    "WeekEvents",
    "WriteFailedError",
    "WriteOptions",
    "YearEvents",
    "__version__",
)
