"""Daily prices → one row per (ticker, month): month-end close and the month's context."""

import numpy as np
import polars as pl

from surgewatch.core.frames import sorted_with_runs
from surgewatch.transforms._order import month_numbers
from surgewatch.transforms._windows import trailing
from surgewatch.transforms.types import BASIS_COLUMN, Basis

# SPEC §2 prior_drawdown: the 63-session low of the drawdown from the 252-session high.
PEAK_WINDOW = 252
LOOKBACK_WINDOW = 63
# Rows of whole tickers handled at a time: arrays of 2 MB stay in cache and are reused
# by the allocator; whole-column temporaries (176 MB each at 22M rows) cost more in
# fresh pages than in arithmetic.
CHUNK_ROWS = 1 << 18


def month_ends(
    prices: pl.DataFrame, sessions: pl.DataFrame, basis: Basis = "price", runs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Month-end close C[m] = close on the last session of m present in the data.

    complete = the ticker's data reaches the last NYSE session of m (sessions frame);
    as_of = last session of m present; sessions / up_sessions = rows in m / rows whose
    close > the previous row's close (the previous row may lie in the month before);
    prior_drawdown = min over the 63 sessions ending on the last session before m of
    P / max(P over the 252 sessions ending that day) - 1, with P the basis price
    (near the start of a ticker's data: over the sessions that exist).

    Runs over rows in (ticker, date) order (sorted here only if they are not), as numpy
    arrays over a chunk of whole tickers at a time (no window crosses a ticker), without
    hashing a ticker or a month. The basis price has no nulls (run_study refuses them).
    runs: prices' (sorted_with_runs), when the caller has them.
    """
    frame, runs = sorted_with_runs(prices, "date", runs)
    starts = runs["start"].to_numpy().astype(np.int64)
    price, days = frame[BASIS_COLUMN[basis]], frame["date"].to_physical()
    parts: list[tuple[np.ndarray, ...]] = []
    for lo, hi in _chunks(starts, frame.height):
        # Slices: no copy of a whole column into one array, however many chunks it has;
        # what a month keeps is read from the chunk's arrays (a gather from the 22M-row
        # columns, over their many chunks, cost 0.15 s).
        chunk_price, chunk_days = price.slice(lo, hi - lo).to_numpy(), days.slice(lo, hi - lo).to_numpy()
        chunk_month = month_numbers(chunk_days)
        ends, ups, lows = _chunk_months(chunk_price, chunk_month, starts[(starts >= lo) & (starts < hi)] - lo)
        parts.append((ends + lo, ups, lows, chunk_price[ends], chunk_days[ends], chunk_month[ends]))
    ends, ups, lows, close, as_of, month = (np.concatenate(column) for column in zip(*parts))
    first_months = np.searchsorted(ends, starts)  # each ticker's first month: no month before it
    months_of = np.diff(np.append(first_months, len(ends)))
    data_ends = np.repeat(days.gather(starts + runs["rows"].to_numpy() - 1).to_numpy(), months_of)
    first_day, last_session = _month_days(month, sessions)
    return pl.DataFrame(
        {
            "ticker": runs["ticker"].gather(np.repeat(np.arange(runs.height), months_of)),
            "month": pl.Series(first_day, dtype=pl.Int32).cast(pl.Date),
            "as_of": pl.Series(as_of, dtype=pl.Int32).cast(pl.Date),
            "close": pl.Series(close, dtype=price.dtype),
            "complete": data_ends >= last_session,
            "sessions": np.diff(ends, prepend=-1).astype(np.uint32),
            "up_sessions": ups,
            "prior_drawdown": pl.Series(np.roll(lows, 1)).scatter(first_months, None),
        }
    )


def _month_days(month: np.ndarray, sessions: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(first day, last NYSE session) of each month number as day numbers, by lookup in a
    table of the months spanned; a month without a session in `sessions` gets a last
    session no day reaches (so it is not complete)."""
    if not len(month):
        return month.copy(), month.copy()
    lo = int(month.min())
    span = np.arange(lo, int(month.max()) + 1)
    first_days = span.astype("datetime64[M]").astype("datetime64[D]").astype(np.int32)
    none = np.iinfo(np.int32)
    last = np.full(len(span), none.min, np.int32)
    session_days = sessions["date"].to_physical().to_numpy()
    inside = month_numbers(session_days) - lo
    keep = (inside >= 0) & (inside < len(span))
    np.maximum.at(last, inside[keep], session_days[keep])
    last[last == none.min] = none.max
    return first_days[month - lo], last[month - lo]


def _chunks(starts: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """(first row, end row) of consecutive runs of whole tickers, about CHUNK_ROWS rows each
    (one ticker with more rows is a chunk of its own); one empty chunk when rows = 0."""
    cuts = starts[np.searchsorted(starts, np.arange(0, rows, CHUNK_ROWS), side="right") - 1]
    bounds = np.unique(np.append(cuts, rows)) if rows else np.array([0, 0])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _chunk_months(
    price: np.ndarray, month: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of whole tickers (starts: each one's first row, from 0; month: each row's month
    number) → per (ticker, month): its last row, its up sessions, and on its last row the
    63-session low of P / 252-session high of P - 1."""
    last_of_month = np.ones(len(price), dtype=bool)
    np.not_equal(month[1:], month[:-1], out=last_of_month[:-1])
    last_of_month[starts[1:] - 1] = True
    ends = np.flatnonzero(last_of_month)
    up = np.zeros(len(price), dtype=bool)
    np.greater(price[1:], price[:-1], out=up[1:])
    up[starts] = False  # a ticker's first row has no previous row
    up_sessions = np.add.reduceat(up, ends - np.diff(ends, prepend=-1) + 1, dtype=np.uint32)
    underwater = price / trailing(price, starts, PEAK_WINDOW, np.maximum) - 1
    return (
        ends,
        up_sessions,
        trailing(underwater, starts, LOOKBACK_WINDOW, np.minimum)[ends],
    )
