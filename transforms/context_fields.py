"""Month-ends → the context fields that need more than one month's daily rows (SPEC §2)."""

import polars as pl

from surgewatch.core.frames import sorted_by_ticker

# SPEC §2 prior_12m: the trend over the twelve months before the month before m.
TREND_MONTHS = 12


def context_fields(month_end: pl.DataFrame) -> pl.DataFrame:
    """month_end plus prior_12m = C[m-1] / C[m-13] - 1 and up_share = up_sessions / sessions.

    prior_12m is null when month m-1 or m-13 has no row (no close): months are matched
    by their number, so a gap in the data is never bridged. Both fields are known at
    the close of m: neither looks ahead.
    """
    number = pl.col("month").dt.year().cast(pl.Int32) * 12 + pl.col("month").dt.month().cast(pl.Int32)
    frame = sorted_by_ticker(month_end, "month").with_columns(_number=number)
    closes = frame.select("ticker", "_number", "close")

    def close_back(k: int) -> pl.DataFrame:
        # The close of month m-k, found by month number (a join, so gaps stay gaps).
        shifted = closes.select(
            "ticker",
            (pl.col("_number") + k).alias("_number"),
            pl.col("close").alias(f"_c{k}"),
        )
        return frame.select("ticker", "_number").join(
            shifted, on=["ticker", "_number"], how="left", maintain_order="left"
        )

    previous, year_before = (
        close_back(1)["_c1"],
        close_back(TREND_MONTHS + 1)[f"_c{TREND_MONTHS + 1}"],
    )
    return frame.with_columns(
        prior_12m=previous / year_before - 1,
        up_share=pl.col("up_sessions").cast(pl.Float64) / pl.col("sessions").cast(pl.Float64),
    ).drop("_number")
