"""Warehouse: the one place that talks to DuckDB.

The warehouse is a DuckLake: a catalog (SQLite file by default, PostgreSQL for a shared
server) holding the metadata and every version, plus Parquet files under DATA_PATH.
DuckLake turns each committed transaction into one snapshot, so a run's writes go into a
single transaction: readers see either all of a run or none of it, and `--snapshot N`
shows the warehouse exactly as a past run left it.

Writers: a writable Warehouse holds the writer lock (warehouse.locking) for its lifetime.
Readers: they attach the catalog read-only; with the SQLite catalog in WAL mode (set by
every writer, see Catalog.prepare_for_writer) they keep reading the last committed
version while a refresh writes, and a "database is locked" (a catalog still in
rollback-journal mode) is retried with backoff instead of failing.
"""

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import date, datetime, timezone
from typing import Any, TypeVar

import duckdb
import polars as pl

from surgewatch.errors import WarehouseError
from surgewatch.faults import crash_point
from surgewatch.settings import Settings
from surgewatch.warehouse import schema
from surgewatch.warehouse.catalog import ALIAS, Catalog
from surgewatch.warehouse.extensions import cli_argv, one_line, sql_literal
from surgewatch.warehouse.locking import writer_lock
from surgewatch.warehouse.records import RunRecord

log = logging.getLogger(__name__)

PRICE_COLUMNS = ("ticker", "date", "open", "high", "low", "close", "adj_close", "volume")
"""The raw daily frame (schemas.frames.DailyPrices) as prices() returns it."""

_LOCK_WAIT = 30.0
_READ_STATEMENTS = {duckdb.StatementType.SELECT.name, duckdb.StatementType.EXPLAIN.name}
_AUTHOR = "surgewatch"
_T = TypeVar("_T")

_CHANGE_WORDS = {
    "schemas_created": "created schema",
    "tables_created": "created",
    "tables_altered": "altered",
    "tables_dropped": "dropped",
    "tables_inserted_into": "inserted",
    "inlined_insert": "inserted",
    "tables_deleted_from": "deleted",
    "inlined_delete": "deleted",
}

_DIFF_SCHEMA = {"table": pl.String, "change": pl.String, "ticker": pl.String, "row": pl.String}
_VERSIONS_SCHEMA = {
    "version": pl.Int64,
    "time": pl.Datetime("us", "UTC"),
    "run_id": pl.String,
    "message": pl.String,
    "changes": pl.String,
}


def _table(name: str) -> str:
    """Table names are built into SQL, so only the warehouse's own are let through."""
    if name not in schema.KEYS and name != "runs":
        raise WarehouseError(f"unknown warehouse table {name!r}")
    return name


def _retry_locked(catalog: Catalog, action: Callable[[], _T]) -> _T:
    """Run a read, retrying while a SQLite catalog answers "database is locked".

    In rollback-journal mode a commit locks the whole file and DuckDB's sqlite scanner
    gives up after 5 s; a read can always be repeated, so it waits for the commit instead.
    """
    if catalog.kind != "sqlite":
        return action()
    delay, deadline = 0.05, time.monotonic() + _LOCK_WAIT
    while True:
        try:
            return action()
        except duckdb.Error as exc:
            if "database is locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _no_warehouse(catalog: Catalog) -> str:
    return f"no warehouse at {catalog.display}; run `surgewatch refresh` first"


def _attach(con: duckdb.DuckDBPyConnection, catalog: Catalog, *, read_only: bool, snapshot: int | None = None) -> None:
    try:
        _retry_locked(catalog, lambda: con.execute(catalog.attach_sql(read_only=read_only, snapshot=snapshot)))
    except duckdb.Error as exc:
        text = catalog.redact(one_line(exc))
        if "creating a new DuckLake is explicitly disabled" in text:
            raise WarehouseError(_no_warehouse(catalog)) from None
        if "does not match existing data path" in text:
            raise WarehouseError(
                f"SURGEWATCH_DATA_PATH is {catalog.data_path} but this warehouse keeps its files elsewhere: {text}"
            ) from None
        if "No snapshot found" in text:
            raise WarehouseError(f"no version {snapshot} in the warehouse; `surgewatch versions` lists them") from None
        raise WarehouseError(f"cannot open the warehouse at {catalog.display}: {text}") from None
    con.execute(f"USE {ALIAS}")


def _lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No file access beyond the lake's data files (so no ATTACH, COPY or reading other
    files) and no configuration changes from here on."""
    data_path = con.execute("SELECT data_path FROM ducklake_settings(?)", [ALIAS]).fetchone()[0]
    con.execute(f"SET allowed_directories = [{sql_literal(data_path)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


class Warehouse:
    """An open warehouse. Use `Warehouse.open(settings)` as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, catalog: Catalog, *, read_only: bool, resources: ExitStack):
        self._con = con
        self._catalog = catalog
        self._read_only = read_only
        self._resources = resources
        self._column_cache: dict[str, list[tuple[str, str]]] = {}
        self._sandboxes: dict[int | None, duckdb.DuckDBPyConnection] = {}

    # -- opening ---------------------------------------------------------------------

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
                    raise WarehouseError(_no_warehouse(catalog))
            else:
                resources.enter_context(writer_lock(settings))
                catalog.prepare_for_writer()
            con = catalog.connect()
            resources.callback(con.close)
            _attach(con, catalog, read_only=read_only)
            warehouse = cls(con, catalog, read_only=read_only, resources=resources)
            if read_only:
                warehouse._check_schema()
                # A reader's own connection can serve sql() as well: one DuckDB (and one
                # ~0.25 s extension signature check) less per read-only command.
                _lock_down(con)
                warehouse._sandboxes[None] = con
            else:
                warehouse._migrate()
            return warehouse
        except BaseException:
            resources.close()
            raise

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

    # -- migrations ------------------------------------------------------------------

    def schema_version(self) -> int:
        """The number of the last migration applied to this warehouse (0: none)."""
        exists = self._con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' AND table_name = 'schema_version'",
            [ALIAS],
        ).fetchone()[0]
        if not exists:
            return 0
        return self._con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]

    def _check_schema(self) -> None:
        current, head = self.schema_version(), schema.MIGRATIONS[-1].version
        if current == 0:
            raise WarehouseError(_no_warehouse(self._catalog))
        if current < head:
            raise WarehouseError(
                f"the warehouse has schema version {current}, this surgewatch expects {head}; run `surgewatch refresh` to upgrade it"
            )
        self._refuse_newer(current, head)

    def _refuse_newer(self, current: int, head: int) -> None:
        if current > head:
            raise WarehouseError(
                f"the warehouse has schema version {current}, newer than this surgewatch knows ({head}); upgrade surgewatch"
            )

    def _migrate(self) -> None:
        current = self.schema_version()
        self._refuse_newer(current, schema.MIGRATIONS[-1].version)
        for migration in schema.MIGRATIONS:
            if migration.version <= current:
                continue
            message = f"migration {migration.version}: {migration.name}"
            try:
                with self._transaction(message, {"migration": migration.version}):
                    for statement in migration.statements:
                        self._con.execute(statement)
                    self._con.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?)",
                        [migration.version, migration.name, datetime.now(timezone.utc)],
                    )
            except duckdb.Error as exc:
                raise WarehouseError(f"{message} failed: {one_line(exc)}") from None
        self._column_cache.clear()

    # -- transactions ----------------------------------------------------------------

    def _require_writable(self) -> None:
        if self._read_only:
            raise WarehouseError("the warehouse was opened read-only")

    @contextmanager
    def _transaction(self, message: str, extra: dict[str, Any]) -> Iterator[int]:
        """One transaction = one DuckLake snapshot. Yields the id that snapshot will get,
        so the run's own row can name it; it is exact because this process holds the
        writer lock, so no other commit can come in between."""
        self._require_writable()
        con = self._con
        con.execute("BEGIN")
        try:
            predicted = con.execute(f"SELECT id FROM {ALIAS}.current_snapshot()").fetchone()[0] + 1
            yield predicted
            con.execute(
                "CALL ducklake_set_commit_message(?, ?, ?, extra_info => ?)",
                [ALIAS, _AUTHOR, message, json.dumps(extra, sort_keys=True)],
            )
            crash_point("commit")
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.TransactionException:
                pass  # a failed COMMIT has already rolled the transaction back
            raise
        crash_point("committed")
        committed = con.execute(f"SELECT id FROM {ALIAS}.last_committed_snapshot()").fetchone()[0]
        if committed != predicted:
            log.warning("%s committed as version %s, recorded as %s: a writer bypassed the lock", message, committed, predicted)

    def _columns(self, table: str) -> list[tuple[str, str]]:
        if table not in self._column_cache:
            self._column_cache[table] = self._con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = ? AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
                [ALIAS, _table(table)],
            ).fetchall()
        return self._column_cache[table]

    def _stage(
        self,
        table: str,
        frame: pl.DataFrame | None,
        defaults: dict[str, Any],
        *,
        only: Collection[str] | None = None,
    ) -> pl.DataFrame | None:
        """Shape a frame into the table's columns and types (or `only` those columns).

        Columns the frame lacks come from `defaults` (else NULL); extra columns are
        dropped; run_id always comes from defaults, the run doing the write. Keys and
        allowed values are checked here because DuckLake has no constraints beyond NOT
        NULL. Done before the transaction starts, so a bad frame fails without writing.
        """
        if frame is None or frame.height == 0:
            return None
        keys = schema.KEYS[table]
        missing = [key for key in keys if key not in frame.columns and key not in defaults]
        if missing:
            raise WarehouseError(f"{table}: the frame has no column {', '.join(missing)}")
        selects, params = [], []
        for name, sql_type in self._columns(table):
            if only is not None and name not in only:
                continue
            if name in frame.columns and name != "run_id":
                selects.append(f'CAST(f."{name}" AS {sql_type}) AS "{name}"')
            else:
                selects.append(f'CAST(? AS {sql_type}) AS "{name}"')
                params.append(defaults.get(name))
        self._con.register("_sw_frame", frame)
        try:
            staged = self._con.execute(f"SELECT {', '.join(selects)} FROM _sw_frame AS f", params).pl()
        except duckdb.Error as exc:
            raise WarehouseError(f"{table}: {one_line(exc)}") from None
        finally:
            self._con.unregister("_sw_frame")
        self._check(table, staged)
        return staged

    @staticmethod
    def _check(table: str, staged: pl.DataFrame) -> None:
        keys = list(schema.KEYS[table])
        null_keys = [key for key in keys if staged[key].null_count()]
        if null_keys:
            raise WarehouseError(f"{table}: null {', '.join(null_keys)} in {staged[null_keys[0]].null_count()} row(s)")
        duplicated = staged.filter(staged.select(keys).is_duplicated())
        if duplicated.height:
            example = ", ".join(str(v) for v in duplicated.row(0, named=True).values() if v is not None)
            raise WarehouseError(f"{table}: {duplicated.height} rows share a key ({', '.join(keys)}), e.g. {example}")
        for (enum_table, column), allowed in schema.ENUMS.items():
            if enum_table != table or column not in staged.columns:
                continue
            bad = staged.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(sorted(allowed)))
            if bad.height:
                raise WarehouseError(f"{table}.{column} must be one of {sorted(allowed)}, not {bad[column][0]!r}")

    @contextmanager
    def _registered(self, name: str, frame: pl.DataFrame) -> Iterator[None]:
        self._con.register(name, frame)
        try:
            yield
        finally:
            self._con.unregister(name)

    def _insert(self, table: str, staged: pl.DataFrame) -> None:
        with self._registered("_sw_rows", staged):
            self._con.execute(f"INSERT INTO {_table(table)} SELECT * FROM _sw_rows")

    # -- publishing ------------------------------------------------------------------

    def publish(
        self,
        run: RunRecord,
        *,
        prices: pl.DataFrame | None,
        month_end: pl.DataFrame | None,
        events: pl.DataFrame | None,
        summary: pl.DataFrame | None,
        baseline: pl.DataFrame | None = None,
        alerts: pl.DataFrame | None = None,
        settle: Callable[[], tuple[pl.DataFrame | None, str | None]] | None = None,
        replace_prices_for: Collection[str] = (),
        threshold: float | None = None,
        direction: str | None = None,
        basis: str | None = None,
    ) -> int:
        """Write all of a run in one transaction and return the snapshot (version) id.

        prices: upserted by (ticker, date) — an incoming row replaces the stored row of
        its session and adds the sessions not stored yet; stored sessions the frame does
        not mention stay (the flow passes only the rows that changed, so a revision
        inside the overlap window must not take its unchanged neighbours with it). For
        tickers in replace_prices_for the whole stored history is replaced (a
        restatement or --full). Rows whose values are already stored unchanged are left
        alone, so re-publishing the same data writes no prices.
        source/fetched_at default to run.source/run.started_at when the frame lacks them.
        month_end / events / summary (+ baseline, kind 'baseline'): every ticker that
        appears in any of them has all its rows in the three tables replaced; a ticker in
        none of them (e.g. one that failed this run) keeps its previous results.
        threshold / direction / basis fill those columns when the frames lack them.
        alerts: upserted by (ticker, month, kind); status defaults to 'pending'.
        settle: instead of `alerts`, a callable run inside the transaction once every
        other table is written; it delivers the run's alerts and returns (ledger rows,
        the run's message, None to keep run.message). Delivering as late as that leaves
        only the ledger and run rows and COMMIT between a delivery and the version that
        records it: a crash can re-send an alert in that moment (the next run does not
        know it went out), and never loses one.
        The run's `runs` row is written in the same snapshot. On any error nothing is
        written and the previous version stays current.
        """
        self._require_writable()
        lineage = {"run_id": run.run_id}
        study = {**lineage, "threshold": threshold, "direction": direction, "basis": basis}
        staged_prices = self._stage(
            "prices_daily", prices, {**lineage, "source": run.source, "fetched_at": run.started_at}
        )
        incoming = set(staged_prices["ticker"]) if staged_prices is not None else set()
        empty = set(replace_prices_for) - incoming
        if empty:
            raise WarehouseError(f"refusing to replace the price history of {', '.join(sorted(empty))} with no rows")
        summaries = [
            frame if "kind" in frame.columns else frame.with_columns(kind=pl.lit(kind))
            for frame, kind in ((summary, "events"), (baseline, "baseline"))
            if frame is not None and frame.height
        ]
        results = {
            "month_end": self._stage("month_end", month_end, study),
            "signal_events": self._stage("signal_events", events, study),
            "signal_summary": self._stage(
                "signal_summary", pl.concat(summaries, how="diagonal_relaxed") if summaries else None, study
            ),
        }
        result_tickers = sorted(set().union(*(set(f["ticker"]) for f in results.values() if f is not None)))
        alert_defaults = {**lineage, "status": "pending", "attempts": 0, "created_run": run.run_id}
        staged_alerts = self._stage("alerts", alerts, alert_defaults)
        crash_point("publish:staged")
        try:
            with self._transaction(f"{run.status} run {run.run_id}", {"run_id": run.run_id, "status": run.status}) as snapshot:
                crash_point("publish:begin")
                if staged_prices is not None:
                    self._upsert_prices(staged_prices, set(replace_prices_for))
                crash_point("publish:prices")
                for table, staged in results.items():
                    if result_tickers:
                        self._con.execute(f"DELETE FROM {_table(table)} WHERE list_contains(?, ticker)", [result_tickers])
                    if staged is not None:
                        self._insert(table, staged)
                crash_point("publish:results")
                if settle is not None:
                    ledger, message = settle()
                    run = run if message is None else dataclasses.replace(run, message=message)
                    staged_alerts = self._stage("alerts", ledger, alert_defaults)
                if staged_alerts is not None:
                    self._upsert_alerts(staged_alerts)
                crash_point("publish:ledger")
                self._insert_run(run, snapshot)
        except duckdb.Error as exc:
            raise WarehouseError(f"publishing run {run.run_id} failed, nothing was written: {one_line(exc)}") from None
        return snapshot

    def _upsert_prices(self, staged: pl.DataFrame, replace: set[str]) -> None:
        whole = pl.DataFrame({"ticker": sorted(replace)}, schema={"ticker": pl.String})
        same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM p.{c}" for c in PRICE_COLUMNS)
        with self._registered("_sw_prices", staged), self._registered("_sw_whole", whole):
            # Only the sessions the frame brings (or, for a replaced history, all of the
            # ticker's): deleting the frame's whole date range would drop the stored
            # sessions in between that did not change.
            self._con.execute(
                "DELETE FROM prices_daily AS p "
                "WHERE (EXISTS (SELECT 1 FROM _sw_whole AS w WHERE w.ticker = p.ticker) "
                "       OR EXISTS (SELECT 1 FROM _sw_prices AS k WHERE k.ticker = p.ticker AND k.date = p.date)) "
                f"AND NOT EXISTS (SELECT 1 FROM _sw_prices AS i WHERE {same})"
            )
            self._con.execute(
                "INSERT INTO prices_daily SELECT * FROM _sw_prices AS i "
                f"WHERE NOT EXISTS (SELECT 1 FROM prices_daily AS p WHERE {same})"
            )

    def _upsert_alerts(self, staged: pl.DataFrame) -> None:
        with self._registered("_sw_alerts", staged):
            self._con.execute(
                "DELETE FROM alerts AS a WHERE EXISTS (SELECT 1 FROM _sw_alerts AS s "
                "WHERE s.ticker = a.ticker AND s.month = a.month AND s.kind = a.kind)"
            )
            self._con.execute("INSERT INTO alerts SELECT * FROM _sw_alerts")

    def _insert_run(self, run: RunRecord, snapshot: int) -> None:
        self._con.execute(
            "INSERT INTO runs (run_id, started_at, finished_at, status, as_of, source, tickers, failed, "
            "rows_ingested, restated, snapshot_id, message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS JSON), CAST(? AS JSON), ?, ?, ?)",
            [
                run.run_id,
                run.started_at,
                run.finished_at or datetime.now(timezone.utc),
                run.status,
                run.as_of,
                run.source,
                list(run.tickers),
                json.dumps(dict(run.failed), sort_keys=True),
                json.dumps(dict(run.rows_ingested), sort_keys=True),
                list(run.restated),
                snapshot,
                run.message,
            ],
        )

    def record_run(self, run: RunRecord) -> int:
        """Write only the run's `runs` row, for a run that publishes nothing (failed
        validation, skipped). It is a snapshot of its own, holding no result rows, so the
        failure stays visible in `surgewatch versions` and in SQL."""
        try:
            with self._transaction(f"{run.status} run {run.run_id}", {"run_id": run.run_id, "status": run.status}) as snapshot:
                self._insert_run(run, snapshot)
        except duckdb.Error as exc:
            raise WarehouseError(f"recording run {run.run_id} failed: {one_line(exc)}") from None
        return snapshot

    # -- reads -----------------------------------------------------------------------

    def _read(self, query: str, params: list[Any] | None = None) -> pl.DataFrame:
        return self._fetch(lambda: self._con.execute(query, params or []).pl())

    def _rows(self, query: str) -> list[tuple]:
        return self._fetch(lambda: self._con.execute(query).fetchall())

    def _fetch(self, action: Callable[[], _T]) -> _T:
        try:
            return _retry_locked(self._catalog, action)
        except duckdb.Error as exc:
            raise WarehouseError(f"reading the warehouse failed: {self._catalog.redact(one_line(exc))}") from None

    def prices(self, tickers: Iterable[str] | None = None, as_of: date | None = None) -> pl.DataFrame:
        """Stored daily prices as the raw frame (ticker, date, open, high, low, close,
        adj_close, volume), sorted; optionally only some tickers and dates <= as_of."""
        wanted = None if tickers is None else list(tickers)
        return self._read(
            f"SELECT {', '.join(PRICE_COLUMNS)} FROM prices_daily "
            "WHERE (CAST(? AS VARCHAR[]) IS NULL OR list_contains(?, ticker)) "
            "AND (CAST(? AS DATE) IS NULL OR date <= ?) ORDER BY ticker, date",
            [wanted, wanted, as_of, as_of],
        )

    # -- queries ---------------------------------------------------------------------

    def sql(self, query: str, snapshot: int | None = None, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a user's query read-only, optionally as of version `snapshot`; `params`
        binds the query's `?` placeholders (callers in code: never format values in).

        Only SELECT (incl. SHOW, DESCRIBE, FROM …) and EXPLAIN statements are accepted:
        an ATTACH of the catalog without READ_ONLY would otherwise get past everything
        else, because the catalog's own database library opens that file, not DuckDB. The
        query then runs in a DuckDB of its own with the lake attached READ_ONLY (at
        SNAPSHOT_VERSION when asked; plain table names resolve to the lake), no file
        access beyond the lake's data files, and its configuration locked.
        """
        con = self._sandbox(snapshot)
        try:
            refused = sorted({s.type.name for s in con.extract_statements(query)} - _READ_STATEMENTS)
            if refused:
                raise WarehouseError(f"surgewatch sql only reads the warehouse: {', '.join(refused)} statements are refused")
            result = _retry_locked(self._catalog, lambda: con.execute(query, params or []))
            return result.pl() if result.description else pl.DataFrame()
        except duckdb.Error as exc:
            text = self._catalog.redact(one_line(exc))
            if isinstance(exc, duckdb.PermissionException) or "read-only mode" in text:
                raise WarehouseError(f"surgewatch sql only reads the warehouse: {text}") from None
            raise WarehouseError(text) from None

    def _sandbox(self, snapshot: int | None) -> duckdb.DuckDBPyConnection:
        # Loading the extensions costs ~0.25 s per DuckDB, so each sandbox is kept for
        # the warehouse's lifetime; without SNAPSHOT_VERSION it still reads the latest
        # version on every query.
        if snapshot not in self._sandboxes:
            con = self._catalog.connect()
            self._resources.callback(con.close)
            _attach(con, self._catalog, read_only=True, snapshot=snapshot)
            _lock_down(con)
            self._sandboxes[snapshot] = con
        return self._sandboxes[snapshot]

    def _snapshot_ids(self) -> set[int]:
        return {row[0] for row in self._rows(f"SELECT snapshot_id FROM {ALIAS}.snapshots()")}

    def versions(self) -> pl.DataFrame:
        """Every version: version (snapshot id), time, run_id, message, and which tables
        it created, inserted into or deleted from."""
        snapshots = self._rows(
            f"SELECT snapshot_id, snapshot_time, commit_extra_info, commit_message, changes "
            f"FROM {ALIAS}.snapshots() ORDER BY snapshot_id"
        )
        names = dict(self._rows(f"SELECT DISTINCT table_id, table_name FROM __ducklake_metadata_{ALIAS}.ducklake_table"))
        rows = []
        for version, at, extra, message, changes in snapshots:
            run_id = json.loads(extra).get("run_id") if extra else None
            rows.append((version, at, run_id, message, self._describe_changes(changes or {}, names)))
        return pl.DataFrame(rows, schema=_VERSIONS_SCHEMA, orient="row")

    @staticmethod
    def _describe_changes(changes: dict[str, list[str]], names: dict[int, str]) -> str:
        grouped: dict[str, set[str]] = {}
        for kind, items in changes.items():
            word = _CHANGE_WORDS.get(kind, kind)
            for item in items:
                name = names.get(int(item), item) if item.isdigit() else item.removeprefix("main.")
                grouped.setdefault(word, set()).add(name)
        return "; ".join(f"{word}: {', '.join(sorted(tables))}" for word, tables in grouped.items())

    def _columns_at(self, table: str, version: int) -> list[str] | None:
        try:
            cursor = self._con.execute(f"SELECT * FROM {_table(table)} AT (VERSION => ?) LIMIT 0", [version])
        except duckdb.CatalogException:
            return None  # the table did not exist yet at that version
        return [column[0] for column in cursor.description]

    @staticmethod
    def _rows_at(table: str, select: str, version: int, exists: bool, other: int) -> tuple[str, int]:
        """The query (and its version parameter) for a table's rows at a version; reading
        AT a version where the table did not exist yet fails, so that reads it empty."""
        if exists:
            return f"SELECT {select} FROM {_table(table)} AT (VERSION => ?)", version
        return f"SELECT {select} FROM {_table(table)} AT (VERSION => ?) WHERE false", other

    def diff(self, a: int, b: int) -> pl.DataFrame:
        """Rows of the result tables that differ between versions a and b: table, change
        ('added': in b not a; 'removed': in a not b), ticker, row (JSON of the values).

        Rows are compared on their values, without lineage columns (run_id, source,
        fetched_at, created_run, sent_run), so a re-run that recomputed the same numbers
        shows nothing; a changed row shows as one removed and one added.
        """
        known = self._snapshot_ids()
        for version in (a, b):
            if version not in known:
                raise WarehouseError(f"no version {version} in the warehouse; `surgewatch versions` lists them")
        parts = []
        for table in schema.RESULT_TABLES:
            before, after = self._columns_at(table, a), self._columns_at(table, b)
            if before is None and after is None:
                continue
            columns = [
                c
                for c in (after or before)
                if c not in schema.LINEAGE and (before is None or c in before) and (after is None or c in after)
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            old, old_at = self._rows_at(table, select, a, before is not None, b)
            new, new_at = self._rows_at(table, select, b, after is not None, a)
            parts.append(
                self._read(
                    f"SELECT ? AS \"table\", 'added' AS change, d.ticker, CAST(to_json(d) AS VARCHAR) AS row "
                    f"FROM ({new} EXCEPT ALL {old}) AS d "
                    f"UNION ALL SELECT ?, 'removed', d.ticker, CAST(to_json(d) AS VARCHAR) "
                    f"FROM ({old} EXCEPT ALL {new}) AS d",
                    [table, new_at, old_at, table, old_at, new_at],
                )
            )
        if not parts:
            return pl.DataFrame(schema=_DIFF_SCHEMA)
        order = {table: i for i, table in enumerate(schema.RESULT_TABLES)}
        result = pl.concat(parts).cast(_DIFF_SCHEMA)
        return (
            result.with_columns(_order=pl.col("table").replace_strict(order, return_dtype=pl.Int32))
            .sort("_order", "ticker", "row", "change")
            .drop("_order")
        )

    def shell_command(self) -> list[str]:
        """The argv that starts the DuckDB CLI (from the duckdb-cli wheel) with the
        extensions loaded from their wheels and the warehouse attached as `lake` (USE'd).

        The lake is attached READ_ONLY: snapshots are the audit trail of the runs, and a
        shell write would bypass the writer lock. The statements (which may hold the S3
        secret and the catalog's password) reach the CLI through a pipe, never the
        command line or a file: see extensions.cli_argv.
        """
        return cli_argv([*self._catalog.setup_statements(), self._catalog.attach_sql(read_only=True), f"USE {ALIAS}"])
