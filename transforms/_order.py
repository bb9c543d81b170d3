"""Integer encodings the transforms compute with: a row's ticker run number and its
month number. The sorting helpers live in surgewatch.frames (the schemas need them too)."""

import numpy as np
import polars as pl

# month_ends imports its sorting helper from here along with the encodings.
from surgewatch.frames import sorted_with_runs

__all__ = ["month_numbers", "run_ids", "sorted_with_runs"]


def run_ids(runs: pl.DataFrame) -> pl.Series:
    """0, 0, …, 1, 1, …: each row's run number, flagged sorted (polars' fast path for
    window functions over sorted keys)."""
    ids = np.repeat(np.arange(runs.height, dtype=np.uint32), runs["rows"].to_numpy())
    return pl.Series("_tid", ids, dtype=pl.UInt32).set_sorted()


def month_numbers(dates: pl.Series) -> pl.Series:
    """year * 12 + month - 1 of each date (Int32), by lookup in a per-day table: a third
    of the cost of dt.year / dt.month on tens of millions of rows."""
    days = dates.to_physical()
    if days.is_empty():
        return pl.Series("_month", [], dtype=pl.Int32)
    lo, hi = int(days.min()), int(days.max())  # type: ignore[arg-type]  # day numbers of a non-empty Date series
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return pl.Series("_month", table, dtype=pl.Int32).gather(days - lo)
