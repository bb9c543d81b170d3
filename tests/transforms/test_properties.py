"""Invariants of the study that must hold for any price path (hypothesis)."""

import datetime as dt

import polars as pl
from hypothesis import given, settings, strategies as st

from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.core.vocabulary import forward_column, drawdown_column

SESSIONS = nyse_sessions(dt.date(2015, 1, 1), dt.date(2020, 12, 31))["date"]
HORIZONS = (1, 2, 3, 6)


@st.composite
def price_paths(draw) -> pl.DataFrame:
    frames = []
    for ticker in draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True)):
        n = draw(st.integers(min_value=2, max_value=500))
        start = draw(st.integers(min_value=0, max_value=len(SESSIONS) - n))
        steps = draw(st.lists(st.floats(-0.09, 0.09), min_size=n - 1, max_size=n - 1))
        closes = [100.0]
        for r in steps:
            closes.append(closes[-1] * (1 + r))
        frames.append(
            pl.DataFrame({"ticker": ticker, "date": SESSIONS[start : start + n], "close": closes}).with_columns(
                open=pl.col("close"),
                high=pl.col("close"),
                low=pl.col("close"),
                adj_close=pl.col("close"),
                volume=pl.lit(1, dtype=pl.Int64),
            )
        )
    return pl.concat(frames)


params = st.builds(
    StudyParams,
    threshold=st.floats(0.005, 0.2),
    direction=st.sampled_from(["up", "down"]),
    horizons=st.just(HORIZONS),
)


@settings(max_examples=60, deadline=None)
@given(prices=price_paths(), p=params)
def test_study_invariants(prices: pl.DataFrame, p: StudyParams):
    result = run_study(prices, p)
    events = result.events
    for h in HORIZONS:
        fwd, mdd = events[forward_column(h)], events[drawdown_column(h)]
        # A drawdown is never above 0 nor above the path's own end point.
        assert ((mdd <= 0) & (mdd <= fwd.clip(upper_bound=0) + 1e-12)).fill_null(True).all()
        assert (fwd.is_null() == mdd.is_null()).all()
    for shorter, longer in zip(HORIZONS, HORIZONS[1:]):
        both = events.drop_nulls([drawdown_column(longer)])
        assert (both[drawdown_column(longer)] <= both[drawdown_column(shorter)] + 1e-12).all()
    if p.direction == "up":
        assert (events["move"] >= p.threshold).all()
    else:
        assert (events["move"] <= -p.threshold).all()
    # A month-end past the threshold means some session of the month got there first.
    assert events["first_crossed_on"].null_count() == 0
    for row in result.summary.iter_rows(named=True):
        known = events.filter(pl.col("ticker") == row["ticker"])[forward_column(row["horizon"])].drop_nulls()
        assert row["n"] == len(known)
        if row["n"]:
            assert 0 <= row["win_rate"] <= 1
            assert row["max_drawdown"] <= 0


@settings(max_examples=25, deadline=None)
@given(prices=price_paths())
def test_each_ticker_is_studied_as_if_alone(prices: pl.DataFrame):
    p = StudyParams(threshold=0.03, horizons=HORIZONS)
    together = run_study(prices.sample(fraction=1.0, shuffle=True, seed=1), p)
    for ticker in prices["ticker"].unique():
        alone = run_study(prices.filter(pl.col("ticker") == ticker), p)
        assert together.events.filter(pl.col("ticker") == ticker).equals(alone.events)
        assert together.baseline.filter(pl.col("ticker") == ticker).equals(alone.baseline)


@settings(max_examples=60, deadline=None)
@given(prices=price_paths(), p=params)
def test_first_crossing_fast_path_matches_the_join(prices: pl.DataFrame, p: StudyParams):
    """signal_events finds first_crossed_on by gathering each event month's block of rows
    (numpy reduceat: 4x faster than the join on the benchmark's 300 x 30-year universe);
    the plain join by (ticker, month) must give the same days."""
    from surgewatch.core.frames import ticker_runs
    from surgewatch.transforms.events import _first_crossed_by_join, _month_rows

    result = run_study(prices, p)
    months = result.monthly.with_columns(
        previous_close=pl.when(pl.col("ticker") == pl.col("ticker").shift(1)).then(pl.col("close").shift(1))
    )
    runs = ticker_runs(months), ticker_runs(result.prices)
    assert _month_rows(months, runs[0], result.prices, runs[1]) is not None  # the fast path is the one taken
    joined = _first_crossed_by_join(
        result.events.join(months.select("ticker", "month", "previous_close"), on=["ticker", "month"], how="left"),
        result.prices,
        p.threshold,
        p.direction,
        p.basis,
    )
    assert result.events["first_crossed_on"].to_list() == joined.to_list()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), tickers=st.integers(1, 4), chunks=st.integers(1, 6))
def test_summary_is_the_same_to_the_bit_whatever_the_frames_chunks_and_order(data, tickers, chunks):
    """horizon_summary over a frame cut into chunks, its tickers' rows interleaved (each
    ticker's still in month order), gives the same bits as over one chunk in (ticker,
    month) order; and numpy's figures over each ticker's known returns."""
    import numpy as np

    from surgewatch.transforms import horizon_summary

    rows = []
    for t in range(tickers):
        n = data.draw(st.integers(1, 40))
        fwd = data.draw(st.lists(st.none() | st.floats(-0.5, 0.5), min_size=n, max_size=n))
        rows += [(f"T{t}", m, r, None if r is None else min(r, 0.0) - 0.01) for m, r in enumerate(fwd)]
    frame = pl.DataFrame(rows, schema=["ticker", "month", "fwd_1m", "mdd_1m"], orient="row")
    whole = horizon_summary(frame, (1,))
    shuffled = frame.sort("month", "ticker", descending=[False, data.draw(st.booleans())])
    cuts = sorted(data.draw(st.lists(st.integers(0, frame.height), min_size=chunks - 1, max_size=chunks - 1)))
    parts = [shuffled.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, frame.height])]
    assert horizon_summary(pl.concat(parts, rechunk=False), (1,)).equals(whole)
    for row in whole.iter_rows(named=True):
        known = np.array(frame.filter(pl.col("ticker") == row["ticker"])["fwd_1m"].drop_nulls(), float)
        assert row["n"] == len(known)
        if not len(known):
            continue
        assert np.isclose(row["average"], known.mean(), rtol=1e-12, atol=1e-15)
        assert np.isclose(row["median"], np.median(known), rtol=1e-12, atol=1e-15)
        assert row["win_rate"] == (known > 0).mean()
        assert row["max_drawdown"] == known.min() - 0.01 if known.min() < 0 else row["max_drawdown"] == -0.01
        std = known.std()
        if len(known) >= 2 and std > 1e-9:
            assert np.isclose(row["sharpe"], known.mean() / std, rtol=1e-9)
