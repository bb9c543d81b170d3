"""Month-ends → each month's move, forward returns and forward max drawdowns."""

from collections.abc import Sequence

import polars as pl

from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import month_numbers, run_ids
from surgewatch.core.vocabulary import forward_column, drawdown_column


def monthly_returns(month_end: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """move = C[m] / C[m-1] - 1; fwd_hm = C[m+h] / C[m] - 1;
    mdd_hm = min over k ≤ h of C[m+k] / max(C[m..m+k]) - 1 (entry close is the first peak).

    fwd and mdd are null unless month m+h is complete. A month with no row has no C, so
    it is never bridged: move is null after it, and mdd is null across it (its path is
    unknown), while fwd only needs its two ends.
    Rows in (ticker, month) order: the row k ahead is month m+k exactly when it belongs
    to the same ticker (integer run ids, not hashed strings) and its month number is k
    more, since months only rise within a ticker.
    """
    close, tid, number = pl.col("close"), pl.col("_tid"), pl.col("_number")

    def ahead(expr: pl.Expr, k: int) -> pl.Expr:
        return pl.when((tid.shift(-k) == tid) & (number.shift(-k) == number + k)).then(expr.shift(-k))

    month_end, runs = sorted_with_runs(month_end, "month")
    frame = (
        month_end.lazy()
        .with_columns(run_ids(runs), pl.Series("_number", month_numbers(month_end["month"].to_physical().to_numpy())))
        .with_columns(
            move=pl.when((tid.shift(1) == tid) & (number.shift(1) == number - 1)).then(close / close.shift(1) - 1),
            _peak0=close,
            _dd0=pl.lit(0.0),
        )
    )
    # Walk the path one month at a time: running peak, running drawdown, so every
    # horizon's drawdown falls out of one pass.
    for k in range(1, max(horizons) + 1):
        frame = (
            frame.with_columns(
                ahead(close, k).alias(f"_c{k}"),
                ahead(pl.col("complete"), k).fill_null(False).alias(f"_done{k}"),
            )
            .with_columns(
                pl.max_horizontal(f"_peak{k - 1}", f"_c{k}").alias(f"_peak{k}"),
            )
            .with_columns(pl.min_horizontal(f"_dd{k - 1}", pl.col(f"_c{k}") / pl.col(f"_peak{k}") - 1).alias(f"_dd{k}"))
        )
    if frame.select(((number.diff() > 1) & (tid.diff() == 0)).any()).collect().item():
        # With a gap inside the window, the row of month m+h is fewer than h rows ahead:
        # find it by its month number (a join, paid only by data that has gaps).
        for h in sorted(set(horizons)):
            target = frame.select(
                "_tid",
                (number - h).alias("_number"),
                close.alias(f"_end{h}"),
                pl.col("complete").alias(f"_end_done{h}"),
            )
            frame = frame.join(target, on=["_tid", "_number"], how="left", maintain_order="left")
    else:
        frame = frame.with_columns(
            *(pl.col(f"_c{h}").alias(f"_end{h}") for h in horizons),
            *(pl.col(f"_done{h}").alias(f"_end_done{h}") for h in horizons),
        )
    return (
        frame.with_columns(
            *(
                pl.when(pl.col(f"_end_done{h}")).then(pl.col(f"_end{h}") / close - 1).alias(forward_column(h))
                for h in horizons
            ),
            *(pl.when(pl.col(f"_done{h}")).then(pl.col(f"_dd{h}")).alias(drawdown_column(h)) for h in horizons),
        )
        .select(pl.exclude(r"^_.*$"))
        .collect()
    )
