"""Daily prices → one row per (ticker, month): month-end close and the month's context."""

import polars as pl

from surgewatch.transforms._order import month_numbers, run_ids, sorted_with_runs
from surgewatch.transforms.types import BASIS_COLUMN, Basis

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

    Runs over rows in (ticker, date) order (sorted here only if they are not) without
    hashing a ticker or a month: per-ticker windows partition by integer run ids flagged
    sorted (polars' fast path), and each month's row is its last session's row, found
    by comparing each row's month number with the next row's.
    """
    frame, runs = sorted_with_runs(prices, "date")
    tid, month_number = pl.col("_tid"), pl.col("_month")
    same_ticker_as_previous = tid == tid.shift(1)
    last_of_month = ((tid != tid.shift(-1)) | (month_number != month_number.shift(-1))).fill_null(True)
    row, ups = pl.col("_row").cast(pl.Int64), pl.col("_ups").cast(pl.Int64)
    last_sessions = sessions.lazy().group_by(pl.col("date").dt.month_start().alias("month")).agg(
        pl.col("date").max().alias("last_session")
    )
    daily = frame.select("ticker", "date", pl.col(BASIS_COLUMN[basis]).alias("price")).with_columns(
        run_ids(runs), month_numbers(frame["date"])
    )
    # Eager steps: each window function sees _tid's sorted flag (a lazy plan loses it).
    daily = daily.with_columns(
        up=((pl.col("price") > pl.col("price").shift(1)) & same_ticker_as_previous).fill_null(False),
        underwater=pl.col("price") / pl.col("price").rolling_max(PEAK_WINDOW, min_samples=1).over("_tid") - 1,
    )
    daily = daily.with_columns(
        low_so_far=pl.col("underwater").rolling_min(LOOKBACK_WINDOW, min_samples=1).over("_tid"),
        _row=pl.int_range(pl.len(), dtype=pl.UInt32),
        _ups=pl.col("up").cum_sum(),
    )
    return (
        daily.filter(last_of_month)
        .lazy()
        .select(
            "ticker",
            pl.col("date").dt.month_start().alias("month"),
            pl.col("date").alias("as_of"),
            pl.col("price").alias("close"),
            # Rows and up rows since the previous month's last row (of this or the previous ticker).
            (row - row.shift(1, fill_value=-1)).cast(pl.UInt32).alias("sessions"),
            (ups - ups.shift(1, fill_value=0)).cast(pl.UInt32).alias("up_sessions"),
            pl.when(same_ticker_as_previous).then(pl.col("low_so_far").shift(1)).alias("prior_drawdown"),
            "_tid",
        )
        .join(last_sessions, on="month", how="left", maintain_order="left")
        .with_columns(
            complete=(pl.col("as_of").max().over("_tid") >= pl.col("last_session")).fill_null(False),
        )
        .select("ticker", "month", "as_of", "close", "complete", "sessions", "up_sessions", "prior_drawdown")
        .collect()
    )
