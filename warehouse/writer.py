"""Writing a run: one transaction (one snapshot) handing out typed operations.

    with wh.write(run) as tx:
        tx.prices(frame, replace={"IWM"})
        tx.results(month_end=..., events=..., summary=..., baseline=..., stats=..., params=StudyParams(...))
        ...                                 # e.g. deliver the run's alerts
        tx.alerts(ledger)
        tx.note("1 alert failed")           # the run row's message
    tx.snapshot                             # the version the run became

Leaving the block writes the run's `runs` row and commits; an exception anywhere in it
rolls everything back, so the previous version stays current.
"""

import dataclasses
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import duckdb
import polars as pl

from surgewatch.core.errors import WarehouseError, one_line
from surgewatch.core.faults import Step, reach
from surgewatch.warehouse import schema
from surgewatch.warehouse.connection import transaction
from surgewatch.warehouse.records import RunRecord
from surgewatch.warehouse.staging import Rows, Stager, registered, table_name
from surgewatch.core.params import StudyParams


class Writer:
    """The operations of one open run transaction (see the module docstring)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, stager: Stager, run: RunRecord, snapshot: int):
        self._con = con
        self._stager = stager
        self.run = run
        self.snapshot = snapshot
        """The id of the version this run becomes when it commits."""
        self._held: dict[str, set[str]] = {}

    def prices(self, rows: Rows | None, *, replace: Collection[str] = ()) -> None:
        """Upsert daily prices by (ticker, date), from a frame or Parquet files.

        An incoming row replaces the stored row of its session and adds the sessions not
        stored yet; stored sessions the rows do not mention stay (the flow passes only
        the rows that changed, so a revision inside the overlap window must not take its
        unchanged neighbours with it). For tickers in `replace` the whole stored history
        is replaced (a restatement or --full). Rows already stored unchanged are left
        alone, so re-publishing the same data writes no prices. source/fetched_at default
        to run.source/run.started_at when the rows lack them.
        """
        if _nothing(rows) and not replace:
            return
        defaults = {"run_id": self.run.run_id, "source": self.run.source, "fetched_at": self.run.started_at}
        with self._stager.staged("prices_daily", rows, defaults) as view:
            incoming = self._tickers_in(view)
            empty = set(replace) - incoming
            if empty:
                raise WarehouseError(
                    f"refusing to replace the price history of {', '.join(sorted(empty))} with no rows"
                )
            self._upsert("prices_daily", view, whole=replace, incoming=incoming)
        reach(Step.PUBLISH_PRICES)

    def results(
        self,
        *,
        month_end: pl.DataFrame | None,
        events: pl.DataFrame | None,
        summary: pl.DataFrame | None,
        baseline: pl.DataFrame | None = None,
        stats: pl.DataFrame | None = None,
        params: StudyParams | None = None,
        month_end_changes: Collection[str] = (),
    ) -> None:
        """Make the stored results of every ticker in the frames equal to the frames.

        A ticker that appears in any of month_end / events / summary (+ baseline, kind
        'baseline') / stats (signal_stats, SPEC §2b) ends with exactly the frames' rows in each
        table: only the rows whose values changed are written and its keys the frames no
        longer hold are deleted (see _upsert); a ticker in none of them (e.g. one that failed this run) keeps its
        previous results. params (the study's) fill the columns the frames lack:
        threshold, direction, basis, and the §2b figures' resamples and seed. For the tickers in `month_end_changes`, month_end holds only
        the rows that changed (a night's): their other stored month_end rows stay.
        """
        asked = {}
        if params is not None:
            asked = {k: getattr(params, k) for k in ("threshold", "direction", "basis", "resamples", "seed")}
        defaults = {"run_id": self.run.run_id, **asked}
        summaries = [
            frame if "kind" in frame.columns else frame.with_columns(kind=pl.lit(kind))
            for frame, kind in ((summary, "events"), (baseline, "baseline"))
            if frame is not None and frame.height
        ]
        frames = {
            "month_end": month_end,
            "signal_events": events,
            "signal_summary": pl.concat(summaries, how="diagonal_relaxed") if summaries else None,
            "signal_stats": stats,
        }
        tickers = sorted(set().union(*(set(f["ticker"]) for f in frames.values() if f is not None and f.height)))
        partial = set(month_end_changes)
        for table, frame in frames.items():
            mine = [t for t in tickers if t not in partial] if table == "month_end" else tickers
            if _nothing(frame) and not mine:
                continue
            with self._stager.staged(table, frame, defaults) as view:
                self._upsert(table, view, whole=mine)
        reach(Step.PUBLISH_RESULTS)

    def alerts(self, frame: pl.DataFrame | None) -> None:
        """Upsert alert ledger rows by (ticker, month, kind); status defaults to 'pending'."""
        defaults = {"run_id": self.run.run_id, "status": "pending", "attempts": 0, "created_run": self.run.run_id}
        if not _nothing(frame):
            with self._stager.staged("alerts", frame, defaults) as view:
                self._upsert("alerts", view)
        reach(Step.PUBLISH_LEDGER)

    def context(self, rows: pl.DataFrame, *, drop: Collection[str] = ()) -> None:
        """Make the stored context series named in `rows` (name, date, value, source)
        equal to them, writing only the rows that changed, and delete the series in
        `drop`. Their other series stay."""
        name = table_name("context_series")
        for series in drop:
            self._con.execute(f"DELETE FROM {name} WHERE name = ?", [series])
        if _nothing(rows):
            return
        with self._stager.staged("context_series", rows, {"run_id": self.run.run_id}) as view:
            mine = f"(SELECT rowid, * FROM {name} WHERE name IN (SELECT DISTINCT name FROM {view}))"
            same = " AND ".join(f'i."{c}" IS NOT DISTINCT FROM t."{c}"' for c in ("name", "date", "value", "source"))
            self._con.execute(
                f"DELETE FROM {name} WHERE rowid IN (SELECT t.rowid FROM {mine} AS t ANTI JOIN {view} AS i ON {same})"
            )
            self._con.execute(f"INSERT INTO {name} SELECT i.* FROM {view} AS i ANTI JOIN {mine} AS t ON {same}")

    def note(self, message: str) -> None:
        """Set the message of the run's `runs` row (e.g. alerts that could not be sent)."""
        self.run = dataclasses.replace(self.run, message=message)

    def _upsert(self, table: str, view: str, whole: Collection[str] = (), incoming: set[str] | None = None) -> None:
        """Upsert `table` by its key from the staged `view`, writing only what changed
        (SPEC §4: a snapshot holds only what changed, and lineage columns alone are no
        change).

        In scope are the stored rows whose key the view brings and every stored row of
        the tickers in `whole`. A row in scope is deleted unless the view holds it with
        the same values; a view row is inserted unless it is stored with the same values.
        "Same" compares every column but schema.LINEAGE, NULL equal to NULL, read from the
        catalog, so an added column or table needs no change here. An unchanged row
        therefore keeps its stored copy and lineage, a changed one is replaced, and a key
        of a `whole` ticker that the view lacks is deleted. incoming: the view's tickers,
        when the caller has read them already.
        """
        name = table_name(table)
        incoming = self._tickers_in(view) if incoming is None else incoming
        held = self._tickers_held(name)
        if not (incoming | set(whole)) & held:
            # Nothing stored to compare with (a first load): the rows go straight in.
            self._con.execute(f"INSERT INTO {name} SELECT * FROM {view}")
            held |= incoming
            return
        held |= incoming
        scope = pl.DataFrame({"ticker": sorted(whole)}, schema={"ticker": pl.String})
        values = [column for column, _ in self._stager.columns(table) if column not in schema.LINEAGE]
        same = " AND ".join(f'i."{c}" IS NOT DISTINCT FROM t."{c}"' for c in values)
        keys = " AND ".join(f'k."{c}" = s."{c}"' for c in schema.KEYS[table])
        # The rows in scope, found by semi joins probing the table with the few keys and
        # tickers given (never a hash of the table), then compared with the view.
        in_scope = (
            f"SELECT s.rowid, s.* FROM {name} AS s SEMI JOIN _sw_whole AS w ON w.ticker = s.ticker "
            f"UNION ALL SELECT s.rowid, s.* FROM {name} AS s SEMI JOIN {view} AS k ON {keys}"
        )
        with registered(self._con, "_sw_whole", scope):
            self._con.execute(
                f"DELETE FROM {name} WHERE rowid IN "
                f"(SELECT t.rowid FROM ({in_scope}) AS t ANTI JOIN {view} AS i ON {same})"
            )
            self._con.execute(
                f"INSERT INTO {name} SELECT i.* FROM {view} AS i ANTI JOIN "
                f"(SELECT s.* FROM {name} AS s SEMI JOIN {view} AS k ON {keys}) AS t ON {same}"
            )

    def _tickers_in(self, relation: str) -> set[str]:
        return {t for (t,) in self._con.execute(f"SELECT DISTINCT ticker FROM {relation}").fetchall()}

    def _tickers_held(self, table: str) -> set[str]:
        """The tickers with rows in `table`, stored or written in this transaction (a
        superset: a ticker whose rows this transaction deleted stays in it)."""
        if table not in self._held:
            self._held[table] = self._tickers_in(table)
        return self._held[table]


def _nothing(rows: Rows | None) -> bool:
    return rows is None or len(rows) == 0


def _message(run: RunRecord) -> tuple[str, dict[str, str]]:
    return f"{run.status} run {run.run_id}", {"run_id": run.run_id, "status": run.status}


@contextmanager
def write(con: duckdb.DuckDBPyConnection, stager: Stager, run: RunRecord) -> Iterator[Writer]:
    """Open the run's transaction, hand out its Writer, then write the run row and commit.

    A DuckDB error anywhere inside becomes one WarehouseError; nothing is written then.
    """
    try:
        with transaction(con, *_message(run)) as snapshot:
            reach(Step.PUBLISH_BEGIN)
            tx = Writer(con, stager, run, snapshot)
            yield tx
            insert_run(con, tx.run, snapshot)
    except duckdb.Error as exc:
        raise WarehouseError(f"publishing run {run.run_id} failed, nothing was written: {one_line(exc)}") from None


def record_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> int:
    """Write only the run's `runs` row, for a run that publishes nothing (failed
    validation, skipped). It is a snapshot of its own, holding no result rows, so the
    failure stays visible in `surgewatch versions` and in SQL."""
    try:
        with transaction(con, *_message(run)) as snapshot:
            insert_run(con, run, snapshot)
    except duckdb.Error as exc:
        raise WarehouseError(f"recording run {run.run_id} failed: {one_line(exc)}") from None
    return snapshot


def insert_run(con: duckdb.DuckDBPyConnection, run: RunRecord, snapshot: int) -> None:
    """The run's `runs` row, naming the snapshot it is written in."""
    con.execute(
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
