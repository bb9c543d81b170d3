"""Integer encodings the transforms compute with: a row's ticker run number and its
month number. The sorting helpers live in surgewatch.core.frames (the schemas need them too)."""

import numpy as np
import polars as pl


def run_ids(runs: pl.DataFrame) -> pl.Series:
    """0, 0, …, 1, 1, …: each row's run number, flagged sorted (polars' fast path for
    window functions over sorted keys)."""
    ids = np.repeat(np.arange(runs.height, dtype=np.uint32), runs["rows"].to_numpy())
    return pl.Series("_tid", ids, dtype=pl.UInt32).set_sorted()


def month_numbers(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (int32) of each day number (days since 1970-01-01), by lookup
    in a per-day table: a fraction of the cost of converting every date."""
    if not len(days):
        return np.zeros(0, dtype=np.int32)
    lo, hi = int(days.min()), int(days.max())
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return table[days - lo]


def month_keys(month: pl.Series, ids: np.ndarray) -> np.ndarray:
    """ticker number × 2³² + month number (int64) of each row (ids: its ticker's number,
    e.g. run_ids over a frame sorted by (ticker, month): then the keys rise, and month
    m − k of a row's ticker has key − k)."""
    return (ids.astype(np.int64) << 32) + month_numbers(month.to_physical().to_numpy())


def find_keys(keys: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, found) of each target in the rising keys: the row holding it where found,
    else a row that does not (always a valid row of a non-empty keys)."""
    at = np.minimum(np.searchsorted(keys, targets), max(len(keys) - 1, 0))
    return at, keys[at] == targets if len(keys) else np.zeros(len(targets), bool)
