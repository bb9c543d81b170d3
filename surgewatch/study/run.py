"""The study: daily prices → validated month-ends, events, summary, baseline and the
signal-or-noise figures (SPEC §2b).

A library function over the pure transforms, shared by the `study` command, the
refresh flow and the benchmark. Each stage's output is validated before the next
stage reads it, but for the prices: their check runs beside the first stage, and a
frame that fails it is refused by that check whatever the stage made of it.
"""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

import surgewatch.transforms as tf
import surgewatch.schemas as sc
from surgewatch.schemas import validate
from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.errors import InputError
from surgewatch.core.params import StudyParams
from surgewatch.core.frames import date_span, latest_date, sorted_with_runs


@dataclass(frozen=True)
class StudyResult:
    """Every stage's validated frame, for one or many tickers."""

    params: StudyParams
    prices: pl.DataFrame
    monthly: pl.DataFrame
    events: pl.DataFrame
    summary: pl.DataFrame
    baseline: pl.DataFrame
    missing_sessions: pl.DataFrame = field(repr=False)
    # The §2b figures when they are known already and checked (a night reuses the
    # published ones and checks those it recomputed: study.update.with_stats).
    known_stats: pl.DataFrame | None = field(default=None, repr=False)
    # Against a benchmark (study.relative): its ticker, and per (ticker, horizon) the
    # events it has no month-end for.
    vs: str | None = None
    dropped: pl.DataFrame | None = field(default=None, repr=False)

    @cached_property
    def stats(self) -> pl.DataFrame:
        """SPEC §2b, one row per (ticker, horizon): computed on first use, since B resamples
        per ticker and horizon are the study's dearest stage and analogs or check-published
        never read them."""
        if self.known_stats is not None:
            return self.known_stats
        p = self.params
        stats = tf.signal_stats(self.monthly, self.events, p.horizons, p.resamples, p.seed)
        return validate(stats, sc.SignalStats, "signal_stats")

    def as_of(self, ticker: str) -> dt.date | None:
        """The last session of ticker's data the study used."""
        dates = self.prices.filter(pl.col("ticker") == ticker)["date"]
        return latest_date(dates)


def run_study(prices: pl.DataFrame, params: StudyParams, as_of: dt.date | None = None) -> StudyResult:
    """Run every stage over prices (any number of tickers), ignoring rows after as_of."""
    if as_of is not None:
        prices = prices.filter(pl.col("date") <= as_of)
    if prices.is_empty():
        raise InputError("no price rows" + (f" on or before {as_of}" if as_of else ""))
    price_column = tf.BASIS_COLUMN[params.basis]
    if prices[price_column].null_count():
        empty = prices.filter(pl.col(price_column).is_null())["ticker"].unique().sort().to_list()
        raise InputError(f"{price_column} is empty for {', '.join(empty)}; use `basis` price")
    prices, runs = sorted_with_runs(prices, "date")
    sessions = nyse_sessions(*date_span(prices["date"]))
    # Stages that need only what is already known run beside the main line on a second
    # thread (polars and numpy hold no GIL while they work); the prices' validation still
    # comes first in what a caller sees: a bad frame is refused by name, not by a later stage.
    with ThreadPoolExecutor(max_workers=2) as beside:
        checked = beside.submit(validate, prices, sc.DailyPrices, "prices")
        gaps = beside.submit(tf.missing_sessions, prices, sessions, runs)
        try:
            month_end = tf.context_fields(tf.month_ends(prices, sessions, params.basis, runs))
        finally:
            checked.result()
        month_end = validate(month_end, sc.MonthEnd, "month_end")
        monthly = validate(tf.monthly_returns(month_end, params.horizons), sc.MonthlyReturns, "monthly_returns")
        ordinary = beside.submit(
            lambda: validate(tf.horizon_summary(monthly, params.horizons), sc.SignalSummary, "baseline")
        )
        events = validate(
            tf.signal_events(monthly, prices, params.threshold, params.direction, params.basis, runs),
            sc.SignalEvents,
            "signal_events",
        )
        summary = validate(tf.horizon_summary(events, params.horizons), sc.SignalSummary, "signal_summary")
        return StudyResult(
            params=params,
            prices=prices,
            monthly=monthly,
            events=events,
            summary=summary,
            baseline=ordinary.result(),
            missing_sessions=gaps.result(),
        )
