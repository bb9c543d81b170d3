"""SPEC §2b figures: exact ones against independent calculations, random ones by their
statistical properties with fixed seeds."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from surgewatch.core.errors import InputError, ValidationFailed
from surgewatch.schemas import SignalStats, validate
from surgewatch.sources.csv_files import read_price_csv
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.transforms.resampling import placebo_rounds
from surgewatch.transforms.significance import populations, q_values, horizon_figures
from surgewatch.core.vocabulary import forward_column

sm = pytest.importorskip("statsmodels.api")

HORIZONS = (1, 3, 6, 12)


def synthetic(returns: np.ndarray, is_event: np.ndarray, horizon: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(monthly, events) for tickers T000… : row i of the (tickers × months) arrays is a
    ticker, column j its month j (from 2000-01)."""
    tickers, months = returns.shape
    first = [dt.date(2000 + j // 12, j % 12 + 1, 1) for j in range(months)]
    monthly = pl.DataFrame(
        {
            "ticker": np.repeat([f"T{i:03d}" for i in range(tickers)], months),
            "month": first * tickers,
            forward_column(horizon): returns.ravel(),
        }
    )
    events = monthly.filter(pl.Series(is_event.ravel()))
    return monthly, events


def hac_t(ret: list[float], dummy: list[float], horizon: int) -> float:
    """statsmodels' Newey–West t of the event dummy: the independent reference."""
    x = sm.add_constant(np.array(dummy, dtype=float))
    fit = sm.OLS(np.array(ret), x).fit(cov_type="HAC", cov_kwds={"maxlags": horizon - 1, "use_correction": False})
    return float(fit.tvalues[1])


def greedy_independent(months: list[int], rets: list[float], horizon: int) -> tuple[int, float | None]:
    kept, last = [], None
    for month, ret in zip(months, rets):
        if last is None or month - last >= horizon:
            kept.append(ret)
            last = month
    return len(kept), (sum(kept) / len(kept) if kept else None)


@pytest.fixture(scope="module")
def iwm(prices_dir):
    """IWM as of 2026-07-31, threshold 0.10 up, price basis, seed 0, B = 10,000."""
    prices = read_price_csv(prices_dir / "IWM.csv", "IWM")
    return run_study(prices, StudyParams(horizons=HORIZONS), as_of=dt.date(2026, 7, 31))


# IWM's figures, rounded (the implementations above reproduce them): n, n_independent, excess, win_p, t_hac.
PINNED = {
    1: (15, 15, 0.013873, 0.793413, 1.132770),
    3: (15, 14, 0.052198, 0.284010, 2.427888),
    6: (14, 11, 0.059083, 0.099765, 1.599031),
    12: (14, 9, 0.088369, 0.408697, 1.523074),
}


class TestIwmExactFigures:
    @pytest.mark.parametrize("h", HORIZONS)
    def test_against_independent_implementations(self, iwm, h):
        fwd = forward_column(h)
        a = iwm.monthly.filter(pl.col(fwd).is_not_null()).sort("month")
        event_months = set(iwm.events["month"])
        ret = a[fwd].to_list()
        dummy = [m in event_months for m in a["month"]]
        r_e = [r for r, d in zip(ret, dummy) if d]
        row = iwm.stats.filter(pl.col("horizon") == h).row(0, named=True)

        assert row["n"] == len(r_e)
        assert row["excess"] == pytest.approx(sum(r_e) / len(r_e) - sum(ret) / len(ret), rel=1e-12)
        k, p0 = sum(r > 0 for r in r_e), sum(r > 0 for r in ret) / len(ret)
        assert row["win_p"] == pytest.approx(sps.binomtest(k, len(r_e), p0).pvalue, rel=1e-9)
        assert row["t_hac"] == pytest.approx(hac_t(ret, dummy, h), rel=1e-9)
        months = [m.year * 12 + m.month for m, d in zip(a["month"], dummy) if d]
        count, average = greedy_independent(months, r_e, h)
        assert (row["n_independent"], row["average_independent"]) == (count, pytest.approx(average, rel=1e-12))

    @pytest.mark.parametrize("h", HORIZONS)
    def test_pinned_values(self, iwm, h):
        row = iwm.stats.filter(pl.col("horizon") == h).row(0, named=True)
        n, n_ind, excess, win, t = PINNED[h]
        assert (row["n"], row["n_independent"]) == (n, n_ind)
        assert (row["excess"], row["win_p"], row["t_hac"]) == (
            pytest.approx(excess, abs=5e-7),
            pytest.approx(win, abs=5e-7),
            pytest.approx(t, abs=5e-7),
        )

    def test_random_figures_are_sane_and_valid(self, iwm):
        frame = iwm.stats
        assert (frame["ci_low"] < frame["ci_high"]).all()
        average = iwm.summary["average"]
        assert ((frame["ci_low"] <= average) & (average <= frame["ci_high"])).all()
        assert frame["placebo_p"].is_between(1 / 10_001, 1).all()
        assert frame["q_value"].ge(frame["placebo_p"]).all()


class TestExactFiguresSynthetic:
    def test_hac_and_binomial_many_tickers_at_once(self):
        rng = np.random.default_rng(5)
        returns = rng.normal(0.01, 0.05, size=(6, 80))
        is_event = rng.random((6, 80)) < 0.2
        for h in (1, 4):
            monthly, events = synthetic(returns, is_event, h)
            got = horizon_figures(monthly, events, [h], resamples=50)
            for i in range(6):
                row = got.row(i, named=True)
                assert row["t_hac"] == pytest.approx(hac_t(list(returns[i]), list(is_event[i]), h), rel=1e-9)
                k, n = int((returns[i][is_event[i]] > 0).sum()), int(is_event[i].sum())
                p0 = float((returns[i] > 0).mean())
                assert row["win_p"] == pytest.approx(sps.binomtest(k, n, p0).pvalue, rel=1e-9)

    def test_undefined_figures_are_null(self):
        returns = np.array([[0.1, 0.2, 0.3], [0.1, -0.1, 0.2], [0.05, 0.02, 0.01]])
        is_event = np.array([[True, True, True], [True, False, False], [False, False, False]])
        row = {
            r["ticker"]: r
            for r in horizon_figures(*synthetic(returns, is_event), [1], resamples=20).iter_rows(named=True)
        }
        assert row["T000"]["placebo_p"] is None  # n = N: no random set differs
        assert row["T001"]["ci_low"] is None and row["T001"]["t_hac"] is None  # n = 1
        assert row["T002"]["n"] == 0 and row["T002"]["excess"] is None and row["T002"]["win_p"] is None
        assert row["T002"]["n_independent"] == 0

    def test_horizon_without_any_complete_window(self):
        monthly, events = synthetic(np.full((2, 3), np.nan), np.ones((2, 3), bool))
        got = horizon_figures(monthly.with_columns(pl.col("fwd_1m").fill_nan(None)), events, [1], resamples=20)
        assert got["n"].to_list() == [0, 0] and got["t_hac"].null_count() == 2


class TestRandomFigures:
    def test_placebo_p_uniform_under_null(self):
        rng = np.random.default_rng(11)
        returns = rng.normal(0, 0.05, size=(400, 120))
        is_event = rng.random((400, 120)) < 0.1  # events chosen regardless of returns
        got = horizon_figures(*synthetic(returns, is_event), [1], resamples=999, seed=3)
        p = got["placebo_p"].drop_nulls().to_numpy()
        assert sps.kstest(p, "uniform").pvalue > 0.01
        assert 0.02 < (p <= 0.05).mean() < 0.09

    def test_ci_covers_the_true_mean_at_about_90_percent(self):
        rng = np.random.default_rng(12)
        returns = rng.normal(0.02, 0.05, size=(400, 60))
        is_event = np.zeros((400, 60), bool)
        is_event[:, ::2] = True  # n = 30 events per ticker
        got = horizon_figures(*synthetic(returns, is_event), [1], resamples=2_000, seed=4)
        covered = ((got["ci_low"] <= 0.02) & (0.02 <= got["ci_high"])).mean()
        assert 0.85 <= covered <= 0.95

    def test_same_seed_same_figures_other_seed_other_random_figures(self):
        rng = np.random.default_rng(13)
        returns = rng.normal(0, 0.05, size=(5, 90))
        is_event = rng.random((5, 90)) < 0.2
        data = synthetic(returns, is_event, 3)
        first, again = (horizon_figures(*data, [3], resamples=500, seed=1) for _ in range(2))
        other = horizon_figures(*data, [3], resamples=500, seed=2)
        assert first.equals(again)
        exact = ["n", "n_independent", "average_independent", "excess", "win_p", "t_hac"]
        assert first.select(exact).equals(other.select(exact))
        for column in ("ci_low", "ci_high", "placebo_p"):
            assert (first[column] != other[column]).any()

    def test_a_tickers_figures_do_not_depend_on_the_others(self):
        rng = np.random.default_rng(14)
        returns = rng.normal(0, 0.05, size=(4, 90))
        is_event = rng.random((4, 90)) < 0.2
        together = horizon_figures(*synthetic(returns, is_event), [1], resamples=300)
        alone = horizon_figures(*synthetic(returns[:1], is_event[:1]), [1], resamples=300)
        assert together.head(1).equals(alone)


class TestQValues:
    def test_benjamini_hochberg_by_hand(self):
        frame = pl.DataFrame({"ticker": ["A"] * 5 + ["B"] * 2, "placebo_p": [0.01, 0.04, 0.03, 0.20, None, 0.5, 0.02]})
        # A: m = 4, sorted 0.01, 0.03, 0.04, 0.20 → 4·0.01, min(2·0.03, 4/3·0.04), 4/3·0.04, 0.20.
        expected = [0.04, 4 / 3 * 0.04, 4 / 3 * 0.04, 0.20, None, 0.5, 0.04]
        assert q_values(frame).to_list() == pytest.approx(expected)


class TestSchemaAndParams:
    def row(self, **overrides) -> pl.DataFrame:
        base = {
            "ticker": "A",
            "horizon": 1,
            "n": 5,
            "n_independent": 4,
            "average_independent": 0.1,
            "excess": 0.02,
            "ci_low": 0.01,
            "ci_high": 0.03,
            "placebo_p": 0.2,
            "placebo_percentile": 0.9,
            "win_p": 0.5,
            "t_hac": 1.0,
            "q_value": 0.3,
            "placebo_draws": 500,
            "chance_low": -0.01,
            "chance_high": 0.04,
            "verdict": "no different from random months",
        }
        frame = pl.DataFrame([{**base, **overrides}])
        return frame.with_columns(
            pl.col("n", "n_independent", "placebo_draws").cast(pl.UInt32), pl.col("horizon").cast(pl.Int64)
        )

    def test_valid_row_passes(self):
        validate(self.row(), SignalStats, "signal_stats")

    @pytest.mark.parametrize(
        "bad",
        [
            {"ci_low": 0.05},
            {"chance_low": 0.05},
            {"chance_low": None},
            {"placebo_p": None, "q_value": None},
            {"n_independent": 6},
            {"placebo_p": 1.5},
            {"q_value": -0.1},
            {"verdict": "maybe"},
        ],
    )
    def test_broken_rules_are_refused(self, bad):
        with pytest.raises(ValidationFailed, match="signal_stats"):
            validate(self.row(**bad), SignalStats, "signal_stats")

    @pytest.mark.parametrize(
        "bad",
        [{"resamples": 0}, {"resamples": -1}, {"resamples": 1.5}, {"resamples": 100_001}, {"seed": -1}, {"seed": "x"}],
    )
    def test_params_refuse_bad_resamples_and_seed(self, bad):
        with pytest.raises(InputError):
            StudyParams(**bad)


def _plain_ordered_samples(size: int, length: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The plain partial Fisher–Yates shuffle (resamples × length): every row a full range(size)."""
    order = np.tile(np.arange(size, dtype=np.int32), (resamples, 1))
    rows = np.arange(resamples)
    for k in range(length):
        j = rng.integers(k, size, size=resamples)
        kept = order[:, k].copy()
        order[:, k] = order[rows, j]
        order[rows, j] = kept
    return order[:, :length]


@settings(max_examples=200, deadline=None)
@given(
    shapes=st.lists(st.tuples(st.integers(1, 40), st.floats(0, 1)), min_size=1, max_size=6),
    resamples=st.integers(1, 30),
    round_=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_side_by_side_shuffles_equal_the_plain_one_of_each_population(shapes, resamples, round_, seed):
    """placebo_rounds draws several populations at once (sparse swaps, every step's
    numbers in one call; or the compiled swaps, column by column): each population's
    sets are the plain shuffle's from its own generator, whatever populations share the batch."""
    sized = [(size, round(share * size)) for size, share in shapes]
    for compiled in (False, True):
        fast = placebo_rounds(sized, round_, resamples, seed, compiled)
        for (size, length), sets in zip(sized, fast):
            rng = np.random.default_rng([seed, 2, size, round_])
            assert np.array_equal(sets.T, _plain_ordered_samples(size, length, resamples, rng))


@settings(max_examples=100, deadline=None)
@given(
    shapes=st.lists(st.tuples(st.integers(2, 40), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=6),
    resamples=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_shorter_rounds_sets_are_the_first_rows_of_a_longer_ones(shapes, resamples, seed):
    """What lets the placebo draw a round ahead with the round before's lengths: the sets
    of a population drawn to any shorter length are the first rows of those drawn longer."""
    longer = [(size, round(a * (size - 1))) for size, a, _ in shapes]
    shorter = [(size, round(b * length)) for (size, length), (_, _, b) in zip(longer, shapes)]
    for compiled in (False, True):
        for (_, length), long, short in zip(
            shorter,
            placebo_rounds(longer, 1, resamples, seed, compiled),
            placebo_rounds(shorter, 1, resamples, seed, compiled),
        ):
            assert np.array_equal(long[:length], short)


@settings(max_examples=50, deadline=None)
@given(
    data=st.data(),
    tickers=st.integers(1, 6),
    months=st.integers(3, 30),
    seed=st.integers(0, 1000),
)
def test_all_horizons_at_once_give_each_horizons_own_figures(data, tickers, months, seed):
    rng = np.random.default_rng(seed)
    returns = rng.normal(0, 0.05, size=(tickers, months))
    is_event = rng.random((tickers, months)) < data.draw(st.floats(0.05, 0.9))
    monthly, events = synthetic(returns, is_event)
    for h in (2, 3):
        shifted = monthly.with_columns(pl.col("fwd_1m").shift(-h + 1).over("ticker").alias(forward_column(h)))
        monthly, events = (
            shifted,
            events.join(shifted.select("ticker", "month", forward_column(h)), on=["ticker", "month"]),
        )
    together = horizon_figures(monthly, events, [1, 2, 3], resamples=64, seed=seed)
    for h in (1, 2, 3):
        alone = horizon_figures(monthly, events, [h], resamples=64, seed=seed)
        assert together.filter(pl.col("horizon") == h).equals(alone)


class TestFixedFamily:
    """SPEC §2b: q_value adjusts across 1, 3, 6, 12 plus any asked horizon, whichever are shown."""

    def test_the_q_and_verdict_at_3m_are_the_same_asked_alone_or_with_the_default(self, prices_dir):
        prices = read_price_csv(prices_dir / "IWM.csv", "IWM")
        default = run_study(prices, StudyParams(resamples=2_000)).stats
        alone = run_study(prices, StudyParams(horizons=(3,), resamples=2_000)).stats
        assert alone["horizon"].to_list() == [3]
        assert alone.equals(default.filter(pl.col("horizon") == 3))

    def test_an_asked_horizon_joins_the_family(self, prices_dir):
        prices = read_price_csv(prices_dir / "IWM.csv", "IWM")
        five = run_study(prices, StudyParams(horizons=(1, 3, 6, 12, 24), resamples=2_000)).stats
        asked = run_study(prices, StudyParams(horizons=(3, 24), resamples=2_000)).stats
        assert asked.equals(five.filter(pl.col("horizon").is_in([3, 24])))
        # Benjamini–Hochberg by hand over the five p-values: m = 5, not the two shown.
        p = five["placebo_p"].to_list()
        order = sorted(range(5), key=lambda i: p[i])
        q, running = [0.0] * 5, 1.0
        for rank in range(5, 0, -1):
            running = min(running, 5 / rank * p[order[rank - 1]])
            q[order[rank - 1]] = running
        assert asked["q_value"].to_list() == pytest.approx([q[1], q[4]], rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_populations_mark_the_events_months_as_a_join_by_ticker_and_month_does(data, seed):
    """populations matches events to months by month keys (ticker run, month number), not
    by a join: the same marks and returns as the join, for months before 1970 too, with
    events of a ticker the months lack, and whatever order the frames come in."""
    rng = np.random.default_rng(seed)
    rows = []
    for ticker in data.draw(st.lists(st.sampled_from(["A", "BB", "C", "Z"]), min_size=1, max_size=4, unique=True)):
        first = data.draw(st.integers(1960 * 12, 1975 * 12))
        months = sorted(set(rng.integers(first, first + 40, size=data.draw(st.integers(1, 30))).tolist()))
        rows += [(ticker, dt.date(m // 12, m % 12 + 1, 1), float(rng.normal())) for m in months]
    monthly = pl.DataFrame(rows, schema={"ticker": pl.String, "month": pl.Date, "fwd_1m": pl.Float64}, orient="row")
    monthly = monthly.with_columns(pl.when(pl.col("fwd_1m") > 1.5).then(None).otherwise("fwd_1m").alias("fwd_1m"))
    events = pl.concat(
        [
            monthly.sample(fraction=0.4, seed=seed).select("ticker", "month"),
            pl.DataFrame({"ticker": ["Q"], "month": [dt.date(1969, 12, 1)]}),
        ]
    ).sample(fraction=1.0, shuffle=True, seed=seed)
    (pop,) = populations(monthly.sample(fraction=1.0, shuffle=True, seed=seed), events, [1])
    expected = (
        monthly.join(events.with_columns(_event=pl.lit(True)), on=["ticker", "month"], how="left")
        .filter(pl.col("fwd_1m").is_not_null())
        .sort("ticker", "month")
    )
    assert pop.ret.tolist() == expected["fwd_1m"].to_list()
    assert pop.event.tolist() == expected["_event"].fill_null(False).to_list()
    numbers = {t: i for i, t in enumerate(monthly["ticker"].unique().sort())}  # every ticker of the months
    assert pop.tid.tolist() == [numbers[t] for t in expected["ticker"]]
    assert pop.tickers == len(numbers)
