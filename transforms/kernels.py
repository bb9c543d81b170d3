"""Compiled inner loops of the random figures (SPEC §2b), where `make bench` showed numpy's
per-step overhead dominating: each is checked bit for bit against the numpy loop it
replaces (tests/transforms/test_kernels.py), so a seed gives the same figures either way.

numba is imported with this module (~0.6 s), so transforms.resampling imports it only for
studies large enough to repay that (COMPILED_FROM). The compiled code is cached beside the
module (numba's cache=True): a machine's first such study compiles it (~8 s), later ones
load it.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def add_set_sums(columns: np.ndarray, samples: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> None:
    """sums[r, j] += Σ_{k < counts[j]} columns[samples[k, r], j], adding in order of k, as
    the numpy loop ``sums[:, :width] += columns[samples[k], :width]`` does; counts must
    not increase with j, so step k adds to a leading block of columns. Releases the GIL."""
    width = columns.shape[1]
    for k in range(samples.shape[0]):
        while width > 0 and counts[width - 1] <= k:
            width -= 1
        if width == 0:
            break
        for r in range(samples.shape[1]):
            source = columns[samples[k, r]]
            target = sums[r]
            for j in range(width):
                target[j] += source[j]


@numba.njit(cache=True, nogil=True)
def partial_shuffles(drawn: np.ndarray, size: np.ndarray, length: np.ndarray, sets: np.ndarray) -> None:
    """Column c of sets = the first length[c] positions of range(size[c]) after the partial
    Fisher–Yates shuffle whose step k swaps position k with drawn[k, c] (≥ k): sets[k, c]
    is the value position k holds after step k. The columns are independent, so one after
    another gives what resampling._shuffle_side_by_side's steps over all columns give."""
    moved = np.zeros(size.max(), np.int64)  # 1 + the value a touched position holds, 0 if untouched
    for c in range(drawn.shape[1]):
        for k in range(length[c]):
            j = drawn[k, c]
            here, there = moved[k], moved[j]
            sets[k, c] = there - 1 if there > 0 else j
            moved[j] = here if here > 0 else k + 1
        for k in range(length[c]):  # untouched again for the next column
            moved[k] = 0
            moved[drawn[k, c]] = 0


@numba.njit(cache=True, nogil=True)
def count_sets(
    sums: np.ndarray,
    counts: np.ndarray,
    block: np.ndarray,
    mu: np.ndarray,
    distance: np.ndarray,
    ceiling: np.ndarray,
    as_far: np.ndarray,
    below: np.ndarray,
    drawn: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    decided: np.ndarray,
    enough: int,
) -> None:
    """resampling._Tally.add's counting of one round for the tickers block[j] (sums[:, j]
    their set sums, counts[j] their n): set by set, mean = sum / n; as_far +1 when
    |mean − mu| ≥ distance, below +1 when mean ≤ ceiling; stop at the set where as_far
    reaches `enough` (decided), else take the whole round. low / high keep the `tail`
    smallest means / negated means of the sets taken, as the same multisets as numpy's
    partition of kept ∪ new (a value not below the kept ones' largest cannot enter)."""
    rows, tail = sums.shape[0], low.shape[1]
    merged = np.empty(tail + rows)
    for j in range(block.shape[0]):
        t = block[j]
        far, under, stop = as_far[t], below[t], rows - 1
        for r in range(rows):
            mean = sums[r, j] / counts[j]
            far += abs(mean - mu[t]) >= distance[t]
            under += mean <= ceiling[t]
            if far >= enough:
                stop = r
                break
        as_far[t], below[t] = far, under
        drawn[t] += stop + 1
        decided[j] = far >= enough
        for kept, sign in ((low, 1.0), (high, -1.0)):
            largest = kept[t].max()
            size = tail
            merged[:tail] = kept[t]
            for r in range(stop + 1):
                value = sign * (sums[r, j] / counts[j])  # × ±1 is exact: the mean or its negation
                if value < largest:
                    merged[size] = value
                    size += 1
            if size > tail:
                kept[t] = np.partition(merged[:size], tail - 1)[:tail]


@numba.njit(cache=True, nogil=True)
def count_draws(taken: np.ndarray, counts: np.ndarray, first: int) -> None:
    """counts[i, first + r] += #{c : taken[r, c] = i} for every row r of taken: how often
    resample first + r took return i (resampling._bootstrap_counts' bincount)."""
    for r in range(taken.shape[0]):
        column = first + r
        for c in range(taken.shape[1]):
            counts[taken[r, c], column] += 1.0


@numba.njit(cache=True, nogil=True)
def order_statistics(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """out[i, q] = values[i] sorted ascending, at rank ranks[q] (0-based; ranks ascending),
    as np.sort(values, axis=1)[:, ranks]. The ranks in the lower half are the smallest of
    the row, those in the upper half the smallest of the negated row (_smallest)."""
    rows, size = values.shape
    out = np.empty((rows, ranks.shape[0]))
    lower = ranks < size // 2
    low_ranks = ranks[lower]
    high_ranks = size - 1 - ranks[~lower][::-1]  # among the negated values, ascending
    kept = np.empty(size)
    for i in range(rows):
        out[i, : low_ranks.shape[0]] = _smallest(values[i], 1.0, low_ranks, kept)
        out[i, low_ranks.shape[0] :] = -_smallest(values[i], -1.0, high_ranks, kept)[::-1]
    return out


@numba.njit(cache=True, nogil=True)
def _smallest(row: np.ndarray, sign: float, ranks: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The values of sign·row at these ranks (ascending), all below the row's middle: a
    sample of the row gives a pivot just above the highest rank; the values ≤ it (≈ 8% of
    a row) are put in `kept` and partitioned at each rank. A pivot that keeps too few
    values (a rare sample) falls back to the whole row."""
    out = np.empty(ranks.shape[0])
    if ranks.shape[0] == 0:
        return out
    size, top = row.shape[0], ranks[-1]
    sample = sign * row[:: max(1, size // 256)]
    m = sample.shape[0]
    at = min(m - 1, (top + 1) * m // size + 8 + m // 32)
    pivot = np.partition(sample, at)[at]
    held = 0
    for x in row:
        kept[held] = sign * x
        held += sign * x <= pivot
    if held <= top:
        held = size
        for j in range(size):
            kept[j] = sign * row[j]
    part = kept[:held]
    for q in range(ranks.shape[0] - 1, -1, -1):
        part = np.partition(part, ranks[q])
        out[q] = part[ranks[q]]
        part = part[: ranks[q]]
    return out
