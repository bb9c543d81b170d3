"""Incremental equals full: after any sequence of nights, every published table equals
one full recomputation over the stored prices (SPEC §4b).

Seeded random cases through the real flow (Prefect's harness, the fake Yahoo server): a
small ragged universe (late listings, delistings, gaps inside the data) and a random
sequence of nights — one session on (mid-month, the night a month completes, the first
night of a month), several sessions on, a provider restating a ticker's history (a
split), a ticker added, a rewind and a `--full` run.
"""

import datetime as dt
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks.universe import UniverseShape, generate_universe
from surgewatch.flows.refresh import refresh
from surgewatch.core.params import StudyParams
from surgewatch.study.run import run_study
from surgewatch.core.tables import MONTH_END, SIGNAL_EVENTS, SIGNAL_STATS, SIGNAL_SUMMARY
from tests.flows.conftest import query

RAGGED = UniverseShape(late_listing_share=0.3, delisting_share=0.2, gappy_share=0.4, gaps_per_gappy_ticker=8)
# Two plain nights cross a month end, then one of every other kind, in the seed's order.
KINDS = ("several", "restate", "add", "rewind", "full")


def _universe(seed: int) -> dict[str, pl.DataFrame]:
    frame = generate_universe(6, 3, seed=seed, shape=RAGGED)
    return {t: f.drop("ticker") for (t,), f in frame.partition_by("ticker", as_dict=True, maintain_order=True).items()}


def _published() -> dict[str, pl.DataFrame]:
    return {
        "month_end": query("SELECT * FROM month_end ORDER BY ticker, month"),
        "signal_events": query("SELECT * FROM signal_events ORDER BY ticker, month"),
        "signal_summary": query("SELECT * FROM signal_summary ORDER BY ticker, kind, horizon"),
        "signal_stats": query("SELECT * FROM signal_stats ORDER BY ticker, horizon"),
    }


def _recomputed() -> dict[str, pl.DataFrame]:
    study = run_study(query("SELECT * FROM prices_daily ORDER BY ticker, date"), StudyParams())
    summaries = pl.concat(
        [study.summary.with_columns(kind=pl.lit("events")), study.baseline.with_columns(kind=pl.lit("baseline"))],
        how="diagonal_relaxed",
    )
    return {
        "month_end": study.monthly,
        "signal_events": study.events,
        "signal_summary": summaries.sort("ticker", "kind", "horizon"),
        "signal_stats": study.stats,
    }


def _assert_published_equals_full(label: str) -> None:
    shapes = {"month_end": MONTH_END, "signal_events": SIGNAL_EVENTS, "signal_summary": SIGNAL_SUMMARY}
    shapes["signal_stats"] = SIGNAL_STATS
    published, full = _published(), _recomputed()
    for table, frame in full.items():
        columns = [c for c in shapes[table].names() if c in frame.columns]
        stored = published[table].select(columns).cast({c: shapes[table][c] for c in columns})
        mine = frame.select(columns).cast({c: shapes[table][c] for c in columns})
        try:
            assert_frame_equal(stored, mine, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"after {label}: {table} differs from a full recomputation: {exc}") from None


def _restated(bars: pl.DataFrame, before: dt.date) -> pl.DataFrame:
    """A 2:1 split the provider now reflects: every price before the ex-date halved."""
    half = pl.col("date") < before
    return bars.with_columns(
        *(pl.when(half).then(pl.col(c) / 2).otherwise(pl.col(c)) for c in ("open", "high", "low", "close", "adj_close"))
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11])  # one sequence of every kind here; tests/study/test_update.py draws many nights
def test_every_sequence_of_nights_publishes_what_a_full_recomputation_gives(env, seed):
    rng = random.Random(seed)
    bars = _universe(seed)
    for symbol, frame in bars.items():
        env.add_prices(symbol, frame)
    sessions = sorted(set().union(*(set(f["date"].to_list()) for f in bars.values())))
    names = sorted(bars)
    tickers = names[:4]
    # Start a few sessions before a month's end, so the nights cross into a new month.
    ends = [i for i in range(len(sessions) - 1) if sessions[i].month != sessions[i + 1].month]
    at = ends[-3] - 3
    refresh(tickers=tickers, as_of=sessions[at])
    _assert_published_equals_full(f"the first load as of {sessions[at]}")
    for step, kind in enumerate(["next", "next", *rng.sample(KINDS, len(KINDS))]):
        rewind = full = False
        if kind == "several":
            at += rng.randint(2, 9)
        elif kind == "restate":
            symbol = rng.choice(tickers)
            bars[symbol] = _restated(bars[symbol], sessions[at - rng.randint(1, 3)])
            env.add_prices(symbol, bars[symbol])
            at += 1
        elif kind == "add" and len(tickers) < len(names):
            tickers = [*tickers, names[len(tickers)]]
        elif kind == "rewind":
            at -= rng.randint(1, 12)
            rewind = True
        elif kind == "full":
            full = True
        else:
            at += 1
        at = min(at, len(sessions) - 1)
        report = refresh(tickers=tickers, as_of=sessions[at], full=full, rewind=rewind)
        assert report.status in ("published", "partial"), report.message
        _assert_published_equals_full(f"night {step + 1} ({kind}, as of {sessions[at]})")
