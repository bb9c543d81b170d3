"""Monthly returns → the qualifying months (events) with the day the move first crossed."""

import polars as pl

from transforms.types import BASIS_COLUMN, Basis, Direction


def _crossed(value: pl.Expr, threshold: float, direction: Direction) -> pl.Expr:
    return value >= threshold if direction == "up" else value <= -threshold


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
    months = monthly_returns.lazy().sort("ticker", "month").with_columns(
        previous_close=pl.col("close").shift(1).over("ticker")
    )
    events = months.filter(_crossed(pl.col("move"), threshold, direction))
    crossings = (
        prices.lazy()
        .select("ticker", "date", pl.col(BASIS_COLUMN[basis]).alias("price"))
        .with_columns(month=pl.col("date").dt.month_start())
        .join(events.select("ticker", "month", "previous_close"), on=["ticker", "month"])
        .filter(_crossed(pl.col("price") / pl.col("previous_close") - 1, threshold, direction))
        .group_by("ticker", "month")
        .agg(pl.col("date").min().alias("first_crossed_on"))
    )
    return (
        events.join(crossings, on=["ticker", "month"], how="left")
        .drop("previous_close")
        .sort("ticker", "month")
        .collect()
    )
