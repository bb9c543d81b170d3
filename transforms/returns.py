"""Month-ends → each month's move, forward returns and forward max drawdowns."""

from collections.abc import Sequence

import polars as pl


def forward_columns(horizons: Sequence[int]) -> list[str]:
    """Column names for horizons, e.g. [1, 3] → fwd_1m, fwd_3m, mdd_1m, mdd_3m."""
    return [f"fwd_{h}m" for h in horizons] + [f"mdd_{h}m" for h in horizons]


def monthly_returns(month_end: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """move = C[m] / C[m-1] - 1; fwd_hm = C[m+h] / C[m] - 1;
    mdd_hm = min over k ≤ h of C[m+k] / max(C[m..m+k]) - 1 (entry close is the first peak).

    fwd and mdd are null unless month m+h is complete. Months are consecutive per ticker
    (a month with no session cannot be a month-end), so m+k is a shift by k rows.
    """
    close = pl.col("close")
    frame = (
        month_end.lazy()
        .sort("ticker", "month")
        .with_columns(
            move=(close / close.shift(1) - 1).over("ticker"),
            _peak0=close,
            _dd0=pl.lit(0.0),
        )
    )
    # Walk the path one month at a time: running peak, running drawdown, so every
    # horizon's drawdown falls out of one pass.
    for k in range(1, max(horizons) + 1):
        ahead = close.shift(-k).over("ticker")
        frame = frame.with_columns(
            ahead.alias(f"_c{k}"),
            pl.col("complete").shift(-k).over("ticker").fill_null(False).alias(f"_done{k}"),
            pl.max_horizontal(f"_peak{k - 1}", ahead).alias(f"_peak{k}"),
        ).with_columns(
            pl.min_horizontal(f"_dd{k - 1}", pl.col(f"_c{k}") / pl.col(f"_peak{k}") - 1).alias(f"_dd{k}")
        )
    return (
        frame.with_columns(
            *(
                pl.when(pl.col(f"_done{h}")).then(pl.col(f"_c{h}") / close - 1).alias(f"fwd_{h}m")
                for h in horizons
            ),
            *(pl.when(pl.col(f"_done{h}")).then(pl.col(f"_dd{h}")).alias(f"mdd_{h}m") for h in horizons),
        )
        .select(pl.exclude(r"^_.*$"))
        .collect()
    )
