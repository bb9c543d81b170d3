"""The §2b per-ticker loop `make bench` compares the engine with gives the engine's exact
figures, and random ones within their Monte Carlo error (keeps that comparison honest)."""

import datetime as dt

import numpy as np
import polars as pl

from benchmarks.stats_peer import peer_stats
from benchmarks.universe import generate_universe
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study


def test_the_loop_and_the_engine_agree():
    prices = generate_universe(8, 12, seed=3, end=dt.date(2025, 6, 30))
    result = run_study(prices, StudyParams(threshold=0.06, resamples=4_000))
    loop = peer_stats(result.monthly, result.events, (1, 3, 12), 4_000, 0)
    engine = result.stats.filter(pl.col("horizon").is_in([1, 3, 12]))
    joined = loop.join(engine, on=["ticker", "horizon"], suffix="_engine")
    assert joined.height == loop.height == engine.height == 24
    for column in ("n", "excess", "win_p", "t_hac", "n_independent", "average_independent"):
        a, b = joined[column].cast(pl.Float64).to_numpy(), joined[f"{column}_engine"].cast(pl.Float64).to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=column)
    # Random figures: other draws, the same distribution.
    p, q = joined["placebo_p"].to_numpy(), joined["placebo_p_engine"].to_numpy()
    assert np.all(np.abs(p - q) <= 4 * np.sqrt(p * (1 - p) / 4_000) + 0.4 * p + 1e-3)
    low, low_engine = joined["ci_low"].to_numpy(), joined["ci_low_engine"].to_numpy()
    width = joined["ci_high_engine"].to_numpy() - low_engine
    assert np.all(np.abs(low - low_engine) <= 0.1 * width + 1e-9)
