"""Trailing windows of sessions per ticker over rows sorted by (ticker, date), in numpy."""

import numpy as np


def first_rows(starts: np.ndarray, lengths: np.ndarray, k: int) -> np.ndarray:
    """Rows fewer than k rows into their ticker (ticker i: rows starts[i] … starts[i] + lengths[i] - 1)."""
    take = np.minimum(lengths, k)
    offsets = np.cumsum(take) - take
    return np.repeat(starts, take) + (np.arange(take.sum()) - np.repeat(offsets, take))


def trailing(values: np.ndarray, starts: np.ndarray, window: int, op: np.ufunc) -> np.ndarray:
    """out[i] = op over values[max(s, i - window + 1) … i], s the first row of i's ticker:
    the window holds the last `window` sessions present, fewer near the ticker's start.

    starts: each ticker's first row, rising, starting at 0. op: np.maximum or np.minimum.

    By doubling: a window of `span` rows grows to span + step rows (step <= span) as
    op(out[i], out[i - step]), the two windows overlapping or touching. A row fewer
    than `step` rows into its ticker keeps out[i]: that already covers all of its
    ticker's rows so far, and out[i - step] belongs to another ticker. So
    ceil(log2(window)) vectorised passes (8 for 252 rows) instead of a deque per
    ticker, and a few times faster than polars' rolling_max(window).over(ticker).
    """
    lengths = np.diff(np.append(starts, len(values)))
    out, spare = values.copy(), np.empty_like(values)
    span = 1
    while span < window:
        step = min(span, window - span)
        op(out[step:], out[:-step], out=spare[step:])
        spare[:step] = out[:step]
        heads = first_rows(starts, lengths, step)
        spare[heads] = out[heads]
        out, spare = spare, out
        span += step
    return out
