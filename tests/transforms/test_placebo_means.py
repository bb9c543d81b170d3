"""placebo_means: the random-month means the report draws are the placebo test's own; the
bootstrap's percentiles: numpy's, by a faster way."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surgewatch.transforms.resampling import Returns, percentiles, placebo, placebo_means
from tests.factories import sequential_figures


@pytest.mark.parametrize("seed", [0, 7])
def test_the_means_give_the_tests_p_value_for_every_ticker_of_a_shared_shape(seed):
    """Three tickers with the same N (so `placebo` draws them together, up to the largest
    n) and different n: each one's means alone reproduce its figures."""
    rng = np.random.default_rng(42)
    size, ns = 120, np.array([5, 17, 40])
    values = rng.normal(0.01, 0.05, size=(3, size))
    observed = np.array([0.03, 0.02, -0.004])
    population = Returns(values.ravel(), np.arange(3) * size, np.full(3, size))
    p_value, percentile, draws, low, high = placebo(population, ns, observed, 2_000, seed)
    assert draws.min() < 2_000 and draws.max() == 2_000  # some stopped early, some did not
    for i in range(3):
        means = placebo_means(values[i], int(ns[i]), 2_000, seed)
        assert means.shape == (2_000,)
        figures = sequential_figures(means, values[i], observed[i])
        assert figures == pytest.approx((p_value[i], percentile[i], draws[i]))
        # The chance band: np.quantile of the very sets the test drew (the means summed in
        # another order: equal up to the last bits).
        band = np.quantile(means[: draws[i]], [0.05, 0.95])
        assert (low[i], high[i]) == pytest.approx(tuple(band), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("resamples", [1, 2, 7, 600, 1_500])
def test_the_chance_band_is_numpys_quantile_of_the_drawn_means_at_any_b(resamples):
    """Across rounds, with ties, and when a ticker draws all B sets or stops in round one."""
    rng = np.random.default_rng(resamples)
    size, ns = 60, np.array([3, 9, 30])
    values = np.round(rng.normal(0.01, 0.05, size=(3, size)), 2)  # ties among the means
    observed = np.array([0.2, 0.01, 0.0])
    population = Returns(values.ravel(), np.arange(3) * size, np.full(3, size))
    _, _, draws, low, high = placebo(population, ns, observed, resamples, 1)
    for i in range(3):
        means = placebo_means(values[i], int(ns[i]), resamples, 1)[: draws[i]]
        band = np.quantile(means, [0.05, 0.95])
        assert (low[i], high[i]) == pytest.approx(tuple(band), rel=1e-12, abs=1e-15), i


def test_the_means_are_means_of_n_distinct_months():
    population = np.arange(10, dtype=float)  # distinct values: a repeated month would show
    means = placebo_means(population, 9, 500, 3)
    # Nine of ten distinct months: the mean says which one was left out.
    left_out = population.sum() - means * 9
    assert np.allclose(left_out, np.round(left_out)) and set(np.round(left_out)) <= set(population)
    assert len(set(np.round(left_out))) == 10  # every month is left out sometimes


def test_no_test_no_means():
    population = np.ones(8)
    assert placebo_means(population, 0, 100, 0).size == 0
    assert placebo_means(population, 8, 100, 0).size == 0


def test_percentiles_are_numpys_linear_quantiles():
    """The bootstrap's percentiles (a sort in place, numpy's interpolation) equal
    np.quantile to the bit, for every size B, including ties and B = 1."""
    rng = np.random.default_rng(5)
    for size in (1, 2, 3, 10, 64, 999, 10_000):
        values = rng.normal(size=(6, size))
        values[0] = np.round(values[0], 1)  # ties
        theirs = np.quantile(values, [0.05, 0.95], axis=1)
        ours = percentiles(values, (0.05, 0.95))
        assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1]), size


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(1, 5),
    size=st.integers(1, 400),
    skew=st.floats(0, 4),
    ties=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_tail_percentiles_equal_np_quantile_whatever_the_shape(rows, size, skew, ties, seed):
    """Skewed rows, ties, short rows: the result is np.quantile's of the rows as given."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0, skew, size=(rows, size)) if skew else rng.normal(size=(rows, size))
    if ties:
        values = np.round(values, 1)
    for p in ((0.05, 0.95), (0.5,), (0.01, 0.99)):
        theirs = np.quantile(values, p, axis=1)
        assert all(np.array_equal(a, b) for a, b in zip(percentiles(values.copy(), p), theirs))
