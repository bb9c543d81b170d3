"""Daily prices → one row per (ticker, month): month-end close and the month's context."""

import polars as pl

from transforms.types import BASIS_COLUMN, Basis

# SPEC §2 prior_drawdown: the 63-session low of the drawdown from the 252-session high.
PEAK_WINDOW = 252
LOOKBACK_WINDOW = 63


def month_ends(prices: pl.DataFrame, sessions: pl.DataFrame, basis: Basis = "price") -> pl.DataFrame:
    """Month-end close C[m] = close on the last session of m present in the data.

    complete = the ticker's data reaches the last NYSE session of m (sessions frame);
    as_of = last session of m present; sessions / up_sessions = rows in m / rows whose
    close > the previous row's close (the previous row may lie in the month before);
    prior_drawdown = min over the 63 sessions ending on the last session before m of
    P / max(P over the 252 sessions ending that day) - 1, with P the basis price.
    """
    price = pl.col(BASIS_COLUMN[basis])
    daily = (
        prices.lazy()
        .select("ticker", "date", price.alias("price"))
        .sort("ticker", "date")
        .with_columns(
            month=pl.col("date").dt.month_start(),
            up=(pl.col("price") > pl.col("price").shift(1)).fill_null(False).over("ticker"),
            underwater=(
                pl.col("price") / pl.col("price").rolling_max(PEAK_WINDOW, min_samples=1) - 1
            ).over("ticker"),
        )
        .with_columns(
            low_so_far=pl.col("underwater").rolling_min(LOOKBACK_WINDOW, min_samples=1).over("ticker")
        )
    )
    last_sessions = sessions.lazy().group_by(pl.col("date").dt.month_start().alias("month")).agg(
        pl.col("date").max().alias("last_session")
    )
    return (
        daily.group_by("ticker", "month")
        .agg(
            pl.col("date").last().alias("as_of"),
            pl.col("price").last().alias("close"),
            pl.len().alias("sessions"),
            pl.col("up").sum().cast(pl.UInt32).alias("up_sessions"),
            pl.col("low_so_far").last().alias("low_at_month_end"),
        )
        .join(last_sessions, on="month", how="left")
        # Joins do not keep row order; the shift below needs months in order.
        .sort("ticker", "month")
        .with_columns(
            complete=(pl.col("as_of").max().over("ticker") >= pl.col("last_session")).fill_null(False),
            prior_drawdown=pl.col("low_at_month_end").shift(1).over("ticker"),
        )
        .select(
            "ticker", "month", "as_of", "close", "complete", "sessions", "up_sessions", "prior_drawdown"
        )
        .collect()
    )
