"""placebo_means: the random-month means the report draws are the placebo test's own."""

import numpy as np
import pytest

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
    p_value, percentile, draws = placebo(population, ns, observed, 2_000, seed)
    assert draws.min() < 2_000 and draws.max() == 2_000  # some stopped early, some did not
    for i in range(3):
        means = placebo_means(values[i], int(ns[i]), 2_000, seed)
        assert means.shape == (2_000,)
        figures = sequential_figures(means, values[i], observed[i])
        assert figures == pytest.approx((p_value[i], percentile[i], draws[i]))


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
    """The bootstrap's percentiles (one partition, numpy's interpolation) equal np.quantile
    to the bit, for every size B, including ties and B = 1."""
    rng = np.random.default_rng(5)
    for size in (1, 2, 3, 10, 64, 999, 10_000):
        values = rng.normal(size=(6, size))
        values[0] = np.round(values[0], 1)  # ties
        ours = percentiles(values, (0.05, 0.95))
        theirs = np.quantile(values, [0.05, 0.95], axis=1)
        assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1]), size
