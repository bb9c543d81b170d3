"""surgewatch.study.update: a night's study from the published results and a window of daily
rows equals run_study over the whole history, to the last bit (hypothesis over ragged
universes and nights)."""

import datetime as dt
from functools import cache

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from benchmarks.universe import UniverseShape, generate_universe
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.study.update import LOOKBACK_ROWS, Published, reusable, uncovered, update_study, windows, with_stats

PARAMS = StudyParams(resamples=400)
RAGGED = UniverseShape(late_listing_share=0.3, delisting_share=0.2, gappy_share=0.4, gaps_per_gappy_ticker=8)


@cache
def universe(seed: int) -> pl.DataFrame:
    return generate_universe(8, 3, seed=seed, shape=RAGGED)


def spans(prices: pl.DataFrame) -> pl.DataFrame:
    return prices.group_by("ticker").agg(first_session=pl.col("date").min(), last_session=pl.col("date").max())


def night(
    prices: pl.DataFrame, stored_to: dt.date, night_to: dt.date, params: StudyParams = PARAMS, banded: bool = True
):
    """The update of a night that brings the sessions after stored_to up to night_to;
    banded=False: the published §2b rows lack the chance band (published before it existed)."""
    stored = prices.filter(pl.col("date") <= stored_to)
    before = run_study(stored, params)
    stats = before.stats if banded else before.stats.with_columns(chance_low=None, chance_high=None)
    published = Published(
        before.monthly,
        before.events,
        stats.with_columns(
            threshold=pl.lit(params.threshold),
            direction=pl.lit(params.direction),
            basis=pl.lit(params.basis),
            resamples=pl.lit(params.resamples),
            seed=pl.lit(params.seed),
        ),
    )
    held = spans(stored)
    plan = windows(held)
    window = (
        prices.filter(pl.col("date") <= night_to)
        .join(plan, on="ticker")
        .filter(pl.col("date") >= pl.col("start"))
        .select(prices.columns)
        .sort("ticker", "date")
    )
    return with_stats(update_study(window, plan, published, params)), window, plan, held, published


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 3), back=st.integers(1, 120), step=st.integers(1, 25))
def test_a_night_equals_the_whole_history_recomputed(seed, back, step):
    prices = universe(seed)
    dates = prices["date"].unique().sort()
    stored_to, night_to = dates[-back - step], dates[-back]
    update, window, plan, held, _ = night(prices, stored_to, night_to)
    if uncovered(window, plan, held):
        pytest.skip("a gappy ticker's window is short: the flow recomputes it whole")
    full = run_study(prices.filter(pl.col("date") <= night_to), PARAMS)
    for name in ("monthly", "events", "summary", "baseline", "stats"):
        assert_frame_equal(getattr(update.study, name), getattr(full, name), check_exact=True)


def test_only_changed_inputs_recompute_signal_stats():
    prices = universe(0)
    dates = prices["date"].unique().sort().to_list()
    month_ends = [i for i in range(len(dates) - 1) if dates[i].month != dates[i + 1].month]
    mid = month_ends[-2] - 5
    quiet, _, _, _, _ = night(prices, dates[mid], dates[mid + 1])
    completing, _, _, _, _ = night(prices, dates[month_ends[-2] - 1], dates[month_ends[-2]])
    assert quiet.stats_recomputed == 0
    tickers = completing.study.monthly["ticker"].n_unique()
    assert 0 < completing.stats_recomputed <= tickers * len(PARAMS.horizons)
    # Only the changed month-end rows are handed to the publish: this month's, not history.
    assert quiet.month_end_changes.height <= tickers
    assert set(quiet.month_end_changes["month"].dt.month_start().to_list()) <= {dates[mid + 1].replace(day=1)}


def test_rows_published_before_the_chance_band_are_recomputed_once():
    """Migration 5 adds chance_low/high as nulls: the next night recomputes those rows
    (only those with a test: a p) and its study equals the whole history's."""
    prices = universe(0)
    dates = prices["date"].unique().sort().to_list()
    update, *_ = night(prices, dates[-3], dates[-2], banded=False)
    full = run_study(prices.filter(pl.col("date") <= dates[-2]), PARAMS)
    assert update.stats_recomputed == full.stats.filter(pl.col("placebo_p").is_not_null()).height > 0
    assert_frame_equal(update.study.stats, full.stats, check_exact=True)


def test_results_published_with_other_parameters_are_not_built_on():
    prices = universe(1)
    dates = prices["date"].unique().sort()
    *_, published = night(prices, dates[-3], dates[-2])
    assert reusable(published, PARAMS) == sorted(published.month_end["ticker"].unique().to_list())
    assert reusable(published, StudyParams(resamples=400, threshold=0.2)) == []
    assert reusable(published, StudyParams(resamples=500)) == []


def test_a_gappy_ticker_whose_window_is_short_is_named():
    dates = pl.date_range(dt.date(2020, 1, 1), dt.date(2023, 12, 31), "1d", eager=True)
    kept = dates.filter(dates.dt.weekday() <= 5)
    rows = pl.DataFrame({"ticker": "GAP", "date": kept}).with_row_index()
    # Two sessions of three missing before June 2023: the window holds too few rows.
    sparse = rows.filter((pl.col("date") > dt.date(2023, 6, 1)) | (pl.col("index") % 3 == 0)).drop("index")
    held = spans(sparse)
    plan = windows(held)
    window = sparse.join(plan, on="ticker").filter(pl.col("date") >= pl.col("start")).select("ticker", "date")
    assert window.filter(pl.col("date") < plan["since"][0]).height < LOOKBACK_ROWS
    assert uncovered(window, plan, held) == ["GAP"]
    # The same ticker from its first row on is covered: there is nothing before the window.
    late = sparse.filter(pl.col("date") >= plan["start"][0])
    assert uncovered(late.select("ticker", "date"), windows(spans(late)), spans(late)) == []
