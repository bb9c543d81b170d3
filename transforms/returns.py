"""Month-ends → each month's move, forward returns and forward max drawdowns."""

from collections.abc import Sequence

import numpy as np
import polars as pl

from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import find_keys, month_keys, run_ids
from surgewatch.core.vocabulary import forward_column, drawdown_column


def monthly_returns(month_end: pl.DataFrame, horizons: Sequence[int]) -> pl.DataFrame:
    """move = C[m] / C[m-1] - 1; fwd_hm = C[m+h] / C[m] - 1;
    mdd_hm = min over k ≤ h of C[m+k] / max(C[m..m+k]) - 1 (entry close is the first peak).

    fwd and mdd are null unless month m+h is complete. A month with no row has no C, so
    it is never bridged: move is null after it, and mdd is null across it (its path is
    unknown), while fwd only needs its two ends.
    Rows in (ticker, month) order, as numpy arrays: the row k ahead is month m+k exactly
    when its key (ticker run, month number) is k more, since months only rise within a
    ticker; with a gap, month m+h is found by searching the keys.
    """
    month_end, runs = sorted_with_runs(month_end, "month")
    key = month_keys(month_end["month"], run_ids(runs).to_numpy())
    close = month_end["close"].cast(pl.Float64).to_numpy()
    complete = month_end["complete"].to_numpy()
    rows = len(key)

    def ahead(k: int) -> tuple[np.ndarray, np.ndarray]:
        """(C of the row k ahead, or NaN; that row is complete) where it is month m+k."""
        at = np.minimum(np.arange(rows) + k, max(rows - 1, 0))
        here = key[at] == key + k
        return np.where(here, close[at], np.nan), here & complete[at]

    def back_one() -> np.ndarray:
        at = np.maximum(np.arange(rows) - 1, 0)
        return np.where(key[at] == key - 1, close[at], np.nan)

    # Walk the path one month at a time: running peak, running drawdown, so every
    # horizon's drawdown falls out of one pass (fmax / fmin pass over a missing month).
    peak, drawdown = close.copy(), np.zeros(rows)
    path: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for k in range(1, max(horizons) + 1):
        c, done = ahead(k)
        peak = np.fmax(peak, c)
        drawdown = np.fmin(drawdown, c / peak - 1)
        path[k] = (c, done, drawdown)
    columns = {"move": close / back_one() - 1}
    step = np.diff(key)
    gaps = bool(np.any((step > 1) & (step < 1 << 31)))  # a step of more than a month inside a ticker
    ends: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for h in horizons:
        if gaps:
            # The row of month m+h is fewer than h rows ahead after a gap: search its key.
            at, found = find_keys(key, key + h)
            ends[h] = (np.where(found, close[at], np.nan), found & complete[at])
        else:
            ends[h] = path[h][:2]
    for h in horizons:
        end, done = ends[h]
        columns[forward_column(h)] = np.where(done, end / close - 1, np.nan)
    for h in horizons:
        columns[drawdown_column(h)] = np.where(path[h][1], path[h][2], np.nan)
    return month_end.with_columns(pl.Series(name, values, nan_to_null=True) for name, values in columns.items())
