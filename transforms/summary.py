"""Event (or all-month) forward returns → one summary row per (ticker, horizon)."""

from collections.abc import Sequence

import polars as pl

from surgewatch.core.vocabulary import STATISTICS, drawdown_column, forward_column


def horizon_summary(monthly_returns: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """Over the rows whose fwd_hm is not null, per ticker and horizon h:
    n; average = mean; median; win_rate = share of fwd_hm > 0;
    sharpe = mean / std (ddof=0), null when n < 2 or std = 0;
    max_drawdown = min(mdd_hm).

    Given events it is the signal summary; given every month it is the baseline.
    Groups are always formed by hashing the ticker, never from a sorted flag: polars
    sums a sorted frame's groups as slices of its chunks, so the last bit of a mean would
    depend on how the frame happens to be chunked and flagged (a night's frames must sum
    as a full recomputation's do, and one ticker as it does among many).
    """
    # concat_str drops the sorted flag polars may carry on the column.
    frame = monthly_returns.lazy().with_columns(pl.concat_str(pl.col("ticker"), pl.lit("")).alias("ticker"))
    per_horizon = []
    for h in horizons:
        ret = pl.col(forward_column(h))
        known = ret.is_not_null()
        std = ret.filter(known).std(ddof=0)
        stats = frame.group_by("ticker").agg(
            pl.lit(h, dtype=pl.Int64).alias("horizon"),
            known.sum().cast(pl.UInt32).alias("n"),
            ret.filter(known).mean().alias("average"),
            ret.filter(known).median().alias("median"),
            (ret.filter(known) > 0).mean().alias("win_rate"),
            pl.when((known.sum() >= 2) & (std > 0)).then(ret.filter(known).mean() / std).alias("sharpe"),
            pl.col(drawdown_column(h)).filter(known).min().alias("max_drawdown"),
        )
        per_horizon.append(stats)
    return pl.concat(per_horizon).select("ticker", "horizon", *STATISTICS).sort("ticker", "horizon").collect()
