"""What the report shows, read from the warehouse in one place and through `Warehouse.sql`.

Everything goes through the read-only SQL sandbox, so building a report can never write
to the warehouse, and every figure in it can be reproduced with `surgewatch sql`.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from surgewatch.core.errors import InputError
from surgewatch.study.published import Audit, audit_published, published_summary_beside
from surgewatch.core.params import StudyParams
from surgewatch.core.tables import MONTH_END, SIGNAL_EVENTS, SIGNAL_SUMMARY, result_columns
from surgewatch.core.tickers import normalize_ticker
from surgewatch.warehouse import Warehouse
from surgewatch.core.frames import latest_date
from surgewatch.transforms import BASIS_COLUMN

# The basis → price column rule (transforms.BASIS_COLUMN) as SQL.
_BASIS_CASES = " ".join(f"WHEN '{basis}' THEN p.{column}" for basis, column in BASIS_COLUMN.items())

_EVENT_COLUMNS = result_columns(SIGNAL_EVENTS)
_MONTH_END_COLUMNS = result_columns(MONTH_END)
_SUMMARY_COLUMNS = result_columns(SIGNAL_SUMMARY)


@dataclass(frozen=True)
class RunInfo:
    """One row of the `runs` table, as the report's lineage line needs it."""

    run_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    as_of: date | None
    source: str | None
    tickers: tuple[str, ...]
    snapshot_id: int | None
    failed: dict[str, str]
    message: str | None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, one warehouse version's worth.

    studies: ticker, threshold, direction, basis (the parameters the stored results
    were computed with; one row per ticker). events: signal_events. summary:
    signal_summary, kind 'events' and 'baseline'. month_end: every month's close (basis
    price), forward returns, drawdowns and context fields. closes: ticker, date, price (the daily basis price).
    lineage: per ticker and run that wrote some of its prices, the sessions it wrote
    (first, last, count), their source and time, and every run that wrote its results.
    last_published: the latest run that published; latest_run: the latest run whatever
    its status (so a failure after it is shown, not hidden). stats: signal_stats, the
    §2b figures per ticker and horizon with the resamples and seed they were drawn with.
    """

    tickers: tuple[str, ...]
    studies: pl.DataFrame
    events: pl.DataFrame
    summary: pl.DataFrame
    month_end: pl.DataFrame
    closes: pl.DataFrame
    lineage: pl.DataFrame
    last_published: RunInfo | None
    latest_run: RunInfo | None
    stats: pl.DataFrame = field(default_factory=pl.DataFrame)
    context: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Stored context series (name, date, value, source): their fields beside each event."""

    @property
    def horizons(self) -> tuple[int, ...]:
        """The forward horizons (months) the summary covers."""
        return tuple(sorted(set(self.summary["horizon"].to_list())))

    def draws(self, ticker: str) -> tuple[int, int]:
        """The resamples B and seed ticker's stored §2b figures were drawn with (the
        study's defaults for a warehouse that stored none)."""
        defaults = StudyParams()
        stored = self.stats.filter(pl.col("ticker") == ticker) if "ticker" in self.stats.columns else self.stats
        if stored.is_empty() or stored["resamples"][0] is None:
            return defaults.resamples, defaults.seed
        return int(stored["resamples"][0]), int(stored["seed"][0])

    @property
    def last_session(self) -> date | None:
        """The latest session held for any ticker."""
        return latest_date(self.lineage["last_session"])


@dataclass(frozen=True)
class PublishedAudit:
    """The published-vs-computed comparison (SPEC §3) with what it was made from."""

    ticker: str
    table: str
    audit: Audit


def _columns(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _run(row: dict) -> RunInfo:
    return RunInfo(
        run_id=row["run_id"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        as_of=row["as_of"],
        source=row["source"],
        tickers=tuple(row["tickers"] or ()),
        snapshot_id=row["snapshot_id"],
        failed=json.loads(row["failed"]) if row["failed"] else {},
        message=row["message"],
    )


def _runs(wh: Warehouse) -> tuple[RunInfo | None, RunInfo | None]:
    runs = wh.sql(
        "SELECT run_id, status, started_at, finished_at, as_of, source, tickers, snapshot_id, "
        "CAST(failed AS VARCHAR) AS failed, message FROM runs "
        # `context add` / `drop` runs publish a series, not a night: the report's run is a refresh.
        "WHERE source IS DISTINCT FROM 'context' ORDER BY started_at DESC NULLS LAST"
    )
    published = runs.filter(pl.col("status").is_in(["published", "partial"]))
    latest = _run(runs.row(0, named=True)) if runs.height else None
    last_published = _run(published.row(0, named=True)) if published.height else None
    return last_published, latest


def _universe_order(held: list[str], run: RunInfo | None) -> tuple[str, ...]:
    """The universe in the order the last run named it (IWM, SPY, QQQ), then any other."""
    named = run.tickers if run is not None else ()
    return tuple([t for t in named if t in held] + sorted(set(held) - set(named)))


def _results_runs(wh: Warehouse) -> pl.DataFrame:
    """Per ticker, `results_runs`: every run that wrote some of its result rows (month_end,
    signal_events, signal_summary) as {run, rows}, oldest first."""
    return wh.sql(
        "SELECT ticker, list({'run': run_id, 'rows': n} ORDER BY started_at NULLS LAST, run_id) AS results_runs "
        "FROM (SELECT ticker, run_id, count(*) AS n FROM (SELECT ticker, run_id FROM month_end "
        "UNION ALL SELECT ticker, run_id FROM signal_events UNION ALL SELECT ticker, run_id FROM signal_summary) "
        "GROUP BY ticker, run_id) LEFT JOIN runs USING (run_id) GROUP BY ticker"
    )


def load_report_data(wh: Warehouse) -> ReportData:
    """Read the stored results, daily closes and lineage the report needs.

    Raises InputError when the warehouse holds no results yet.
    """
    summary = wh.sql(f"SELECT {_columns(_SUMMARY_COLUMNS)} FROM signal_summary ORDER BY ticker, kind, horizon")
    if summary.is_empty():
        raise InputError("the warehouse holds no results yet; run `surgewatch refresh` first")
    studies = wh.sql(
        "SELECT ticker, any_value(threshold) AS threshold, any_value(direction) AS direction, "
        "any_value(basis) AS basis FROM signal_summary GROUP BY ticker"
    )
    # Per row, the run that wrote it: a ticker's history from its first run, each later
    # night's sessions from that night's run; results likewise, in the order the runs started.
    lineage = wh.sql(
        "SELECT ticker, min(date) AS first_session, max(date) AS last_session, count(*) AS sessions, "
        "arg_max(source, fetched_at) AS source, max(fetched_at) AS fetched_at, run_id AS prices_run "
        "FROM prices_daily GROUP BY ticker, run_id"
    ).join(_results_runs(wh), on="ticker", how="left")
    # The daily price on the basis each ticker's results were computed on.
    closes = wh.sql(
        f"SELECT p.ticker, p.date, CASE s.basis {_BASIS_CASES} END AS price "
        "FROM prices_daily AS p JOIN (SELECT DISTINCT ticker, basis FROM signal_summary) AS s USING (ticker) "
        "ORDER BY p.ticker, p.date"
    )
    last_published, latest_run = _runs(wh)
    return ReportData(
        tickers=_universe_order(studies["ticker"].to_list(), last_published),
        studies=studies,
        events=wh.sql(f"SELECT {_columns(_EVENT_COLUMNS)} FROM signal_events ORDER BY ticker, month"),
        summary=summary,
        month_end=wh.sql(f"SELECT {_columns(_MONTH_END_COLUMNS)} FROM month_end ORDER BY ticker, month"),
        closes=closes,
        lineage=lineage.sort("ticker", "first_session"),
        last_published=last_published,
        latest_run=latest_run,
        stats=wh.sql(
            "SELECT * EXCLUDE (threshold, direction, basis, run_id) FROM signal_stats ORDER BY ticker, horizon"
        ),
        context=wh.context_series(),
    )


def load_published_audit(wh: Warehouse, ticker: str, table: Path, summary: Path | None = None) -> PublishedAudit:
    """Audit a published table (and its summary, default: published_summary_beside) of
    `ticker` against the study computed from the warehouse's prices of that ticker."""
    symbol = normalize_ticker(ticker)
    prices = wh.prices([symbol])
    if prices.is_empty():
        raise InputError(f"{symbol} is not in the warehouse, so its published table cannot be checked")
    audit = audit_published(prices, table, summary if summary is not None else published_summary_beside(table))
    return PublishedAudit(ticker=symbol, table=table.name, audit=audit)
