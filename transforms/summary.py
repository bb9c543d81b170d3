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
    aggregates = []
    for h in horizons:
        ret = pl.col(forward_column(h))
        known = ret.is_not_null()
        std = ret.std(ddof=0)
        aggregates += [
            known.sum().cast(pl.UInt32).alias(f"n_{h}"),
            ret.mean().alias(f"average_{h}"),
            ret.filter(known).median().alias(f"median_{h}"),
            (ret > 0).mean().alias(f"win_rate_{h}"),
            pl.when((known.sum() >= 2) & (std > 0)).then(ret.mean() / std).alias(f"sharpe_{h}"),
            pl.when(known).then(pl.col(drawdown_column(h))).min().alias(f"max_drawdown_{h}"),
        ]
    # polars' mean, std and min skip nulls: the rows of unknown fwd_hm drop out without a
    # filter (a filter inside a group-by agg costs 2x); the median is faster filtered.
    # One hashing of the tickers for every horizon; then a row per (ticker, horizon).
    stats = frame.group_by("ticker").agg(aggregates).collect()
    return pl.concat(
        stats.select(
            "ticker", pl.lit(h, dtype=pl.Int64).alias("horizon"), *(pl.col(f"{s}_{h}").alias(s) for s in STATISTICS)
        )
        for h in horizons
    ).sort("ticker", "horizon")
