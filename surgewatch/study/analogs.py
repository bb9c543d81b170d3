"""Analogs of a month (SPEC §2c): the past events nearest to it, what followed them,
and how that compares with every past event."""

import datetime as dt
from dataclasses import dataclass

import polars as pl

import surgewatch.transforms as tf
from surgewatch.core.errors import InputError
from surgewatch.schemas import SignalSummary, validate
from surgewatch.study.run import StudyResult
from surgewatch.transforms.distances import FEATURES, Analogs, comparable_months, nearest_analogs
from surgewatch.core.frames import date_span, latest_date


@dataclass(frozen=True)
class AnalogsResult:
    ticker: str
    target: dict
    """The target month's row of the study's monthly frame."""
    found: Analogs
    summary: pl.DataFrame
    summary_all: pl.DataFrame
    horizons: tuple[int, ...]
    features: tuple[str, ...]
    latest_event: dt.date | None
    """The ticker's latest event month up to the target's (the target's own when it is one)."""

    @property
    def target_is_event(self) -> bool:
        return self.latest_event == self.target["month"]


def find_analogs(
    result: StudyResult,
    ticker: str,
    month: dt.date | None,
    top: int,
    universe: bool,
    features: tuple[str, ...] = FEATURES,
) -> AnalogsResult:
    """The `top` past months nearest to ticker's month (default: its latest month, complete
    or not) on `features`; candidates are comparable_months before that month, of ticker
    only unless universe (then every ticker in the study)."""
    months = result.monthly.filter(pl.col("ticker") == ticker)
    target_month = month or latest_date(months["month"])
    target = months.filter(pl.col("month") == target_month)
    if target.is_empty():
        first, last = date_span(months["month"])
        span = f"{first:%Y-%m} to {last:%Y-%m}"
        raise InputError(f"`month` {target_month:%Y-%m} is not in {ticker}'s data (it runs {span})")
    row = target.row(0, named=True)
    p = result.params
    value = tf.BASIS_COLUMN[p.basis]
    comparable = comparable_months(result.events, result.prices, result.monthly, row, p.threshold, p.direction, value)
    earlier = comparable.filter(pl.col("month") < target_month)
    candidates = earlier if universe else earlier.filter(pl.col("ticker") == ticker)
    found = nearest_analogs(row, candidates, top, features)
    horizons = result.params.horizons
    past = result.events.filter((pl.col("ticker") == ticker) & (pl.col("month") <= target_month))["month"]

    def pooled_summary(frame: pl.DataFrame, label: str) -> pl.DataFrame:
        # One pooled summary over every ticker's rows: horizon_summary groups by ticker.
        pooled = frame.with_columns(ticker=pl.lit(label))
        return validate(tf.horizon_summary(pooled, horizons), SignalSummary, label)

    return AnalogsResult(
        ticker=ticker,
        target=target.row(0, named=True),
        found=found,
        summary=pooled_summary(found.nearest, "analogs"),
        summary_all=pooled_summary(found.candidates, "all candidates"),
        horizons=horizons,
        features=features,
        latest_event=past.max() if len(past) else None,  # type: ignore[arg-type]
    )
