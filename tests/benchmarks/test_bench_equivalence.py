"""The pandas reference and the engine give the same numbers (keeps the benchmark honest).

Small seeded universes (a few seconds in all), ragged on purpose: late listings,
delistings mid-month (partial months, provisional events), missing sessions, a data
end mid-month. No timing here: benchmarks/bench_study.py does that.
"""

import datetime as dt

import polars as pl
import pytest

from benchmarks.equivalence import compare_results
from benchmarks.pandas_study import nyse_last_sessions, pandas_study, to_polars
from benchmarks.universe import UniverseShape, generate_universe
from surgewatch.schemas import DailyPrices, validate
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study

RAGGED = UniverseShape(late_listing_share=0.3, delisting_share=0.3, gappy_share=0.3)


def _both(prices: pl.DataFrame, params: StudyParams):
    result = run_study(prices, params)
    engine = {name: getattr(result, name) for name in ("monthly", "events", "summary", "baseline")}
    last_sessions = nyse_last_sessions(prices["date"].min(), prices["date"].max())
    reference = pandas_study(
        prices.to_pandas(), last_sessions, params.threshold, params.direction, params.horizons, params.basis
    )
    return engine, to_polars(reference)


@pytest.mark.parametrize(
    "seed, end, params",
    [
        (7, dt.date(2025, 12, 15), StudyParams()),  # the benchmark's study, data ending mid-month
        (11, dt.date(2025, 12, 31), StudyParams(threshold=0.08, direction="down", horizons=(1, 2, 6))),
        (13, dt.date(2024, 3, 27), StudyParams(threshold=0.05, basis="total")),
    ],
)
def test_engine_and_pandas_give_the_same_numbers(seed, end, params):
    prices = generate_universe(20, 5, seed=seed, end=end, shape=RAGGED)
    engine, reference = _both(prices, params)

    assert compare_results(engine, reference) == []
    # The universe exercised what it is meant to: events, and forward windows cut short.
    events = engine["events"]
    assert events.height > 20
    assert events["fwd_12m" if 12 in params.horizons else "fwd_6m"].null_count() > 0
    assert engine["monthly"]["complete"].sum() < engine["monthly"].height


def test_ragged_universe_has_partial_months_and_missing_sessions():
    prices = generate_universe(20, 5, seed=7, end=dt.date(2025, 12, 15), shape=RAGGED)
    result = run_study(prices, StudyParams())
    assert (~result.events["complete"]).sum() >= 1  # a provisional event
    assert result.missing_sessions.height > 0
    spans = prices.group_by("ticker").agg(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
    assert spans["first"].n_unique() > 1 and spans["last"].n_unique() > 1


def test_universe_is_seeded_and_satisfies_the_prices_schema():
    a = generate_universe(5, 2, seed=1)
    assert a.equals(generate_universe(5, 2, seed=1))
    assert not a.equals(generate_universe(5, 2, seed=2))
    validate(a, DailyPrices, "prices")  # raises ValidationFailed otherwise
    assert a.equals(a.sort("ticker", "date"))
    assert not a.select("ticker", "date").is_duplicated().any()


def test_the_comparison_catches_a_difference():
    prices = generate_universe(5, 3, seed=3)
    engine, reference = _both(prices, StudyParams())
    reference["events"] = reference["events"].with_columns(pl.col("prior_drawdown") * (1 + 1e-8))
    reference["baseline"] = reference["baseline"].head(reference["baseline"].height - 1)
    problems = compare_results(engine, reference)
    assert any(p.startswith("events.prior_drawdown") for p in problems)
    assert any(p.startswith("baseline: 1 rows only in engine") for p in problems)


def test_a_month_without_sessions_is_not_bridged():
    prices = generate_universe(1, 2, seed=5)
    gap = prices.filter(pl.col("date").dt.strftime("%Y-%m") != "2024-06")  # no row in June 2024
    engine, reference = _both(gap, StudyParams())
    july = pl.col("month") == dt.date(2024, 7, 1)
    assert reference["monthly"].filter(july)["move"].item() is None  # C[June] does not exist
    assert compare_results(engine, reference) == []
