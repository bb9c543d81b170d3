"""The DuckDB SQL peer gives the engine's numbers (keeps the benchmark honest).

The same ragged seeded universes as the pandas check; no timing here.
"""

import datetime as dt

import polars as pl
import pytest

from benchmarks.duckdb_study import duckdb_study
from benchmarks.equivalence import compare_results
from benchmarks.universe import UniverseShape, generate_universe
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study

RAGGED = UniverseShape(late_listing_share=0.3, delisting_share=0.3, gappy_share=0.3)


@pytest.mark.parametrize(
    "seed, end, threshold",
    [(7, dt.date(2025, 12, 15), 0.10), (13, dt.date(2024, 3, 27), 0.05)],
)
def test_engine_and_duckdb_give_the_same_numbers(seed, end, threshold):
    prices = generate_universe(20, 5, seed=seed, end=end, shape=RAGGED)
    result = run_study(prices, StudyParams(threshold=threshold))
    engine = {name: getattr(result, name) for name in ("monthly", "events", "summary", "baseline")}

    assert compare_results(engine, duckdb_study(prices, threshold)) == []
    assert engine["events"].height > 20 and engine["events"]["fwd_12m"].null_count() > 0


def test_a_month_without_sessions_is_not_bridged():
    prices = generate_universe(1, 3, seed=5).filter(pl.col("date").dt.strftime("%Y-%m") != "2024-06")
    result = run_study(prices, StudyParams())
    engine = {name: getattr(result, name) for name in ("monthly", "events", "summary", "baseline")}
    reference = duckdb_study(prices)
    assert reference["monthly"].filter(pl.col("month") == dt.date(2024, 7, 1))["move"].item() is None
    assert compare_results(engine, reference) == []
