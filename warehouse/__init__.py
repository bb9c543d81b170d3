"""The warehouse: the one module that talks to DuckDB (a DuckLake of catalog + Parquet).

    with Warehouse.writer_lock(settings):            # a whole refresh
        with Warehouse.open(settings) as wh:         # writable: migrates, holds the lock
            wh.publish(run, prices=..., month_end=..., events=..., summary=...)

    with Warehouse.open(settings, read_only=True) as wh:
        wh.sql("SELECT * FROM signal_events", snapshot=3)
"""

from surgewatch.warehouse.lake import PRICE_COLUMNS, Warehouse
from surgewatch.warehouse.locking import RefreshInProgress
from surgewatch.warehouse.records import RunRecord
from surgewatch.warehouse.schema import MIGRATIONS, Migration

__all__ = ["MIGRATIONS", "PRICE_COLUMNS", "Migration", "RefreshInProgress", "RunRecord", "Warehouse"]
