"""Monthly returns → the qualifying months (events) with the day the move first crossed."""

import numpy as np
import polars as pl

from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import month_numbers, run_ids
from surgewatch.transforms.types import BASIS_COLUMN, Basis, Direction
from surgewatch.core.vocabulary import crossed


def signal_events(
    monthly_returns: pl.DataFrame,
    prices: pl.DataFrame,
    threshold: float,
    direction: Direction = "up",
    basis: Basis = "price",
    runs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Events: months with move >= threshold (up) or move <= -threshold (down), partial
    months included (provisional).

    first_crossed_on = the first session d of m with P[d] / C[m-1] - 1 past the threshold,
    P the daily basis price and C[m-1] the previous month-end close.
    runs: prices' ticker runs (sorted_with_runs), when the caller has them.
    """
    months, month_runs = sorted_with_runs(monthly_returns, "month")
    tid, close = run_ids(month_runs), pl.col("close")
    months = months.with_columns(previous_close=pl.when(tid.shift(1) == tid).then(close.shift(1)))
    events = months.filter(crossed(pl.col("move"), threshold, direction))
    prices, runs = sorted_with_runs(prices, "date", runs)
    rows = _month_rows(months, month_runs, prices, runs)
    if rows is None:  # months not built from exactly these rows: match by key instead
        first = _first_crossed_by_join(events, prices, threshold, direction, basis)
    else:
        first = _first_crossed_by_rows(events, months, rows, prices, threshold, direction, basis)
    return events.with_columns(first_crossed_on=first).drop("previous_close")


def _month_rows(
    months: pl.DataFrame, month_runs: pl.DataFrame, prices: pl.DataFrame, runs: pl.DataFrame
) -> np.ndarray | None:
    """Row of prices where each month starts, when months (sorted, with sessions counts)
    partition prices (sorted) exactly: the same tickers in the same order, each with as
    many price rows as its months' sessions, and each month's first and last row in
    that month (its last on as_of). None otherwise. Runs: each frame's ticker runs."""
    if "sessions" not in months.columns or months.is_empty() or not month_runs["ticker"].equals(runs["ticker"]):
        return None
    counts = months["sessions"].to_numpy().astype(np.int64)
    per_ticker = np.add.reduceat(counts, month_runs["start"].to_numpy().astype(np.int64))
    if not np.array_equal(per_ticker, runs["rows"].to_numpy()):
        return None
    ends = np.cumsum(counts) - 1
    starts = ends - counts + 1
    days = prices["date"].to_physical()
    first = month_numbers(days.gather(starts).to_numpy())
    aligned = (days.gather(ends) == months["as_of"].to_physical()).all() and np.array_equal(
        first, month_numbers(months["month"].to_physical().to_numpy())
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
    never = len(rows)
    first = np.minimum.reduceat(np.where(hit, np.arange(len(rows)), never), offsets)  # dates rise within a month
    crossed_on = prices["date"].gather(rows[np.minimum(first, never - 1)]).alias("first_crossed_on")
    return crossed_on.scatter(np.flatnonzero(first == never), None)


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
