"""The warehouse: the one package that talks to DuckDB (a DuckLake of catalog + Parquet).

    with Warehouse.writer_lock(settings):            # a whole refresh
        with Warehouse.open(settings) as wh:         # writable: migrates, holds the lock
            with wh.write(run) as tx:                # one transaction = one version
                tx.prices(frame, replace=...)
                tx.results(month_end=..., events=..., summary=...)
                tx.alerts(ledger)

    with Warehouse.open(settings, read_only=True) as wh:
        wh.sql("SELECT * FROM signal_events", snapshot=3)

Modules by job: catalog/extensions/connection (attaching), locking (the writer lock),
migrations (+ schema, the DDL), staging and writer (a run's transaction), readers
(prices, the SQL sandbox), history (versions, diff), shell; lake holds the Warehouse.
"""

from surgewatch.warehouse.lake import Warehouse
from surgewatch.warehouse.locking import RefreshInProgress
from surgewatch.core.vocabulary import PRICE_COLUMNS
from surgewatch.warehouse.records import RunRecord
from surgewatch.warehouse.schema import MIGRATIONS, Migration
from surgewatch.warehouse.writer import Writer

__all__ = ["MIGRATIONS", "PRICE_COLUMNS", "Migration", "RefreshInProgress", "RunRecord", "Warehouse", "Writer"]
