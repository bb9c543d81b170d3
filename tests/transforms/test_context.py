"""Context fields (SPEC §2 prior_12m, up_share), analogs (§2c) and the group
permutation test (§2c diff_p), against hand calculations."""

import datetime as dt
import itertools
import math

import numpy as np
import polars as pl
import pytest

import surgewatch.transforms as tf
from surgewatch.transforms.distances import nearest_analogs
from surgewatch.transforms.resampling import AS_FAR
from surgewatch.transforms.split import group_differences, permutation_p

D = dt.date.fromisoformat


def _month_end(ticker: str, months: list[str], closes: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": [ticker] * len(months),
            "month": [D(m + "-01") for m in months],
            "close": closes,
            "sessions": pl.Series([20] * len(months), dtype=pl.UInt32),
            "up_sessions": pl.Series([15] * len(months), dtype=pl.UInt32),
        }
    )


class TestContextFields:
    def test_prior_12m_compares_the_month_before_with_the_year_before_that(self):
        months = [f"{2023 + (i // 12)}-{i % 12 + 1:02d}" for i in range(15)]  # 2023-01 … 2024-03
        frame = tf.context_fields(_month_end("X", months, [100.0 + i for i in range(15)]))
        prior = dict(zip(frame["month"].dt.strftime("%Y-%m"), frame["prior_12m"]))
        assert prior["2024-01"] is None  # needs 2022-12
        assert prior["2024-02"] == pytest.approx(112 / 100 - 1)  # C[2024-01] / C[2023-01]
        assert prior["2024-03"] == pytest.approx(113 / 101 - 1)
        assert frame["up_share"].to_list() == [0.75] * 15

    def test_a_missing_month_is_never_bridged_and_tickers_never_mix(self):
        months = [f"{2023 + (i // 12)}-{i % 12 + 1:02d}" for i in range(15)]
        gap = _month_end("X", months, [100.0 + i for i in range(15)]).filter(pl.col("month") != D("2023-02-01"))
        other = _month_end("A", months[-2:], [50.0, 60.0])
        frame = tf.context_fields(pl.concat([other, gap]))
        only_x = frame.filter(pl.col("ticker") == "X")
        x = dict(zip(only_x["month"].dt.strftime("%Y-%m"), only_x["prior_12m"]))
        assert x["2024-03"] is None  # C[2023-02] is missing, not replaced by a neighbour
        assert x["2024-02"] == pytest.approx(112 / 100 - 1)
        assert frame.filter(pl.col("ticker") == "A")["prior_12m"].to_list() == [
            None,
            None,
        ]


def _candidate(
    month: str,
    move: float,
    up_share: float,
    prior_12m: float | None = 0.1,
    ticker: str = "X",
    prior_drawdown: float = -0.2,
) -> dict:
    return {
        "ticker": ticker,
        "month": D(month + "-01"),
        "move": move,
        "prior_drawdown": prior_drawdown,
        "prior_12m": prior_12m,
        "up_share": up_share,
        "fwd_1m": 0.01,
    }


class TestAnalogs:
    def test_three_candidates_two_features_by_hand(self):
        # prior_drawdown and prior_12m are the same for every candidate (deviation 0),
        # so only move and up_share count. move: mean 0.14, var 0.0056 / 3; up_share:
        # mean 0.6, var 0.02 / 3. A: (0.05² / var_m) + (0.15² / var_u) = 75/56 + 27/8 = 33/7;
        # B: 75/56 + 3/8 = 12/7; C: 27/56 + 3/8 = 6/7.
        candidates = pl.DataFrame(
            [
                _candidate("2020-01", 0.10, 0.5),
                _candidate("2021-01", 0.20, 0.7),
                _candidate("2022-01", 0.12, 0.6),
                _candidate("2019-01", 0.15, 0.65, prior_12m=None),  # missing a feature: left out
            ]
        )
        target = {
            "move": 0.15,
            "prior_drawdown": -0.3,
            "prior_12m": 0.2,
            "up_share": 0.65,
        }
        found = nearest_analogs(target, candidates, top=2)
        assert found.features == ("move", "up_share")
        assert (found.candidates.height, found.left_out) == (3, 1)
        assert found.nearest["month"].dt.strftime("%Y-%m").to_list() == [
            "2022-01",
            "2021-01",
        ]
        assert found.nearest["distance"].to_list() == pytest.approx([math.sqrt(6 / 7), math.sqrt(12 / 7)], rel=1e-12)
        everyone = nearest_analogs(target, candidates, top=5)
        assert everyone.nearest["distance"][-1] == pytest.approx(math.sqrt(33 / 7), rel=1e-12)

    def test_a_feature_that_differs_only_in_its_last_bits_is_not_used(self):
        # -0.3 and the next float below it: a deviation of ~1e-17 would make distances ~1e16.
        drawdowns = [-0.3, math.nextafter(-0.3, -1.0), -0.3]
        candidates = pl.DataFrame(
            [
                _candidate("2020-01", 0.10, 0.5, prior_drawdown=drawdowns[0]),
                _candidate("2021-01", 0.20, 0.7, prior_drawdown=drawdowns[1]),
                _candidate("2022-01", 0.12, 0.6, prior_drawdown=drawdowns[2]),
            ]
        )
        target = {"move": 0.15, "prior_drawdown": -0.1, "prior_12m": 0.2, "up_share": 0.65}
        found = nearest_analogs(target, candidates, top=3)
        assert found.features == ("move", "up_share")
        assert found.nearest["distance"].max() < 3

    def test_ties_go_to_the_earlier_month_then_the_ticker(self):
        # Moves 0.125 either side of the target's, exact in binary: equally near.
        candidates = pl.DataFrame(
            [
                _candidate("2021-01", 0.5, 0.6, ticker="B"),
                _candidate("2021-01", 0.5, 0.6, ticker="A"),
                _candidate("2020-01", 0.25, 0.6),
                _candidate("2019-01", 0.5, 0.6),
            ]
        )
        target = {
            "move": 0.375,
            "prior_drawdown": -0.2,
            "prior_12m": 0.1,
            "up_share": 0.6,
        }
        found = nearest_analogs(target, candidates, top=4)
        assert list(zip(found.nearest["month"].dt.strftime("%Y-%m"), found.nearest["ticker"])) == [
            ("2019-01", "X"),
            ("2020-01", "X"),
            ("2021-01", "A"),
            ("2021-01", "B"),
        ]


def _exact_p(when: list[float], otherwise: list[float]) -> float:
    """Every relabeling keeping the group sizes, counted (the limit of the random test)."""
    pooled, k = when + otherwise, len(when)
    observed = abs(np.mean(when) - np.mean(otherwise))
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), k):
        a = [pooled[i] for i in chosen]
        b = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        hits += abs(np.mean(a) - np.mean(b)) >= observed - 1e-12
        total += 1
    return hits / total


class TestPermutation:
    def test_matches_the_exact_enumeration(self):
        when, otherwise = [0.05, 0.08, 0.12, -0.01, 0.07], [0.01, -0.03, 0.02, 0.00]
        exact = _exact_p(when, otherwise)  # 126 relabelings
        p = permutation_p(np.array(when), np.array(otherwise), resamples=20_000, seed=0)
        # Stopped at the AS_FAR-th relabeling as far: within its ~sqrt((1 - p) / 100) relative error.
        assert p == pytest.approx(exact, rel=3 * np.sqrt((1 - exact) / AS_FAR))
        assert p == permutation_p(np.array(when), np.array(otherwise), resamples=20_000, seed=0)
        assert p != permutation_p(np.array(when), np.array(otherwise), resamples=20_000, seed=1)

    def test_counts_the_observed_labeling_and_has_no_value_for_an_empty_group(self):
        # Two values: the only other labeling swaps them, equally extreme: p = 1.
        assert permutation_p(np.array([1.0]), np.array([0.0]), resamples=99, seed=0) == 1.0
        # ... and with more relabelings it stops at the AS_FAR-th, every one as far: still 1.
        assert permutation_p(np.array([1.0]), np.array([0.0]), resamples=10_000, seed=0) == 1.0

    def test_a_clear_difference_draws_every_relabeling(self):
        rng = np.random.default_rng(0)
        when, otherwise = rng.normal(0.05, 0.01, 30), rng.normal(0.0, 0.01, 30)
        assert permutation_p(when, otherwise, resamples=1_000, seed=0) == 1 / 1_001
        assert permutation_p(np.array([]), np.array([0.1]), resamples=99, seed=0) is None

    def test_group_differences_per_horizon(self):
        when = pl.DataFrame(
            {"fwd_1m": [0.1, 0.3], "fwd_3m": [None, None]},
            schema_overrides={"fwd_3m": pl.Float64},
        )
        otherwise = pl.DataFrame({"fwd_1m": [0.0, None], "fwd_3m": [0.2, 0.1]})
        diff = group_differences(when, otherwise, (1, 3), resamples=999, seed=0)
        assert diff["difference"].to_list() == [pytest.approx(0.2), None]
        assert diff["diff_p"][0] == pytest.approx(_exact_p([0.1, 0.3], [0.0]), abs=0.05)
        assert diff["diff_p"][1] is None
