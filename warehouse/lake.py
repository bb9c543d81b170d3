"""The Warehouse: an open DuckLake, the one object the rest of surgewatch talks to.

The warehouse is a DuckLake: a catalog (SQLite file by default, PostgreSQL for a shared
server) holding the metadata and every version, plus Parquet files under DATA_PATH.
DuckLake turns each committed transaction into one snapshot, so a run's writes go into a
single transaction (writer.write): readers see either all of a run or none of it, and
`--snapshot N` shows the warehouse exactly as a past run left it.

Writers: a writable Warehouse holds the writer lock (warehouse.locking) for its lifetime.
Readers: they attach the catalog read-only; with the SQLite catalog in WAL mode (set by
every writer, see Catalog.prepare_for_writer) they keep reading the last committed
version while a refresh writes, and a "database is locked" (a catalog still in
rollback-journal mode) is retried with backoff instead of failing.

This class only opens, closes and hands each job to its module: migrations, writer,
readers, history, shell.
"""

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack
from datetime import date
from typing import Any

import duckdb
import polars as pl

from surgewatch.core.errors import WarehouseError
from surgewatch.core.settings import Settings
from surgewatch.warehouse import history, migrations, shell, state, writer
from surgewatch.warehouse.catalog import Catalog
from surgewatch.warehouse.connection import attach, lock_down, no_warehouse
from surgewatch.warehouse.folders import check_writable
from surgewatch.warehouse.locking import writer_lock
from surgewatch.warehouse.readers import Reader
from surgewatch.warehouse.records import RunRecord
from surgewatch.warehouse.staging import Stager


class Warehouse:
    """An open warehouse. Use `Warehouse.open(settings)` as a context manager."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        catalog: Catalog,
        *,
        read_only: bool,
        resources: ExitStack,
        migrated: dict[int, int] | None = None,
    ):
        self._con = con
        self._migrated = migrated or {}
        self._catalog = catalog
        self._read_only = read_only
        self._reader = Reader(con, catalog, resources, locked_down=read_only)
        self._stager = Stager(con)
        self._resources = resources

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False) -> "Warehouse":
        """Open the warehouse named by settings.

        Writable (the default): takes the writer lock (RefreshInProgress if another
        refresh holds it), creates SURGEWATCH_HOME and the catalog if needed and applies
        pending migrations. Read-only: never creates anything, and raises WarehouseError
        when there is no warehouse yet or its schema is not the one this code expects.
        """
        catalog = Catalog.from_settings(settings)
        resources = ExitStack()
        try:
            if read_only:
                if catalog.is_missing_file():
                    raise WarehouseError(no_warehouse(catalog))
                catalog = catalog.readable(resources)
            else:
                resources.enter_context(writer_lock(settings))
                catalog.prepare_for_writer()
            con = catalog.connect()
            resources.callback(con.close)
            attach(con, catalog, read_only=read_only)
            migrated = None
            if read_only:
                migrations.check_schema(con, catalog)
                lock_down(con)
            else:
                migrated = migrations.migrate(con)
            return cls(con, catalog, read_only=read_only, resources=resources, migrated=migrated)
        except BaseException:
            resources.close()
            raise

    @staticmethod
    def check_writable(settings: Settings) -> None:
        """WarehouseError (one line naming the setting, path and reason) unless
        SURGEWATCH_HOME and a local DATA_PATH are folders this process can write;
        creates them when missing. Writers check this before any other work."""
        check_writable(settings)

    @staticmethod
    def writer_lock(settings: Settings) -> AbstractContextManager[None]:
        """Context manager holding the writer lock for a whole refresh; raises
        RefreshInProgress at once when another process holds it. Re-entrant within a
        process, so the writable Warehouse opened inside it shares it."""
        return writer_lock(settings)

    def close(self) -> None:
        """Detach and release the writer lock (if held)."""
        self._resources.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def migrated(self) -> dict[int, int]:
        """The migrations this open applied, each number → the version it became (on a
        new warehouse every migration, from version 1)."""
        return dict(self._migrated)

    def schema_version(self) -> int:
        """The number of the last migration applied to this warehouse (0: none)."""
        return migrations.schema_version(self._con)

    # -- writing ---------------------------------------------------------------------

    def _require_writable(self) -> None:
        if self._read_only:
            raise WarehouseError("the warehouse was opened read-only")

    def write(self, run: RunRecord) -> AbstractContextManager[writer.Writer]:
        """The run's one transaction: `with wh.write(run) as tx:` hands out tx.prices,
        tx.results, tx.alerts and tx.note; leaving the block writes the run's `runs` row
        and commits, so the run becomes version tx.snapshot. On any error nothing is
        written and the previous version stays current (see warehouse.writer)."""
        self._require_writable()
        return writer.write(self._con, self._stager, run)

    def record_run(self, run: RunRecord) -> int:
        """Write only the run's `runs` row (a run that publishes nothing) as a version
        of its own, and return that version."""
        self._require_writable()
        return writer.record_run(self._con, run)

    # -- reading ---------------------------------------------------------------------

    def prices(self, tickers: Iterable[str] | None = None, as_of: date | None = None) -> pl.DataFrame:
        """Stored daily prices as the raw frame (vocabulary.PRICE_COLUMNS), sorted;
        optionally only some tickers and dates <= as_of."""
        return self._reader.prices(tickers, as_of)

    def last_sessions(self) -> pl.DataFrame:
        """(ticker, last_session): the last stored session of every ticker the warehouse
        holds, i.e. how far the current version reaches for each."""
        return state.session_spans(self._reader).select("ticker", "last_session")

    def session_spans(self) -> pl.DataFrame:
        """(ticker, first_session, last_session) of every stored ticker (see state)."""
        return state.session_spans(self._reader)

    def price_window(self, starts: pl.DataFrame) -> pl.DataFrame:
        """Stored daily rows of each ticker in starts (ticker, start) from its start on."""
        return state.price_window(self._reader, starts)

    def published_results(
        self, since: pl.DataFrame, columns: Sequence[str], recent_months: int
    ) -> dict[str, pl.DataFrame]:
        """The published results a night builds on (see state.published_results)."""
        return state.published_results(self._reader, since, columns, recent_months)

    def alerts(self) -> pl.DataFrame:
        """The alert ledger: every alert owed so far and what became of it."""
        # A scan of an empty DuckLake table queries the catalog once per column (ducklake
        # 1.5.5; fixed upstream by duckdb/ducklake#1313): 50-120 ms a night for the usual
        # empty ledger, 15 ms counted first.
        if not self._reader.read("SELECT count(*) AS n FROM alerts")["n"][0]:
            return self._reader.read("SELECT * FROM alerts LIMIT 0")
        return self._reader.read("SELECT * FROM alerts")

    def context_series(self, names: Sequence[str] | None = None) -> pl.DataFrame:
        """Stored context series (name, date, value, source), all or those named."""
        query = "SELECT name, date, value, source FROM context_series"
        if names is None:
            return self._reader.read(query + " ORDER BY name, date")
        return self._reader.read(query + " WHERE list_contains(?, name) ORDER BY name, date", [list(names)])

    def month_movers_inputs(self, month: date | None, snapshot: int | None = None) -> dict[str, pl.DataFrame]:
        """What `scan` ranks, from the published tables: `month_end` rows of `month`
        (default: the latest stored), its `events`, and every ticker's events `summary`
        and `stats`; as of version `snapshot` when given (through the read-only SQL
        sandbox, which attaches that version; the current one reads directly, 0.3 s less)."""

        def read(query: str) -> pl.DataFrame:
            return self._reader.read(query) if snapshot is None else self._reader.sql(query, snapshot)

        chosen = month or read("SELECT max(month) AS m FROM month_end")["m"][0]
        # A literal, not a parameter: DuckDB prunes the Parquet row groups by a constant
        # (0.06 s against 0.28 s at 3,000 tickers x 30 years). A date's isoformat is safe SQL.
        at = "NULL" if chosen is None else f"DATE '{date.isoformat(chosen)}'"
        return {
            "month_end": read(f"SELECT ticker, month, as_of, complete, move FROM month_end WHERE month = {at}"),
            "events": read(f"SELECT ticker, month, first_crossed_on FROM signal_events WHERE month = {at}"),
            "summary": read("SELECT ticker, kind, horizon, n, average FROM signal_summary WHERE kind = 'events'"),
            "stats": read("SELECT ticker, horizon, excess, verdict FROM signal_stats"),
        }

    def context_sources(self) -> pl.DataFrame:
        """(name, source) of every stored context series."""
        return self._reader.read("SELECT DISTINCT name, source FROM context_series ORDER BY name")

    def event_months(self) -> pl.DataFrame:
        """(ticker, month) of every stored signal event."""
        return self._reader.read("SELECT ticker, month FROM signal_events")

    def sql(self, query: str, snapshot: int | None = None, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """A user's query, read-only, optionally as of version `snapshot` (see Reader.sql)."""
        return self._reader.sql(query, snapshot, params)

    def versions(self) -> pl.DataFrame:
        """Every version with its time, run_id, message and changed tables."""
        return history.versions(self._reader)

    def diff(self, a: int, b: int, tables: Sequence[str] | None = None) -> pl.DataFrame:
        """Result rows (of all result tables, or of `tables`) that differ between versions
        a and b (see history.diff)."""
        return history.diff(self._reader, a, b, tables)

    def shell_command(self) -> list[str]:
        """The argv of the DuckDB CLI on this warehouse, read-only (see shell.shell_command)."""
        return shell.shell_command(self._catalog)
