"""Month-ends → the context fields that need more than one month's daily rows (SPEC §2)."""

import numpy as np
import polars as pl

from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import find_keys, month_keys, run_ids

# SPEC §2 prior_12m: the trend over the twelve months before the month before m.
TREND_MONTHS = 12


def context_fields(month_end: pl.DataFrame) -> pl.DataFrame:
    """month_end plus prior_12m = C[m-1] / C[m-13] - 1 and up_share = up_sessions / sessions.

    prior_12m is null when month m-1 or m-13 has no row (no close): months are matched
    by their number, so a gap in the data is never bridged. Both fields are known at
    the close of m: neither looks ahead.
    """
    frame, runs = sorted_with_runs(month_end, "month")
    key = month_keys(frame["month"], run_ids(runs).to_numpy())  # rising: month m-k is found by search
    close = frame["close"]

    def close_back(k: int) -> pl.Series:
        at, found = find_keys(key, key - k)
        return close.gather(at).scatter(np.flatnonzero(~found), None)

    return frame.with_columns(
        prior_12m=close_back(1) / close_back(TREND_MONTHS + 1) - 1,
        up_share=pl.col("up_sessions").cast(pl.Float64) / pl.col("sessions").cast(pl.Float64),
    )
