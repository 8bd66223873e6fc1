"""bitmapist-async: real-time "who did what, when" analytics on Redis bitmaps, async first.

Example::

    from bitmapist_async import Bitmapist

    async with Bitmapist("redis://127.0.0.1:6379/0") as bm:
        await bm.mark_event("active", 123)
        print(await bm.MonthEvents("active").count())

The synchronous twin with the same names lives in :mod:`bitmapist_async.sync`.
"""

from __future__ import annotations

from ._async.client import DEFAULT_REDIS_URL as DEFAULT_REDIS_URL
from ._async.client import DEFAULT_URL as DEFAULT_URL
from ._async.client import Bitmapist as Bitmapist
from ._async.embedded_storage import EmbeddedStorage as EmbeddedStorage
from ._async.events import BitOpAnd as BitOpAnd
from ._async.events import BitOperation as BitOperation
from ._async.events import BitOpNot as BitOpNot
from ._async.events import BitOpOr as BitOpOr
from ._async.events import BitOpXor as BitOpXor
from ._async.events import DayEvents as DayEvents
from ._async.events import Expression as Expression
from ._async.events import HourEvents as HourEvents
from ._async.events import MonthEvents as MonthEvents
from ._async.events import PeriodEvents as PeriodEvents
from ._async.events import UniqueEvents as UniqueEvents
from ._async.events import WeekEvents as WeekEvents
from ._async.events import YearEvents as YearEvents
from ._async.range_events import RangeEvents as RangeEvents
from ._async.redis_storage import RedisStorage as RedisStorage
from ._async.sharded_storage import ShardedStorage as ShardedStorage
from ._async.storage import AsyncStorage as Storage
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

__version__ = "0.1.0"

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
