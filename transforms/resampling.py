"""The random figures of SPEC §2b: bootstrap interval and random-month placebo test.

No Python loop over resamples: each draw is an index matrix with one row per resample.
Tickers that share a shape share the draws (one bootstrap draw per event count n, one
placebo draw per population size N), so the work is a handful of matrix operations
per shape, whatever the number of tickers.

How the generator is consumed (part of what a seed means; keep it fixed): every shape
has its own ``numpy.random.default_rng([seed, kind, size])`` — kind 1 with size n for
the bootstrap, kind 2 with size N for the placebo — so a ticker's figures depend only on
its own returns, the seed and B, never on which other tickers share the study.
- bootstrap (n): ``integers(0, n, size=(rows, n))`` for consecutive blocks of
  ``_DRAW_ROWS`` resamples, B rows in all (row b = the n positions resample b takes);
- placebo (N): a partial Fisher–Yates shuffle of ``range(N)`` in every row at once —
  step k = 0, 1, … draws ``integers(k, N, size=B)`` and swaps position k with the drawn
  one — so the first n positions of row b are a uniform n-subset of the N months, for
  every n; steps stop at the largest n of the shape.
"""

from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.90
_BOOTSTRAP, _PLACEBO = 1, 2
_DRAW_ROWS = 2_048  # resamples drawn per block: part of what a seed means, keep it fixed
_CELLS = 1 << 18  # resample × ticker cells summed at once: bounds memory, not results
# Resample means equal to the observed one up to float rounding count as ties (as in
# scipy.stats.permutation_test), so an exact tie never depends on summation order.
_TIE = 100 * np.finfo(np.float64).eps


@dataclass(frozen=True)
class Returns:
    """Forward returns of many tickers in one flat array: ticker i's values are
    ``values[start[i] : start[i] + size[i]]``, in month order."""

    values: np.ndarray
    start: np.ndarray
    size: np.ndarray

    @staticmethod
    def stack(parts: "list[Returns]") -> "Returns":
        """The parts' tickers one after another (e.g. every horizon's), so that shapes are
        shared, and their draws made once, across all of them."""
        offsets = np.cumsum([0] + [len(part.values) for part in parts[:-1]])
        return Returns(
            np.concatenate([part.values for part in parts]),
            np.concatenate([part.start + offset for part, offset in zip(parts, offsets)]),
            np.concatenate([part.size for part in parts]),
        )

    def matrix(self, tickers: np.ndarray, length: int) -> np.ndarray:
        """(length × len(tickers)): column j = the first `length` values of tickers[j]."""
        return self.values[self.start[tickers][None, :] + np.arange(length)[:, None]]


def _groups(sizes: np.ndarray, eligible: np.ndarray):
    """(size, tickers with that size) over the eligible tickers, sizes ascending."""
    for size in np.unique(sizes[eligible]):
        yield int(size), np.flatnonzero(eligible & (sizes == size))


def bootstrap_ci(
    events: Returns, resamples: int, seed: int, part: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per ticker: the 5th and 95th percentiles (linear interpolation) of B resample
    means, each resample n of the ticker's n event returns drawn with replacement.
    NaN where n < 2.

    mean_b = Σ_i c_bi · R_i / n with c_b the times resample b took return i: one matrix
    product per event count n, shared by every ticker with that n.
    part: which stacked part (e.g. horizon) each ticker belongs to. The draws for n are
    made once for every part; the products never mix parts, because a product's last
    bit can depend on its shape, and this keeps each part's figures those it has alone.
    """
    low = np.full(events.size.shape, np.nan)
    high = low.copy()
    part = np.zeros(events.size.shape, np.int64) if part is None else part
    for n, tickers in _groups(events.size, events.size >= 2):
        rng = np.random.default_rng([seed, _BOOTSTRAP, n])
        counts = np.empty((resamples, n))
        for first in range(0, resamples, _DRAW_ROWS):
            rows = min(_DRAW_ROWS, resamples - first)
            taken = rng.integers(0, n, size=(rows, n)) + n * np.arange(rows)[:, None]
            counts[first : first + rows] = np.bincount(taken.ravel(), minlength=rows * n).reshape(rows, n)
        for members in np.split(tickers, np.flatnonzero(np.diff(part[tickers])) + 1):
            for block in np.array_split(members, -(-len(members) * resamples // _CELLS)):
                # ticker × resample, so each ticker's B means are contiguous for the quantile
                means = events.matrix(block, n).T @ counts.T / n
                low[block], high[block] = np.quantile(means, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2], axis=1)
    return low, high


def _ordered_samples(size: int, length: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(length × resamples): column b = the first `length` positions of a uniform random
    permutation of range(size), by a partial Fisher–Yates shuffle of every column at once.

    Only what the swaps touched is stored: moved[b, p] = 1 + the value position p of
    column b holds, 0 while it still holds p (np.zeros costs no writes, where a full
    range(size) per column would cost B × N of them), so each step is two gathers and
    one scatter of B values; the draws are those of the plain shuffle, in the same order.
    """
    moved = np.zeros(size * resamples, np.int32)  # row-major (resamples × size)
    out = np.empty((length, resamples), np.int32)
    base = np.arange(resamples) * size
    for k in range(length):
        j = rng.integers(k, size, size=resamples)
        at = base + j
        here, there = moved[base + k], moved[at]
        out[k] = np.where(there > 0, there - 1, j)
        moved[at] = np.where(here > 0, here, k + 1)
    return out


def placebo(population: Returns, n: np.ndarray, observed: np.ndarray, resamples: int, seed: int):
    """Per ticker, with B sets of n months drawn without replacement from its N months
    (population) and mean_b each set's mean, μ_A the population mean:
    placebo_p = (1 + #{b : |mean_b − μ_A| ≥ |observed − μ_A|}) / (B + 1);
    placebo_percentile = #{b : mean_b ≤ observed} / B. NaN where n = 0 or n = N.

    Returns (placebo_p, placebo_percentile). Tickers are summed in order of falling n,
    so step k of the sum adds the k-th drawn month to a leading block of columns.
    """
    p_value = np.full(n.shape, np.nan)
    percentile = p_value.copy()
    big_n = population.size
    for size, tickers in _groups(big_n, (n > 0) & (n < big_n)):
        tickers = tickers[np.argsort(-n[tickers], kind="stable")]
        counts = n[tickers]
        rng = np.random.default_rng([seed, _PLACEBO, size])
        samples = _ordered_samples(size, int(counts[0]), resamples, rng)
        values = population.matrix(tickers, size)
        mu = values.mean(axis=0)
        distance = np.abs(observed[tickers] - mu)
        active = (counts[None, :] > np.arange(counts[0])[:, None]).sum(axis=1)
        extreme = np.zeros(len(tickers))
        below = np.zeros(len(tickers))
        step = max(1, _CELLS // len(tickers))
        for first in range(0, resamples, step):
            chunk = samples[:, first : first + step]
            sums = np.zeros((chunk.shape[1], len(tickers)))
            for k, width in enumerate(active):
                sums[:, :width] += values[chunk[k], :width]
            means = sums / counts
            extreme += (np.abs(means - mu) >= distance * (1 - _TIE)).sum(axis=0)
            below += (means <= observed[tickers] + _TIE * np.abs(observed[tickers])).sum(axis=0)
        p_value[tickers] = (1 + extreme) / (resamples + 1)
        percentile[tickers] = below / resamples
    return p_value, percentile


def placebo_means(population: np.ndarray, n: int, resamples: int, seed: int) -> np.ndarray:
    """The B random-month means behind one ticker's placebo test (for drawing the
    distribution the observed mean is compared with): the same draws `placebo` makes for
    a ticker with these N months (in month order), n events, B and seed, so the share of
    them at least as far from the population mean as the observed one is its placebo_p.
    Empty where n = 0 or n = N (no test)."""
    size = len(population)
    if not 0 < n < size:
        return np.empty(0)
    samples = _ordered_samples(size, n, resamples, np.random.default_rng([seed, _PLACEBO, size]))
    return np.asarray(population, dtype=np.float64)[samples].mean(axis=0)
