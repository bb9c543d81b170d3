"""The study: daily prices → validated month-ends, events, summary, baseline and the
signal-or-noise figures (SPEC §2b).

A library function over the pure transforms, shared by the `study` command, the
refresh flow and the benchmark. Each stage's output is validated: the check runs beside
the stages that read the frame, and a frame that fails it is refused by that check
whatever a later stage made of it; the §2b figures are drawn only from frames that passed.
"""

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import polars as pl

import surgewatch.transforms as tf
import surgewatch.schemas as sc
from surgewatch.schemas import validate
from surgewatch.core.calendar import nyse_sessions
from surgewatch.core.errors import InputError
from surgewatch.core.params import StudyParams
from surgewatch.core.frames import date_span, latest_date, sorted_with_runs

if TYPE_CHECKING:
    from pandera.polars import DataFrameModel


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
        """SPEC §2b, one row per (ticker, horizon): computed on first use unless run_study
        was asked for them, since B resamples per ticker and horizon are the study's
        dearest stage and analogs or check-published never read them."""
        if self.known_stats is not None:
            return self.known_stats
        return _signal_stats(self.monthly, self.events, self.params)

    def as_of(self, ticker: str) -> dt.date | None:
        """The last session of ticker's data the study used."""
        dates = self.prices.filter(pl.col("ticker") == ticker)["date"]
        return latest_date(dates)


def run_study(
    prices: pl.DataFrame, params: StudyParams, as_of: dt.date | None = None, with_stats: bool = False
) -> StudyResult:
    """Run every stage over prices (any number of tickers), ignoring rows after as_of;
    with_stats: the §2b figures too (known_stats), drawn while the summaries are made."""
    if as_of is not None:
        prices = prices.filter(pl.col("date") <= as_of)
    if prices.is_empty():
        raise InputError("no price rows" + (f" on or before {as_of}" if as_of else ""))
    price_column = tf.BASIS_COLUMN[params.basis]
    if prices[price_column].null_count():
        empty = prices.filter(pl.col(price_column).is_null())["ticker"].unique().sort().to_list()
        raise InputError(f"{price_column} is empty for {', '.join(empty)}; use `basis` price")
    # The main line runs the stages that need the one before; what needs only what is known
    # already (checks, missing sessions, summaries) runs beside it on a second thread
    # (polars and numpy hold no GIL while they work).
    with ThreadPoolExecutor(max_workers=2) as beside, _Checks(beside) as checks:
        checks.add(prices, sc.DailyPrices, "prices")  # the rows as given, while their order is found
        prices, runs = sorted_with_runs(prices, "date")
        sessions = nyse_sessions(*date_span(prices["date"]))
        gaps = beside.submit(tf.missing_sessions, prices, sessions, runs)
        month_end = tf.context_fields(tf.month_ends(prices, sessions, params.basis, runs))
        checks.add(month_end, sc.MonthEnd, "month_end")
        monthly = tf.monthly_returns(month_end, params.horizons)
        checks.add(monthly, sc.MonthlyReturns, "monthly_returns")
        ordinary = beside.submit(_summary, monthly, params.horizons, "baseline")
        events = tf.signal_events(monthly, prices, params.threshold, params.direction, params.basis, runs)
        checks.add(events, sc.SignalEvents, "signal_events")
        summary = beside.submit(_summary, events, params.horizons, "signal_summary")
        checks.passed()  # before the dearest stage: it draws only from frames that passed
        stats = _signal_stats(monthly, events, params) if with_stats else None
    return StudyResult(
        params=params,
        prices=prices,
        monthly=monthly,
        events=events,
        summary=summary.result(),
        baseline=ordinary.result(),
        missing_sessions=gaps.result(),
        known_stats=stats,
    )


class _Checks:
    """Each stage's check runs beside the stages that read its frame; what a caller sees
    is the first failing check in stage order (a bad frame refused by name), whatever a
    later stage made of the frame or raised over it."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool, self.pending = pool, list[Future[pl.DataFrame]]()

    def add(self, frame: pl.DataFrame, model: "type[DataFrameModel]", stage: str) -> None:
        self.pending.append(self.pool.submit(validate, frame, model, stage))

    def passed(self) -> None:
        """Wait for the checks so far; raise the first failure."""
        for check in self.pending:
            check.result()

    def __enter__(self) -> "_Checks":
        return self

    def __exit__(self, *raised: object) -> None:
        self.passed()


def _summary(frame: pl.DataFrame, horizons: tuple[int, ...], stage: str) -> pl.DataFrame:
    return validate(tf.horizon_summary(frame, horizons), sc.SignalSummary, stage)


def _signal_stats(monthly: pl.DataFrame, events: pl.DataFrame, params: StudyParams) -> pl.DataFrame:
    stats = tf.signal_stats(monthly, events, params.horizons, params.resamples, params.seed)
    return validate(stats, sc.SignalStats, "signal_stats")
