"""A study against a benchmark (SPEC §2d): every forward return is the ticker's less the
benchmark's over the same month-ends; events stay the ticker's own months."""

import dataclasses
import datetime as dt

import polars as pl

import surgewatch.schemas as sc
import surgewatch.transforms as tf
from surgewatch.core.errors import InputError
from surgewatch.core.params import StudyParams
from surgewatch.core.vocabulary import DEFAULT_HORIZONS, forward_column
from surgewatch.schemas import validate
from surgewatch.study.run import StudyResult, run_study


def relative_study(
    prices: pl.DataFrame, benchmark: pl.DataFrame, vs: str, params: StudyParams, as_of: dt.date | None = None
) -> StudyResult:
    """run_study of prices' tickers with fwd_hm = rel_fwd_hm against `benchmark` (vs's
    daily prices): summary, baseline, §2b and §2c figures all follow from them. Every
    horizon of q's family is made relative, so no figure mixes own and relative returns.
    `dropped`: per (ticker, horizon) the events whose own forward return is known but the
    benchmark has none for that month."""
    if vs in set(prices["ticker"].unique().to_list()):
        raise InputError(f"--vs {vs} is a ticker of the study itself: compare with another one")
    family = tuple(sorted(set(DEFAULT_HORIZONS) | set(params.horizons)))
    wide = dataclasses.replace(params, horizons=family)
    own = run_study(prices, wide, as_of)
    theirs = run_study(benchmark, wide, as_of).monthly
    monthly = validate(tf.relative_returns(own.monthly, theirs, family), sc.MonthlyReturns, "monthly_returns")
    events = validate(
        tf.signal_events(monthly, own.prices, params.threshold, params.direction, params.basis),
        sc.SignalEvents,
        "signal_events",
    )
    lost = [
        own.events.join(events, on=["ticker", "month"], suffix="_rel")
        .filter(pl.col(forward_column(h)).is_not_null() & pl.col(f"{forward_column(h)}_rel").is_null())
        .group_by("ticker")
        .agg(horizon=pl.lit(h, pl.Int64), n=pl.len())
        for h in params.horizons
    ]
    return StudyResult(
        params=params,
        prices=own.prices,
        monthly=monthly,
        events=events,
        summary=validate(tf.horizon_summary(events, params.horizons), sc.SignalSummary, "signal_summary"),
        baseline=validate(tf.horizon_summary(monthly, params.horizons), sc.SignalSummary, "baseline"),
        missing_sessions=own.missing_sessions,
        vs=vs,
        dropped=pl.concat(lost),
    )
