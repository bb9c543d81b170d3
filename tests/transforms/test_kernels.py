"""The compiled inner loops (transforms.kernels) against the numpy loops they replace: the
same figures to the last bit, for any shape, so a seed means the same either way."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from surgewatch.transforms.kernels import add_set_sums, order_statistics
from surgewatch.transforms.resampling import (
    Returns,
    _bootstrap_counts,
    _integers_rising,
    bootstrap_ci,
    percentiles,
    placebo,
)


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(1, 40),
    width=st.integers(1, 9),
    rows=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_set_sums_equal_the_numpy_loop(size, width, rows, seed):
    rng = np.random.default_rng(seed)
    columns = rng.normal(0, 0.05, (size, width))
    counts = np.sort(rng.integers(1, size + 1, width))[::-1].copy()  # n falling, as the tally holds them
    wide = rng.integers(0, size, (int(counts[0]), 3 * rows)).astype(np.int32)
    samples = wide[:, rows : 2 * rows]  # a view into a round's sets, as placebo passes them
    expected = np.zeros((rows, width))
    for k in range(int(counts[0])):
        width_k = int(np.searchsorted(-counts, -k, side="left"))
        expected[:, :width_k] += columns[samples[k], :width_k]
    sums = np.zeros((rows, width))
    add_set_sums(columns, np.ascontiguousarray(samples), counts, sums)
    assert np.array_equal(sums, expected)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    tickers=st.integers(1, 12),
    resamples=st.sampled_from([1, 37, 600, 1500, 3000]),  # 3,000: compiled rows fill and are cut back
    seed=st.integers(0, 2**32 - 1),
)
def test_the_compiled_placebo_gives_the_numpy_placebos_figures(data, tickers, resamples, seed):
    """Every figure of placebo, compiled and not, equal to the last bit: populations shared
    by several tickers and of their own, tickers that stop early (a far observed mean)
    and that draw every set, ties with the population mean, n from 1 to N − 1."""
    rng = np.random.default_rng(seed)
    sizes = [data.draw(st.sampled_from([5, 12, 40])) for _ in range(tickers)]
    values = [rng.normal(0, 0.05, size).round(data.draw(st.sampled_from([2, 8]))) for size in sizes]
    n = np.array([data.draw(st.integers(1, size - 1)) for size in sizes])
    observed = np.array(
        [data.draw(st.sampled_from([v.mean(), v.mean() + 0.2, np.sort(v)[-k:].mean()])) for v, k in zip(values, n)]
    )
    size = np.array(sizes)
    population = Returns(np.concatenate(values), np.cumsum(size) - size, size)
    plain = placebo(population, n, observed, resamples, seed, compiled=False)
    fast = placebo(population, n, observed, resamples, seed, compiled=True)
    for mine, theirs in zip(fast, plain):
        assert np.array_equal(mine, theirs, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 30), min_size=1, max_size=10),
    resamples=st.sampled_from([1, 50, 2_048, 2_500]),  # within one block of draws, and across two
    seed=st.integers(0, 2**32 - 1),
)
def test_the_compiled_bootstrap_gives_the_numpy_bootstraps_interval(sizes, resamples, seed):
    """Tickers of n = 0 … 30 events, several sharing an n: the counts of every draw and the
    interval from them, compiled and not, equal to the last bit."""
    rng = np.random.default_rng(seed)
    size = np.array(sizes)
    events = Returns(rng.normal(0, 0.05, int(size.sum())), np.cumsum(size) - size, size)
    for n in set(sizes) - {0}:
        assert np.array_equal(
            _bootstrap_counts(n, resamples, seed, compiled=True), _bootstrap_counts(n, resamples, seed)
        )
    fast = bootstrap_ci(events, resamples, seed, compiled=True)
    plain = bootstrap_ci(events, resamples, seed, compiled=False)
    for mine, theirs in zip(fast, plain):
        assert np.array_equal(mine, theirs, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 5),
    size=st.integers(1, 3_000),
    levels=st.sampled_from([2, 50, None]),  # many ties, some, none
    seed=st.integers(0, 2**32 - 1),
)
def test_the_compiled_percentiles_equal_the_sorted_ones(rows, size, levels, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 0.05, (rows, size)) if levels is None else rng.integers(0, levels, (rows, size)) / 7
    fast = percentiles(values.copy(), (0.05, 0.95), compiled=True)
    plain = percentiles(values.copy(), (0.05, 0.95))
    assert all(np.array_equal(mine, theirs) for mine, theirs in zip(fast, plain))


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    size=st.integers(1, 2_000),
    order=st.sampled_from(["random", "rising", "falling", "constant", "two values", "organ pipe"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_order_statistics_at_any_ranks_equal_the_sort(data, size, order, seed):
    """Any ranks (several in a tail, adjacent, equal, the extremes) of rows in the orders
    that stall a quickselect (sorted, reversed, all equal, mostly equal, organ pipe)."""
    rng = np.random.default_rng(seed)
    values = {
        "random": rng.normal(0, 0.05, (3, size)),
        "rising": np.sort(rng.normal(0, 0.05, (3, size))),
        "falling": -np.sort(rng.normal(0, 0.05, (3, size))),
        "constant": np.full((3, size), 0.01),
        "two values": rng.integers(0, 2, (3, size)) / 7,
        "organ pipe": np.tile(np.minimum(np.arange(size), size - 1 - np.arange(size)) / 7.0, (3, 1)),
    }[order]
    ranks = np.array(sorted(data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=6))), np.int64)
    assert np.array_equal(order_statistics(values.copy(), ranks), np.sort(values, axis=1)[:, ranks])


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    high=st.sampled_from([2, 3, 40, 359, 2**31 + 7, 3_000_000_000, 2**32 - 1, 2**32 + 5]),
    columns=st.integers(1, 600),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_placebos_draws_are_numpys_integers_with_rising_lows(data, high, columns, seed):
    """The compiled draws of a round equal numpy's rng.integers(k, high) for steps k, to the
    number, whether no try is rejected or most are (a span just past 2³¹), and past 2³²
    (numpy's own 64-bit steps)."""
    steps = data.draw(st.integers(1, min(high - 1, 30)))
    expected = np.random.default_rng(seed).integers(np.arange(steps)[:, None], high, size=(steps, columns))
    drawn = np.zeros((steps, columns + 3), np.int64)[:, 2:-1]  # a strided view, as a round's block is
    _integers_rising(np.random.default_rng(seed), high, drawn)
    assert np.array_equal(drawn, expected)
