"""What the reliability tests share: a price path that triggers one alert on a chosen
night, reading a warehouse exactly, and the invariants every published version keeps."""

import datetime as dt
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import polars as pl

from surgewatch.sources import RAW_SCHEMA
from surgewatch.core.errors import WarehouseError
from tests.factories import open_read_only
from tests.fake_providers import bars_from_closes, sessions
from tests.receiver import Receiver
from surgewatch.warehouse import Warehouse
from surgewatch.warehouse import schema

# The nights the tests replay: history ends the night before CROSSING; on CROSSING every
# ticker's June move jumps past +10% (one provisional alert each); AFTER is the next night.
FIRST_DAY = dt.date(2024, 1, 2)
BEFORE = dt.date(2025, 6, 11)
CROSSING = dt.date(2025, 6, 12)
AFTER = dt.date(2025, 6, 13)
DAYS = sessions(FIRST_DAY, dt.date(2025, 6, 30))
# Every table the warehouse declares a result (signal_stats and whatever comes next) but
# the alert ledger, whose rows record deliveries (times, attempts) and are counted apart.
RESULT_TABLES = tuple(t for t in schema.RESULT_TABLES if t != "alerts")
VALUE_COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")


def surge_bars(days: list[dt.date] = DAYS, crossing: dt.date = CROSSING) -> pl.DataFrame:
    """Flat bars (±0.5 %) until `crossing`, then +12 % and a little more each session.

    Values are multiples of 1/8 (exact in binary and in decimal text), so every provider's
    round trip compares with ==.
    """
    closes = []
    for i, day in enumerate(days):
        closes.append(
            100.0 + (i % 3) * 0.25 if day < crossing else 112.0 + 0.5 * sum(d > crossing for d in days[: i + 1])
        )
    return bars_from_closes(days, closes).select("date", *VALUE_COLUMNS)


def write_csvs(folder: Path, tickers: list[str], bars: pl.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for ticker in tickers:
        bars.write_csv(folder / f"{ticker}.csv")
    return folder


def expected_prices(bars: pl.DataFrame, ticker: str, through: dt.date, *, adj_close: bool = True) -> pl.DataFrame:
    """The raw rows a clean run stores for `ticker` through `through`."""
    frame = bars.filter(pl.col("date") <= through).with_columns(ticker=pl.lit(ticker))
    if not adj_close:
        frame = frame.with_columns(adj_close=pl.lit(None, pl.Float64))
    return frame.select(RAW_SCHEMA.names()).cast(RAW_SCHEMA).sort("date")


def rows_lost(stored: pl.DataFrame, expected: pl.DataFrame) -> int:
    """Expected rows that are missing from `stored` or stored with other values."""
    if expected.is_empty():
        return 0
    kept = expected.join(stored.select(expected.columns), on=expected.columns, how="semi", nulls_equal=True)
    return expected.height - kept.height


def read(home: Path, query: str, params: list | None = None) -> pl.DataFrame:
    with open_read_only(home) as wh:
        return wh.sql(query, params=params)


def fingerprint(wh: Warehouse, version: int | None = None) -> dict[str, int]:
    """Row counts of the result tables (and runs/alerts) at a version (None: latest)."""
    at = "" if version is None else f" AT (VERSION => {int(version)})"
    return {t: wh.sql(f"SELECT count(*) AS n FROM {t}{at}")["n"].item() for t in (*RESULT_TABLES, "runs", "alerts")}


def content(wh: Warehouse, version: int | None = None) -> dict[str, pl.DataFrame]:
    """The result tables' rows without lineage (run ids, fetch times), sorted: what a
    complete run at the same as-of must reproduce exactly."""
    at = "" if version is None else f" AT (VERSION => {int(version)})"
    out = {}
    for table in RESULT_TABLES:
        frame = wh.sql(f"SELECT * FROM {table}{at}")
        frame = frame.drop([c for c in schema.LINEAGE if c in frame.columns])
        out[table] = frame.sort(frame.columns)
    return out


def same_content(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> list[str]:
    return [t for t in RESULT_TABLES if not a[t].equals(b[t])]


def version_problems(wh: Warehouse, *, coherent: bool = True) -> list[str]:
    """Every published version must be one whole run: the checks of SPEC §4 ("each
    successful run publishes one snapshot that contains all of that run's changes").

    - a run's version holds exactly one `runs` row naming that version;
    - no result row, and no alert, belongs to a run the `runs` table does not know;
    - (coherent) each ticker's month_end reaches the last stored session of its prices,
      i.e. results and prices come from the same run.
    """
    problems = []
    versions = wh.versions()
    for version, run_id in versions.select("version", "run_id").iter_rows():
        at = f" AT (VERSION => {int(version)})"
        try:
            runs = wh.sql(f"SELECT run_id, snapshot_id FROM runs{at}")
        except WarehouseError:  # a version from before the tables existed
            continue
        if run_id is not None and runs.filter(pl.col("snapshot_id") == version).height != 1:
            problems.append(
                f"version {version}: {runs.filter(pl.col('snapshot_id') == version).height} runs rows name it"
            )
        for table, column in (*((t, "run_id") for t in RESULT_TABLES), ("alerts", "created_run")):
            try:
                orphans = wh.sql(
                    f"SELECT count(*) AS n FROM {table}{at} WHERE {column} NOT IN (SELECT run_id FROM runs{at})"
                )["n"].item()
            except WarehouseError as exc:  # a version from before a later migration added the table
                if "does not exist at version" not in str(exc):
                    raise
                continue
            if orphans:
                problems.append(f"version {version}: {orphans} {table} row(s) of a run not in runs")
        if coherent:
            mismatched = wh.sql(
                f"SELECT coalesce(p.ticker, m.ticker) AS ticker FROM "
                f"(SELECT ticker, max(date) AS d FROM prices_daily{at} GROUP BY ticker) AS p FULL JOIN "
                f"(SELECT ticker, max(as_of) AS a FROM month_end{at} GROUP BY ticker) AS m ON p.ticker = m.ticker "
                f"WHERE p.d IS DISTINCT FROM m.a"
            )
            if mismatched.height:
                problems.append(f"version {version}: results and prices disagree for {mismatched['ticker'].to_list()}")
    return problems


def orphan_files(home: Path) -> int:
    """Data files under the lake that no version of the catalog references: what a kill
    inside a publish leaves behind (written, never committed). Invisible to every reader;
    DuckLake's ducklake_delete_orphaned_files() reclaims them."""
    con = sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        known = {
            Path(row[0]).name
            for table in ("ducklake_data_file", "ducklake_delete_file", "ducklake_files_scheduled_for_deletion")
            for row in con.execute(f"SELECT path FROM {table}")
        }
    finally:
        con.close()
    return sum(path.name not in known for path in (home / "lake").rglob("*.parquet"))


def restore(template: Path, home: Path) -> None:
    """Put a saved warehouse back at the same path (DuckLake keeps absolute data paths)."""
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(template, home)


class _Stamped(list):
    """A list that notes when each item arrived (wall clock, comparable with DuckLake's
    snapshot times)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def append(self, item: object) -> None:
        self.arrivals.append(time.time())
        super().append(item)

    def clear(self) -> None:
        self.arrivals.clear()
        super().clear()


class StampedReceiver(Receiver):
    """tests/receiver.py's json:// receiver, noting each message's arrival time."""

    def __init__(self) -> None:
        super().__init__()
        self.messages = _Stamped()

    def clear(self) -> None:
        self.messages.clear()


class CommitWatcher:
    """Notes the wall-clock moment a new version appears in a SQLite catalog (polled
    every 2 ms, read-only; the catalog is in WAL mode, so this never blocks a writer)."""

    def __init__(self, catalog: Path):
        self._catalog = catalog
        self._stop = threading.Event()
        self.committed_at: float | None = None
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _latest(self, con: sqlite3.Connection) -> int:
        return con.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()[0]

    def _watch(self) -> None:
        con = sqlite3.connect(f"file:{self._catalog}?mode=ro", uri=True, timeout=1)
        try:
            first = self._latest(con)
            while not self._stop.is_set() and self.committed_at is None:
                try:
                    if self._latest(con) != first:
                        self.committed_at = time.time()
                except sqlite3.OperationalError:
                    pass
                time.sleep(0.002)
        finally:
            con.close()

    def __enter__(self) -> "CommitWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
