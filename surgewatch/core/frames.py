"""Row order of frames keyed by (ticker, key), shared by the transforms and the schemas.

Frames usually arrive sorted by (ticker, key): check that in O(n) without hashing, and
only sort when they are not. A frame's ticker runs (one row per run of equal consecutive
tickers) describe that order once, so per-ticker work can use row ranges instead of
hashing ticker strings.
"""

import datetime as dt

import numpy as np
import polars as pl


def ticker_runs(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per run of equal consecutive tickers: ticker, start (first row), rows."""
    runs = frame.select(pl.col("ticker").rle()).unnest("ticker")
    return runs.select(
        pl.col("value").alias("ticker"),
        (pl.col("len").cum_sum() - pl.col("len")).cast(pl.UInt32).alias("start"),
        pl.col("len").cast(pl.UInt32).alias("rows"),
    )


def in_order(frame: pl.DataFrame, key: str, runs: pl.DataFrame) -> bool:
    """Sorted by (ticker, key), key strictly rising per ticker, given frame's ticker runs:
    run tickers strictly rising (each ticker one run, in order), and every step back of
    key falls on a run start."""
    if frame.height < 2:
        return True
    if frame[key].null_count():
        return False
    values = runs["ticker"]
    if values.len() > 1 and not (values.slice(1) > values.slice(0, values.len() - 1)).all():
        return False
    keys = frame[key].to_physical().to_numpy()  # numpy: a third of the time of Series.diff here
    steps_back = np.flatnonzero(keys[1:] <= keys[:-1]) + 1
    return bool(np.isin(steps_back, runs["start"].to_numpy()).all())


def sorted_with_runs(
    frame: pl.DataFrame, key: str, runs: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frame sorted by (ticker, key), its ticker runs); frame as is when already sorted.
    runs: what this returned for frame before (a caller passing one frame to several
    transforms), taken as they are instead of found again (0.15 s at 22M rows)."""
    if runs is not None:
        return frame, runs
    runs = ticker_runs(frame)
    if in_order(frame, key, runs):
        return frame, runs
    frame = frame.sort("ticker", key)
    return frame, ticker_runs(frame)


def is_sorted_by_ticker(frame: pl.DataFrame, key: str) -> bool:
    """True when frame is sorted by (ticker, key) with key strictly rising per ticker."""
    return in_order(frame, key, ticker_runs(frame))


def sorted_by_ticker(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """frame sorted by (ticker, key): as is when it already is, else sorted."""
    return sorted_with_runs(frame, key)[0]


def latest_date(column: pl.Series) -> dt.date | None:
    """The latest date of a Date column; None when it holds none."""
    value = column.max()
    return value if isinstance(value, dt.date) else None


def date_span(column: pl.Series) -> tuple[dt.date, dt.date]:
    """(first, last) date of a Date column that holds at least one."""
    first, last = column.min(), column.max()
    if not (isinstance(first, dt.date) and isinstance(last, dt.date)):
        raise ValueError(f"no date in column {column.name!r}")
    return first, last
