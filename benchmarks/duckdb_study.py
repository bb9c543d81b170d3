"""The study in DuckDB SQL (benchmarks/duckdb_study.sql): the second peer of the benchmark.

Independent of the engine's code, like the pandas reference: the SQL reads a `prices`
table and a `last_sessions` table (the last NYSE session of each month, straight from
exchange_calendars) and writes `monthly`, `events`, `summary` and `baseline`. The SQL is
the benchmark's study (price basis, threshold crossed upwards, horizons 1, 3, 6, 12);
the threshold is a DuckDB variable.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

SQL = Path(__file__).with_name("duckdb_study.sql")
HORIZONS, DIRECTION, BASIS = (1, 3, 6, 12), "up", "price"
RESULTS = ("monthly", "events", "summary", "baseline")


def connect(prices: pl.DataFrame | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the `prices` table (from a frame or a Parquet file) and
    `last_sessions` over its span: what the study reads, loaded before any timing."""
    from benchmarks.pandas_study import nyse_last_sessions

    con = duckdb.connect()
    if isinstance(prices, Path):
        con.execute("CREATE TABLE prices AS FROM read_parquet(?)", [str(prices)])
    else:
        con.register("prices_frame", prices)
        con.execute("CREATE TABLE prices AS FROM prices_frame")
        con.unregister("prices_frame")
    start, end = con.execute("SELECT min(date), max(date) FROM prices").fetchone()  # type: ignore[misc]
    last = nyse_last_sessions(start, end)
    sessions = pl.DataFrame(
        {"month": [p.start_time.date() for p in last.index], "last_session": [d.date() for d in last]}
    )
    con.register("sessions_frame", sessions)
    con.execute("CREATE TABLE last_sessions AS FROM sessions_frame")
    con.unregister("sessions_frame")
    return con


def run(con: duckdb.DuckDBPyConnection, threshold: float) -> None:
    """Run the study's SQL; its results stay in the connection's temporary tables."""
    con.execute("SET VARIABLE threshold = ?", [threshold])
    con.execute(SQL.read_text())


def results(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """monthly, events, summary and baseline as polars frames."""
    return {name: con.sql(f"FROM {name}").pl() for name in RESULTS}


def duckdb_study(prices: pl.DataFrame, threshold: float = 0.10) -> dict[str, pl.DataFrame]:
    """The whole study on a frame of daily prices (for tests)."""
    con = connect(prices)
    try:
        run(con, threshold)
        return results(con)
    finally:
        con.close()
