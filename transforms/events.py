"""Monthly returns → the qualifying months (events) with the day the move first crossed."""

import numpy as np
import polars as pl

from surgewatch.core.frames import sorted_by_ticker
from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import run_ids
from surgewatch.transforms.types import BASIS_COLUMN, Basis, Direction
from surgewatch.core.vocabulary import crossed


def signal_events(
    monthly_returns: pl.DataFrame,
    prices: pl.DataFrame,
    threshold: float,
    direction: Direction = "up",
    basis: Basis = "price",
) -> pl.DataFrame:
    """Events: months with move >= threshold (up) or move <= -threshold (down), partial
    months included (provisional).

    first_crossed_on = the first session d of m with P[d] / C[m-1] - 1 past the threshold,
    P the daily basis price and C[m-1] the previous month-end close.
    """
    months, runs = sorted_with_runs(monthly_returns, "month")
    tid, close = run_ids(runs), pl.col("close")
    months = months.with_columns(previous_close=pl.when(tid.shift(1) == tid).then(close.shift(1)))
    events = months.filter(crossed(pl.col("move"), threshold, direction))
    prices = sorted_by_ticker(prices, "date")
    rows = _month_rows(months, prices)
    if rows is None:  # months not built from exactly these rows: match by key instead
        first = _first_crossed_by_join(events, prices, threshold, direction, basis)
    else:
        first = _first_crossed_by_rows(events, months, rows, prices, threshold, direction, basis)
    return events.with_columns(first_crossed_on=first).drop("previous_close")


def _month_rows(months: pl.DataFrame, prices: pl.DataFrame) -> np.ndarray | None:
    """Row of prices where each month starts, when months (sorted, with sessions counts)
    partition prices (sorted) exactly: each month's first and last row are that ticker's
    rows in that month. None otherwise."""
    if "sessions" not in months.columns or months["sessions"].sum() != prices.height or months.is_empty():
        return None
    counts = months["sessions"].to_numpy().astype(np.int64)
    ends = np.cumsum(counts) - 1
    starts = ends - counts + 1
    got = prices.select("ticker", "date")
    first, last = got[starts], got[ends]
    aligned = (
        (first["ticker"] == months["ticker"]).all()
        and (last["ticker"] == months["ticker"]).all()
        and (last["date"] == months["as_of"]).all()
        and (first["date"].dt.month_start() == months["month"]).all()
    )
    return starts if aligned else None


def _first_crossed_by_rows(events, months, starts, prices, threshold, direction, basis) -> pl.Series:
    """Each event month is a contiguous block of price rows: gather just those rows."""
    position = months.with_row_index("_i").filter(crossed(pl.col("move"), threshold, direction))["_i"]
    position = position.to_numpy().astype(np.int64)
    begin, size = starts[position], events["sessions"].to_numpy().astype(np.int64)
    if size.sum() == 0:
        return pl.Series("first_crossed_on", [None] * events.height, dtype=pl.Date)
    offsets = np.cumsum(size) - size
    rows = np.repeat(begin - offsets, size) + np.arange(size.sum())
    price = prices[BASIS_COLUMN[basis]].gather(rows).to_numpy()
    reference = np.repeat(events["previous_close"].to_numpy(), size)
    move = price / reference - 1
    hit = crossed(move, threshold, direction)
    day = prices["date"].gather(rows).to_physical().to_numpy().astype(np.int64)
    never = np.iinfo(np.int64).max
    first = np.minimum.reduceat(np.where(hit, day, never), offsets)  # dates rise within a month
    days = pl.Series("first_crossed_on", first)
    return pl.select(pl.when(days != never).then(days).cast(pl.Int32).cast(pl.Date)).to_series()


def _first_crossed_by_join(events, prices, threshold, direction, basis) -> pl.Series:
    crossings = (
        prices.lazy()
        .select("ticker", "date", pl.col(BASIS_COLUMN[basis]).alias("price"))
        .with_columns(month=pl.col("date").dt.month_start())
        .join(events.lazy().select("ticker", "month", "previous_close"), on=["ticker", "month"])
        .filter(crossed(pl.col("price") / pl.col("previous_close") - 1, threshold, direction))
        .group_by("ticker", "month")
        .agg(pl.col("date").min().alias("first_crossed_on"))
    )
    return (
        events.lazy()
        .select("ticker", "month")
        .join(crossings, on=["ticker", "month"], how="left", maintain_order="left")
        .collect()["first_crossed_on"]
    )
