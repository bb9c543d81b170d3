"""The sequential random-month test (SPEC §2b, Besag & Clifford 1991) by its properties:
uniform p under a null, reproducible for a seed, within its stated precision of a long
fixed-B run, and a ticker's figures untouched by the tickers beside it."""

import numpy as np
import polars as pl
import pytest

from surgewatch.transforms.resampling import _TIE, AS_FAR, Returns, placebo, placebo_means
from surgewatch.transforms.significance import horizon_figures
from tests.transforms.test_significance import synthetic


def null_population(tickers: int, size: int, n: int, seed: int):
    """Tickers whose events are n months picked at random: no signal by construction."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.01, 0.05, size=(tickers, size))
    events = np.argsort(rng.random((tickers, size)), axis=1)[:, :n]
    observed = np.take_along_axis(values, events, axis=1).mean(axis=1)
    population = Returns(values.ravel(), np.arange(tickers) * size, np.full(tickers, size))
    return values, population, np.full(tickers, n), observed


def test_p_is_uniform_under_a_null():
    _, population, n, observed = null_population(1_500, 60, 8, seed=11)
    p, _, draws, *_ = placebo(population, n, observed, 2_000, seed=3)
    for alpha in (0.05, 0.10, 0.25, 0.50):
        share = (p <= alpha).mean()
        assert abs(share - alpha) < 4 * np.sqrt(alpha * (1 - alpha) / len(p)), (alpha, share)
    # The work goes where the answer is in doubt: a typical null ticker stops early.
    assert np.median(draws) < 400 and draws.max() == 2_000


def test_same_seed_same_figures_other_seed_other_draws():
    _, population, n, observed = null_population(50, 120, 12, seed=1)
    first = placebo(population, n, observed, 3_000, seed=9)
    again = placebo(population, n, observed, 3_000, seed=9)
    other = placebo(population, n, observed, 3_000, seed=10)
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def fixed_b_p(values: np.ndarray, n: int, observed: float, resamples: int, seed: int) -> float:
    """The non-sequential figure: (1 + #as far) / (B + 1) over B random sets."""
    means = placebo_means(values, n, resamples, seed)
    mu = values.mean()
    return (1 + (np.abs(means - mu) >= abs(observed - mu) * (1 - _TIE)).sum()) / (resamples + 1)


def test_early_stop_within_its_precision_of_a_100k_run():
    """p = h / L has a relative standard error of about sqrt((1 - p) / h) (≈ 10% at h = 100):
    four tickers whose tests stop early agree with B = 100,000 (another seed) within 3 of it."""
    rng = np.random.default_rng(2)
    size, n = 240, 15
    values = rng.normal(0.01, 0.05, size=(4, size))
    # Events pulled a little above the mean by different amounts: p from ~0.05 to ~0.6.
    observed = values.mean(axis=1) + np.array([0.006, 0.012, 0.018, 0.024])
    population = Returns(values.ravel(), np.arange(4) * size, np.full(4, size))
    p, _, draws, *_ = placebo(population, np.full(4, n), observed, 10_000, seed=0)
    assert (draws < 10_000).all()
    for i in range(4):
        long_run = fixed_b_p(values[i], n, observed[i], 100_000, seed=1)
        tolerance = 3 * long_run * np.sqrt((1 - long_run) / AS_FAR) + 3 * np.sqrt(long_run / 100_000)
        assert abs(p[i] - long_run) <= tolerance, (i, p[i], long_run, draws[i])


def test_a_tickers_figures_do_not_depend_on_who_else_is_studied():
    rng = np.random.default_rng(4)
    returns = rng.normal(0.01, 0.05, size=(6, 80))
    is_event = rng.random((6, 80)) < 0.15
    returns[3:, 70:] = np.nan  # other lengths too: the joining tickers need not share a shape
    monthly, events = synthetic(returns, is_event)
    monthly = monthly.filter(pl.col("fwd_1m").is_not_nan())
    events = events.filter(pl.col("fwd_1m").is_not_nan())
    alone = horizon_figures(monthly.filter(pl.col("ticker") == "T000"), events, [1], resamples=4_000, seed=0)
    together = horizon_figures(monthly, events, [1], resamples=4_000, seed=0).filter(pl.col("ticker") == "T000")
    assert together.equals(alone)
    assert together["placebo_draws"][0] > 0


def test_no_test_where_every_month_or_none_is_an_event():
    values = np.ones((2, 10)) * np.arange(10)
    population = Returns(values.ravel(), np.array([0, 10]), np.array([10, 10]))
    p, percentile, draws, *_ = placebo(population, np.array([0, 10]), np.array([np.nan, 4.5]), 1_000, 0)
    assert np.isnan(p).all() and np.isnan(percentile).all() and (draws == 0).all()


@pytest.mark.parametrize("resamples", [1, 511, 512, 513, 1_500])
def test_round_edges_count_every_set_once(resamples):
    """B not a multiple of the round: a ticker that never stops draws exactly B sets."""
    values, population, n, _ = null_population(1, 50, 5, seed=8)
    far_out = np.array([values[0].max() * 10])  # no random set is as far
    p, percentile, draws, *_ = placebo(population, n, far_out, resamples, 0)
    assert draws[0] == resamples and p[0] == pytest.approx(1 / (resamples + 1)) and percentile[0] == 1.0
